import { UsageError } from '../errors.js';
import { probeWritable } from '../util/fs.js';
import type { MachineContext } from '../coordinator/machine.js';
import type { DeferredLogFile, Logger } from '../log.js';
import path from 'node:path';
import {
  configLayersFor,
  findGitDir,
  localLogFile,
  localStateDir,
  rotateStderrLogs,
} from '../sharedState/localState.js';
import { loadGuarded } from '../coordinator/configGuard.js';
import { type CloneSession, type MachineSession, openCloneSession, openSession } from '../coordinator/session.js';
import { resolveIdentity, type Identity } from '../sharedState/identity.js';
import { loadResolvedConfig, type ResolvedConfig } from '../config/load.js';
import { defaultExpandContext } from '../config/paths.js';
import type { CommandOptionName, ParsedArgs } from './args.js';

export interface CliEnv {
  args: ParsedArgs;
  env: NodeJS.ProcessEnv;
  cwd: string;
  log: Logger;
  now: () => number;
  /** The local JSON log, opened once the shared state is known. */
  logFile?: DeferredLogFile;
}

/** What a command produced: the exit code, the one JSON document for --json, the lines for a person. */
export interface Outcome {
  exitCode: number;
  doc: Record<string, unknown>;
  lines: string[];
  /** What `-q` prints when the command failed (default: every line); a success prints nothing with `-q`. */
  errorLines?: string[];
}

export interface CommandSpec {
  words: string[];
  usage: string;
  summary: string;
  /** The operand after the words, as commander writes it (`<target>` required, `[file]` optional), and what it is. */
  operand?: { name: string; description: string };
  /** More than one operand, in order (`rollout start <component> <ref>`). */
  operands?: { name: string; description: string }[];
  /** The command-scoped options it takes; any other is a usage error. */
  options?: CommandOptionName[];
  /** At least one command line a person would type, shown by `<command> --help`. */
  examples: string[];
  /** More for `<command> --help` (run: the tasks and groups). */
  details?: () => string[];
  handler: Handler;
}

export type Handler = (cli: CliEnv) => Promise<Outcome>;

export function identityOf(cli: CliEnv): Identity {
  const identity = resolveIdentity({
    sharedStateFlag: cli.args.global.sharedState,
    machineFlag: cli.args.global.machine,
    configFlag: cli.args.global.config,
    machineConfigFlag: cli.args.global.machineConfig,
    env: cli.env,
    cwd: cli.cwd,
  });
  if (!cli.args.global.dryRun && cli.logFile && !cli.logFile.file) {
    const file = localLogFile(identity.sharedState.value, cli.env);
    cli.logFile.attach(file);
    rotateStderrLogs(path.dirname(file));
  }
  return identity;
}

/** A run that would write to a read-only shared state stops before it starts, in one line (exit 2). */
export function requireWritable(sharedState: string): void {
  const problem = probeWritable(sharedState);
  if (problem)
    throw new UsageError({
      where: sharedState,
      message: `the shared state is not writable (${problem.code})`,
      hint: 'give this user write access (owner, permissions, a read-only mount, a full disk); --dry-run only reads',
    });
}

/**
 * The same for a run or the daemon: a broken fleet config does not stop the machine (it would never sync
 * the fix): the last valid one, or the defaults with no task, and what is wrong (coordinator/configGuard.ts).
 */
export async function loadForRun(cli: CliEnv) {
  const identity = identityOf(cli);
  const sharedState = identity.sharedState.value;
  const stateDir = localStateDir(sharedState, findGitDir(sharedState), cli.env);
  const file = identity.configPath.value;
  const ctx = defaultExpandContext(cli.env);
  const layers = configLayersFor(sharedState, identity.machineConfig.value, cli.env);
  const guarded = await loadGuarded(file, sharedState, stateDir, ctx, layers);
  const machineId = identity.machineId.value;
  const config = guarded.config;
  return {
    identity,
    config,
    invalid: guarded.invalid,
    reload: () => loadGuarded(file, sharedState, stateDir, ctx, layers),
    machine: { sharedState, machineId, config, env: cli.env, log: cli.log, clock: cli.now } as MachineContext,
  };
}

/** This machine's session on the shared state (coordinator/session.ts); `--no-sync` leaves the clone closed. */
export function sessionFor(
  cli: CliEnv,
  identity: Identity,
  config: ResolvedConfig,
  noSync = cli.args.global.noSync,
): Promise<MachineSession> {
  const sharedState = identity.sharedState.value;
  const machineId = identity.machineId.value;
  return openSession({ sharedState, machineId, git: config.config.git, env: cli.env, noSync });
}

/** The same on a clone, or a usage error saying why the command needs one (`what` completes "there is …"). */
export function cloneSessionFor(
  cli: CliEnv,
  identity: Identity,
  config: ResolvedConfig,
  what: string,
  hint?: string,
): Promise<CloneSession> {
  const sharedState = identity.sharedState.value;
  const machineId = identity.machineId.value;
  return openCloneSession({ sharedState, machineId, git: config.config.git, env: cli.env }, what, hint);
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
    configLayersFor(identity.sharedState.value, identity.machineConfig.value, cli.env),
  );
  const sharedState = identity.sharedState.value;
  const machineId = identity.machineId.value;
  return { identity, config, machine: { sharedState, machineId, config, env: cli.env, log: cli.log, clock: cli.now } };
}
