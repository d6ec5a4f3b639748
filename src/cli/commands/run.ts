import { findGitDir, localStateDir } from '../../sharedState/localState.js';
import path from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { unlinkIfPresent, writeFileAtomic } from '../../util/fs.js';
import { DAEMON_DEATH_FILE } from '../../coordinator/daemon.js';
import { packageVersion } from '../../util/version.js';
import { runDaemon } from '../../coordinator/daemon.js';
import { selectTasks } from '../../tasks/registry.js';
import { tick } from '../../coordinator/tick.js';
import { loadAllCode } from '../preload.js';
import { ttyProgress } from '../progress.js';
import { renderTasks, renderTotals, roleOf } from '../render.js';
import { keptAsCounts } from '../../report/taskResult.js';

import {
  identityOf,
  loadForRun,
  requireWritable,
  sessionFor,
  type CliEnv,
  type Handler,
  type Outcome,
} from '../kit.js';

/** Running: one tick, the daemon, the demo. */

async function runCommand(cli: CliEnv): Promise<Outcome> {
  const { global } = cli.args;
  const { identity, config, machine, invalid, reload } = await loadForRun(cli);
  // never had a valid config and no sync could bring one: nothing to gain by running (exit 2, nothing done)
  if (invalid?.using === 'defaults' && global.noSync) throw invalid.error;
  if (!global.dryRun) requireWritable(identity.sharedState.value);
  const names = cli.args.tasks.length > 0 ? selectTasks(cli.args.tasks) : undefined;
  const r = await tick({
    ...machine,
    ...(invalid && { configInvalid: invalid }),
    reloadConfig: reload,
    tasks: names,
    dryRun: global.dryRun,
    noSync: global.noSync,
    leaderFlag: global.leader,
    wait: cli.args.wait,
    progress: ttyProgress(global),
    version: packageVersion(),
    ...(cli.env.ROOSYNC_MAINT_FAULT && { fault: cli.env.ROOSYNC_MAINT_FAULT }),
  });
  const failed =
    r.tasks.some((t) => t.status === 'failed') || (r.unwritten?.length ?? 0) > 0 || r.configInvalid !== undefined;
  const head =
    `roosync-maint run on ${identity.machineId.value}${global.dryRun ? ' (dry run)' : ''} — shared ` +
    `state ${identity.sharedState.value}`;
  const sync = global.noSync
    ? 'no sync'
    : r.offline
      ? `OFFLINE: ${r.offlineReason}`
      : r.pushed
        ? `pushed${r.pushRetries ? ` after ${r.pushRetries} lost races` : ''}`
        : r.committed
          ? 'not pushed'
          : 'nothing new: no commit, no push';
  return {
    exitCode: failed ? 1 : 0,
    doc: {
      command: 'run',
      ok: !failed,
      sharedState: identity.sharedState.value,
      ...r,
      tasks: cli.args.listKept ? r.tasks : r.tasks.map(keptAsCounts),
    },
    lines: [
      head,
      `${roleOf(r.leader)}: ${r.leader.reason} — ${sync}`,
      ...(r.schedule
        ? [
            `due: ${
              r.schedule
                .filter((d) => d.due)
                .map((d) => d.task)
                .join(', ') || 'nothing'
            }`,
          ]
        : []),
      ...r.notes.map((n) => `note: ${n}`),
      ...config.skipped.map((s) => `note: ${s.where}: ${s.message}`),
      ...renderTasks(r.tasks, ['info', 'debug', 'trace'].includes(global.logLevel)),
      renderTotals(r.tasks, global.dryRun),
    ],
    errorLines: [
      ...(r.configInvalid ? [`config: ${r.configInvalid}`] : []),
      ...(r.unwritten ?? []).map((u) => `not written: ${u}`),
      ...renderTasks(
        r.tasks.filter((t) => t.status === 'failed'),
        false,
      ),
    ],
  };
}

/** The file `daemon --stop` writes and a running daemon looks for: a stop request that works on every OS. */
const STOP_FILE = 'daemon.stop';

