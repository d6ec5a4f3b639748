import { formatTime } from '../util/format.js';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { checkQuiet } from '../coordinator/quiet.js';
import { resolveIdentity } from '../sharedState/identity.js';
import { packageVersion } from '../util/version.js';
import type { ParsedArgs } from './args.js';
import type { Outcome } from './kit.js';
import { roleOf } from './role.js';

/** A plain scheduled `run` (no task named, no dry run, synced): the only kind of run that may be quiet. */
export function mayBeQuiet(args: ParsedArgs, env: NodeJS.ProcessEnv): boolean {
  const { global } = args;
  const plain = args.command.length === 1 && args.command[0] === 'run' && args.tasks.length === 0;
  return plain && !global.dryRun && !global.noSync && !env.ROOSYNC_MAINT_FAULT;
}

/**
 * The quiet tick's line in the run log, in the logger's own shape (the logger itself is not loaded for it); a log
 * that cannot be written loses the line, never the tick.
 */
function logQuietTick(stateDir: string, msg: string, now: number): void {
  const at = new Date(now).toISOString();
  const line = {
    level: 30,
    time: new Date().toISOString(),
    pid: process.pid,
    name: 'roosync-maint',
    tick: { at },
    msg,
  };
  try {
    // LOCAL_LOGS.runs of sharedState/localState.ts, named here so that the quiet path loads no logger
    appendFileSync(path.join(stateDir, 'roosync-maint.log'), `${JSON.stringify(line)}\n`);
  } catch {
    // no log folder yet: the full ticks make it
  }
}

/**
 * The quiet tick, answered before the logger, the config schema or git libraries are loaded; or
 * `undefined` when the full tick must run (any doubt included).
 */
export async function quietRun(args: ParsedArgs, env: NodeJS.ProcessEnv, cwd: string, now: number) {
  let identity: ReturnType<typeof resolveIdentity>;
  try {
    identity = resolveIdentity({
      sharedStateFlag: args.global.sharedState,
      machineFlag: args.global.machine,
      configFlag: args.global.config,
      machineConfigFlag: args.global.machineConfig,
      env,
      cwd,
    });
  } catch {
    return undefined; // the full run reports it properly
  }
  const sharedState = identity.sharedState.value;
  const machine = identity.machineId.value;
  const check = await checkQuiet({
    sharedState,
    machineId: machine,
    configFile: identity.configPath.value,
    machineConfigFile: identity.machineConfig.value,
    version: packageVersion(),
    now,
  });
  if (!check.quiet) return undefined;
  const { record } = check;
  const next = `nothing due until ${formatTime(record.until)} (${record.untilReason})`;
  logQuietTick(check.stateDir, `tick ${machine}: quiet, ${next}`, now);
  const outcome: Outcome = {
    exitCode: 0,
    doc: {
      command: 'run',
      ok: true,
      sharedState,
      machine,
      dryRun: false,
      offline: false,
      quiet: true,
      leader: record.leader,
      tasks: [],
      committed: false,
      pushed: false,
      pushRetries: 0,
      notes: [`quiet tick: ${next}; nothing changed since the last tick`],
      nextDueAt: new Date(record.until).toISOString(),
    },
    lines: [
      `roosync-maint run on ${machine} — shared state ${sharedState}`,
      `${roleOf(record.leader)}: ${record.leader.reason} — quiet tick: nothing new on the remote or in the shared state`,
      `due: ${next}`,
    ],
  };
  return outcome;
}
