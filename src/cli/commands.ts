import type { CliEnv, CommandSpec, Outcome } from './kit.js';
import { parseProgram } from './program.js';
import { mcpCommands } from './commands/mcp.js';
import { backupsCommands } from './commands/backups.js';
import { UsageError } from '../errors.js';
import { censorText, censorValue } from '../util/censor.js';
import { configCommands } from './commands/config.js';
import { leaderCommands } from './commands/leader.js';
import { restoreCommands } from './commands/restore.js';
import { runCommands } from './commands/run.js';
import { setupCommands } from './commands/setup.js';
import { doctorCommands } from './commands/doctor.js';
import { statusCommands } from './commands/status.js';

export type { CliEnv, CommandSpec, Outcome } from './kit.js';

/** Every command, by family; each family's file holds its specs and handlers. */
export const COMMANDS: CommandSpec[] = [
  ...runCommands,
  ...statusCommands,
  ...leaderCommands,
  ...doctorCommands,
  ...setupCommands,
  ...configCommands,
  ...restoreCommands,
  ...backupsCommands,
  ...mcpCommands(invoke),
];

/** Runs one command in-process, as the CLI would (for the MCP server's tools); throws as the CLI's commands do. */
export async function invoke(cli: CliEnv, argv: string[]): Promise<Outcome> {
  const parsed = parseProgram(argv, COMMANDS, cli.env);
  if (parsed.kind === 'text')
    throw new UsageError({ where: 'command line', message: `no command in "${argv.join(' ')}"` });
  return censorOutcome(await parsed.spec.handler({ ...cli, args: parsed.args }));
}

/** What a command shows, through the one secret matcher (util/censor.ts): for the terminal, --json and MCP. */
export function censorOutcome(o: Outcome): Outcome {
  return { exitCode: o.exitCode, doc: censorValue(o.doc), lines: o.lines.map((l) => censorText(l)) };
}
