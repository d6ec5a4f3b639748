import { UsageError } from '../errors.js';
import { censorText, censorValue } from '../util/censor.js';
import { COMMANDS } from './catalogue.js';
import type { CliEnv, Outcome } from './kit.js';
import { parseProgram } from './program.js';

export type { CliEnv, CommandSpec, Outcome } from './kit.js';
export { COMMANDS } from './catalogue.js';

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
