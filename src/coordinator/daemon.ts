import { defaultExpandContext } from '../config/paths.js';
import { deliverAlerts } from '../alerts/deliver.js';
import { checkConfig } from '../health/checks.js';
import type { MachineContext } from './machine.js';
import { MINUTE_MS } from '../util/time.js';
import path from 'node:path';
import { UsageError, errorMessage, formatProblem } from '../errors.js';
import type { Logger } from '../log.js';
import { loadResolvedConfig, type ResolvedConfig } from '../config/load.js';
import { LEASE_FILE } from '../election/lease.js';
import { readLeaseFile } from '../election/lease.js';
import { noProgress } from '../tasks/types.js';
import { releaseLease } from './leader.js';
import { tick, type TickResult } from './tick.js';
import { nextOnPhase, phaseOffsetMs } from './phase.js';
import { checkQuiet } from './quiet.js';

export interface DaemonOptions {
  sharedState: string;
  machineId: string;
  configFile: string;
  config: ResolvedConfig;
  env: NodeJS.ProcessEnv;
  log: Logger;
  clock: () => number;
  noSync: boolean;
  leaderFlag: boolean;
  version: string;
  /** This machine's local state folder (alert state lives there). */
  stateDir: string;
  /** Resolves when the daemon should stop (SIGINT/SIGTERM in the CLI). */
  stopSignal: Promise<string>;
  /** Subscribes to reload requests (SIGHUP in the CLI): the config is read again after the tick in flight. */
  onReload?: (reload: () => void) => void;
}

/**
 * The long-running coordinator: a tick now, then one every `schedule.tickMinutes`, each at this
 * machine's own offset within the interval (a hash of its id), so a fleet does not tick together. The config is watched and
 * reloaded (an invalid edit keeps the running config and is logged as an error); the lease is
 * watched so a released lease is taken at the next tick instead of a full interval later. On
 * stop, the tick in flight finishes (tasks are bounded), the lease is released if this machine
 * holds it, and the daemon returns.
 */
/** In the local state folder: how the last daemon died (a fault that escaped every tick), until one starts again. */
export const DAEMON_DEATH_FILE = 'daemon-died.json';

export async function runDaemon(
  o: DaemonOptions,
): Promise<{ ticks: number; released: boolean; reloads: number; rejectedConfigs: number }> {
  let config = o.config;
  // the config this daemon runs with now (a reload replaces it between ticks)
  const machine = (): MachineContext => ({
    sharedState: o.sharedState,
    machineId: o.machineId,
    config,
    env: o.env,
    log: o.log,
    clock: o.clock,
  });
  let stopping = false;
  let wake: (() => void) | undefined;
  const stats = { ticks: 0, released: false, reloads: 0, rejectedConfigs: 0 };
  const intervalMs = () =>
    Number(o.env.ROOSYNC_MAINT_DAEMON_INTERVAL_MS ?? 0) || config.config.schedule.tickMinutes * MINUTE_MS;

  // the machine config and the approvals are read again with the fleet config: a change to any is a reload
  const layers = { machineFile: o.config.layers.machineFile, trustFile: o.config.layers.trustFile };
  const layerFiles = [layers.machineFile, layers.trustFile].filter((f): f is string => f !== undefined);
  // chokidar is loaded here, not with the module: a `run` loads this module too (DAEMON_DEATH_FILE) and watches nothing
  const { watch } = await import('chokidar');
  const watcher = watch([o.configFile, ...layerFiles, path.join(o.sharedState, LEASE_FILE)], {
    ignoreInitial: true,
    awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 },
  });
  const reloadConfig = async (why: string) => {
    try {
      config = await loadResolvedConfig(o.configFile, o.sharedState, defaultExpandContext(o.env), layers);
      stats.reloads++;
      o.log.info({ file: o.configFile, why }, 'config reloaded');
      deliverConfigCheck(undefined);
    } catch (err) {
      stats.rejectedConfigs++;
      o.log.error({ file: o.configFile, err: errorMessage(err) }, 'the new config is invalid: keeping the running one');
      alertInvalidConfig(err);
    }
  };
  // a tick in flight keeps the config it started with: a reload waits for it
  let inFlight: Promise<unknown> = Promise.resolve();
  o.onReload?.(() => {
    o.log.info('reload requested (SIGHUP): after the tick in flight');
    void inFlight.then(() => reloadConfig('SIGHUP'));
  });
  watcher.on('all', (event, file) => {
    void (async () => {
      if (path.resolve(file) === path.resolve(o.configFile)) {
        await reloadConfig(`file ${event}`);
        return;
      }
      const lease = readLeaseFile(o.sharedState);
      if (lease.kind === 'ok' && lease.record.released) {
        o.log.info({ holder: lease.record.holder }, 'lease released: ticking now');
        wake?.();
      }
    })();
  });

  // the config check goes through the alert engine: one alert while it stays invalid, [RESOLVED] once fixed
  let pendingPaths: string[] = [];
  const deliverConfigCheck = (problems: string[] | undefined) => {
    const run = {
      sharedState: o.sharedState,
      machineId: o.machineId,
      config: config.config,
      now: o.clock(),
      stateDir: o.stateDir,
      log: o.log,
    };
    const delivered = deliverAlerts(run, [checkConfig(o.configFile, problems)]);
    pendingPaths.push(...delivered.paths);
    if (delivered.paths.length > 0) wake?.();
  };
  const alertInvalidConfig = (err: unknown) => {
    deliverConfigCheck(err instanceof UsageError ? err.problems.map(formatProblem) : [errorMessage(err)]);
  };

  void o.stopSignal.then((signal) => {
    o.log.info({ signal }, 'stopping after the tick in flight');
    stopping = true;
    wake?.();
  });

  // the next tick on this machine's own phase of the interval: a fleet started together spreads out
  const waitForNextTick = async () => {
    if (stopping) return;
    const every = intervalMs();
    const wait = nextOnPhase(Date.now(), every, phaseOffsetMs(o.machineId, every)) - Date.now();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = undefined;
  };

  while (!stopping) {
    const extraPaths = pendingPaths;
    pendingPaths = [];
    const round = await daemonRound(o, machine(), layers.machineFile, extraPaths, (running) => {
      inFlight = running.catch(() => undefined);
    });
    stats.ticks += round.kind === 'failed' ? 0 : 1;
    await waitForNextTick();
  }

  await watcher.close();
  if (!o.noSync) {
    const lease = readLeaseFile(o.sharedState);
    if (lease.kind === 'ok' && lease.record.holder === o.machineId && !lease.record.released) {
      try {
        const r = await releaseLease({
          ...machine(),
          wait: true,
          dryRun: false,
        });
        stats.released = r.released;
        o.log.info({ released: r.released, reason: r.reason }, 'lease on shutdown');
      } catch (err) {
        o.log.error({ err: errorMessage(err) }, 'could not release the lease on shutdown: it expires by itself');
      }
    }
  }
  return stats;
}