async function daemonCommand(cli: CliEnv): Promise<Outcome> {
  if (cli.args.stop) return askDaemonToStop(cli);
  const { identity, config, invalid } = await loadForRun(cli);
  if (invalid) cli.log.error({ problems: invalid.problems, using: invalid.using }, 'the config is invalid');
  const shared = identity.sharedState.value;
  requireWritable(shared);
  const session = await sessionFor(cli, identity, config);
  const { stateDir } = session;
  const only = await session.lockDaemon();
  const deathFile = path.join(stateDir, DAEMON_DEATH_FILE);
  unlinkIfPresent(deathFile);
  // a fault that escapes every tick's guard ends the daemon: said in the log and kept for status and doctor
  const died = (err: unknown) => {
    const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    cli.log.fatal({ err: error }, 'the daemon died');
    try {
      writeFileAtomic(deathFile, JSON.stringify({ at: new Date().toISOString(), pid: process.pid, error }, null, 2));
    } finally {
      process.exit(1);
    }
  };
  process.on('uncaughtException', died);
  process.on('unhandledRejection', died);
  // SIGINT/SIGTERM where the OS has them; on Windows (no SIGTERM, no SIGHUP) `daemon --stop` writes a stop file
  const stopFile = path.join(stateDir, STOP_FILE);
  unlinkIfPresent(stopFile);
  let poll: NodeJS.Timeout | undefined;
  const stopSignal = new Promise<string>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve(sig));
    poll = setInterval(() => existsSync(stopFile) && resolve('daemon --stop'), 1000);
    poll.unref();
  });
  const onReload = (reload: () => void) => process.on('SIGHUP', reload);
  await loadAllCode();
  cli.log.info({ machine: identity.machineId.value, sharedState: shared }, 'daemon started');
  try {
    const stats = await runDaemon({
      stateDir,
      sharedState: shared,
      machineId: identity.machineId.value,
      configFile: identity.configPath.value,
      config,
      env: cli.env,
      log: cli.log,
      clock: cli.now,
      noSync: cli.args.global.noSync,
      leaderFlag: cli.args.global.leader,
      version: packageVersion(),
      stopSignal,
      onReload,
    });
    cli.log.flush();
    return {
      exitCode: 0,
      doc: { command: 'daemon', ...stats },
      lines: [`daemon stopped after ${stats.ticks} ticks${stats.released ? '; lease released' : ''}`],
    };
  } finally {
    clearInterval(poll);
    unlinkIfPresent(stopFile);
    process.removeAllListeners('SIGHUP');
    await only.release();
  }
}

/** `daemon --stop`: leaves the stop request where this machine's daemon looks for it; it stops after its tick. */
async function askDaemonToStop(cli: CliEnv): Promise<Outcome> {
  const identity = identityOf(cli);
  const shared = identity.sharedState.value;
  const stateDir = localStateDir(shared, findGitDir(shared), cli.env);
  const file = path.join(stateDir, STOP_FILE);
  if (!cli.args.global.dryRun) {
    mkdirSync(stateDir, { recursive: true });
    writeFileAtomic(file, `${JSON.stringify({ at: new Date(cli.now()).toISOString(), by: process.pid })}\n`);
  }
  return {
    exitCode: 0,
    doc: { command: 'daemon --stop', requested: !cli.args.global.dryRun, file },
    lines: [`asked the daemon of ${shared} to stop (it checks every second; it finishes its tick in flight first)`],
  };
}

async function demoCommand(cli: CliEnv): Promise<Outcome> {
  const { runDemo } = await import('../../demo/demo.js');
  return runDemo({ keep: cli.args.keep, log: cli.log, now: cli.now(), env: cli.env });
}

/** The run family's handlers, by command words (the specs are in cli/catalogue.ts). */
export const handlers: Record<string, Handler> = {
  run: runCommand,
  daemon: daemonCommand,
  demo: demoCommand,
};
