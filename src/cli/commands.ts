import type { CliEnv, CommandSpec, Outcome } from './kit.js';
import { parseCommandLine } from './args.js';
import { mcpCommands } from './commands/mcp.js';
import { backupsCommands } from './commands/backups.js';
import { UsageError } from '../errors.js';
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
  ...backupsCommands,
  ...mcpCommands(invoke),
];

export function findCommand(positionals: readonly string[]): { spec: CommandSpec; rest: string[] } | undefined {
  const spec = COMMANDS.filter((c) => c.words.every((w, i) => positionals[i] === w)).sort(
    (a, b) => b.words.length - a.words.length,
  )[0];
  return spec ? { spec, rest: positionals.slice(spec.words.length) } : undefined;
}

/** Runs one command in-process, as the CLI would (for the MCP server's tools); throws as the CLI's commands do. */
export async function invoke(cli: CliEnv, argv: string[]): Promise<Outcome> {
  const args = parseCommandLine(argv, cli.env);
  const found = findCommand(args.command);
  if (!found) throw new UsageError({ where: 'command line', message: `unknown command "${args.command.join(' ')}"` });
  return found.spec.handler({ ...cli, args });
}
