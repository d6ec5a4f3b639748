import type { CommandSpec } from './kit.js';
import { configCommands } from './commands/config.js';
import { leaderCommands } from './commands/leader.js';
import { restoreCommands } from './commands/restore.js';
import { runCommands } from './commands/run.js';
import { setupCommands } from './commands/setup.js';
import { statusCommands } from './commands/status.js';

export type { CliEnv, CommandSpec, Outcome } from './kit.js';

/** Every command, by family; each family's file holds its specs and handlers. */
export const COMMANDS: CommandSpec[] = [
  ...runCommands,
  ...statusCommands,
  ...leaderCommands,
  ...setupCommands,
  ...configCommands,
  ...restoreCommands,
];

export function findCommand(positionals: readonly string[]): { spec: CommandSpec; rest: string[] } | undefined {
  const spec = COMMANDS.filter((c) => c.words.every((w, i) => positionals[i] === w)).sort(
    (a, b) => b.words.length - a.words.length,
  )[0];
  return spec ? { spec, rest: positionals.slice(spec.words.length) } : undefined;
}
