import type { MachineContext } from '../coordinator/machine.js';
import type { Logger } from '../log.js';
import { resolveIdentity, type Identity } from '../sharedState/identity.js';
import { loadResolvedConfig, type ResolvedConfig } from '../config/load.js';
import { defaultExpandContext } from '../config/paths.js';
import type { ParsedArgs } from './args.js';

export interface CliEnv {
  args: ParsedArgs;
  env: NodeJS.ProcessEnv;
  cwd: string;
  log: Logger;
  now: () => number;
}

/** What a command produced: the exit code, the one JSON document for --json, the lines for a person. */
export interface Outcome {
  exitCode: number;
  doc: Record<string, unknown>;
  lines: string[];
}

export interface CommandSpec {
  words: string[];
  usage: string;
  summary: string;
  /** How many operands may follow the command's words (`restore <id>`: 1). */
  maxOperands?: number;
  handler: (cli: CliEnv) => Promise<Outcome>;
}

export function identityOf(cli: CliEnv): Identity {
  return resolveIdentity({
    sharedStateFlag: cli.args.global.sharedState,
    machineFlag: cli.args.global.machine,
    configFlag: cli.args.global.config,
    env: cli.env,
    cwd: cli.cwd,
  });
}

/** This machine's identity and config, and the context the coordinator acts with. */
export async function load(
  cli: CliEnv,
): Promise<{ identity: Identity; config: ResolvedConfig; machine: MachineContext }> {
  const identity = identityOf(cli);
  // paths expand with this invocation's environment (the process's, or the one a test or the MCP server gives)
  const config = await loadResolvedConfig(
    identity.configPath.value,
    identity.sharedState.value,
    defaultExpandContext(cli.env),
  );
  const sharedState = identity.sharedState.value;
  const machineId = identity.machineId.value;
  return { identity, config, machine: { sharedState, machineId, config, env: cli.env, log: cli.log, clock: cli.now } };
}