/** What one round of the daemon did: a quiet tick, a full tick, or a tick that failed (the daemon goes on). */
type Round =
  | { kind: 'quiet'; until: number }
  | { kind: 'tick'; result: TickResult }
  | { kind: 'failed'; error: string };

/**
 * One round: the quiet check, else a full tick with this round's config and the alert files to commit with it.
 * Returns what it did and never throws; `started` is told of the tick in flight (a reload waits for it).
 */
async function daemonRound(
  o: DaemonOptions,
  machine: MachineContext,
  machineConfigFile: string | undefined,
  extraPaths: string[],
  started: (running: Promise<TickResult>) => void,
): Promise<Round> {
  try {
    const quiet =
      !o.noSync && extraPaths.length === 0
        ? await checkQuiet({
            sharedState: o.sharedState,
            machineId: o.machineId,
            configFile: o.configFile,
            machineConfigFile: machineConfigFile ?? '',
            version: o.version,
            now: o.clock(),
          })
        : undefined;
    if (quiet?.quiet) {
      o.log.debug({ until: new Date(quiet.record.until).toISOString() }, 'quiet tick: nothing due, nothing changed');
      return { kind: 'quiet', until: quiet.record.until };
    }
    const running = tick({
      ...machine,
      tasks: undefined,
      dryRun: false,
      noSync: o.noSync,
      leaderFlag: o.leaderFlag,
      wait: true,
      progress: noProgress,
      version: o.version,
      extraPaths,
    });
    started(running);
    const r = await running;
    // test hook: a fault that escapes every guard, as a bug in a library would throw it
    if (o.env.ROOSYNC_MAINT_FAULT === 'daemon-uncaught')
      setImmediate(() => {
        throw new Error('injected fault (ROOSYNC_MAINT_FAULT=daemon-uncaught)');
      });
    o.log.info(
      {
        leader: r.leader.isLeader,
        term: r.leader.term,
        pushed: r.pushed,
        offline: r.offline,
        tasks: r.tasks.map((t) => `${t.task}:${t.status}`),
      },
      'tick done',
    );
    return { kind: 'tick', result: r };
  } catch (err) {
    o.log.error({ err: errorMessage(err) }, 'tick failed; the daemon goes on');
    return { kind: 'failed', error: errorMessage(err) };
  }
}
