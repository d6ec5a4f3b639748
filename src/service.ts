import type { Logger } from './log.js';
import { silentLogger } from './log.js';
import { loadResolvedConfig, type ResolvedConfig } from './config/load.js';
import { DEFAULT_CONFIG_NAME, machineConfigPath, machineIdFromHostname } from './sharedState/identity.js';
import { configLayersFor } from './sharedState/localState.js';
import { defaultExpandContext } from './config/paths.js';
import { runTasks } from './coordinator/runTasks.js';
import { tick, type TickResult } from './coordinator/tick.js';
import { noProgress, type TaskResult } from './tasks/types.js';
import type { TaskName } from './config/taskCatalogue.js';
import type { MaintenanceConfig } from './config/schema.js';
import os from 'node:os';
import { packageVersion } from './util/version.js';
import { openSession } from './coordinator/session.js';
import path from 'node:path';

export interface MaintenanceServiceOptions {
  /** The `.shared-state` folder (a git clone, or a plain folder). */
  sharedState: string;
  machineId?: string;
  /** Defaults to `<sharedState>/.maintenance-config.json` (missing = defaults). */
  configPath?: string;
  /**
   * This machine's own config (commands, local paths, hosts: config/layers.ts). Without it the fleet config's
   * powerful settings apply only as approved on this machine (`roosync-maint config trust`).
   */
  machineConfigPath?: string;
  dryRun?: boolean;
  log?: Logger;
  clock?: () => number;
  env?: NodeJS.ProcessEnv;
}

/** What one maintenance call did: counts, bytes, the plan's reasons, errors. */
export interface CleanupResult {
  task: TaskName;
  status: TaskResult['status'];
  scanned: number;
  acted: number;
  kept: number;
  skipped: number;
  /** Bytes freed, or in a dry run the bytes that would be. */
  bytes: number;
  durationMs: number;
  /** Every decision with its reason (`older than 7 days: dated 2026-01-02 (from its name)`). */
  reasons: { path: string; verdict: string; reason: string }[];
  errors: string[];
}
export type ArchiveResult = CleanupResult;
export type RotationResult = CleanupResult;
export type PruneResult = CleanupResult;

export interface MaintenanceReport {
  machine: string;
  leader: TickResult['leader'];
  offline: boolean;
  pushed: boolean;
  results: CleanupResult[];
  notes: string[];
}

function toResult(r: TaskResult): CleanupResult {
  return {
    task: r.task,
    status: r.status,
    ...r.counts,
    bytes: r.bytes,
    durationMs: r.durationMs,
    reasons: r.rules.flatMap((rule) =>
      rule.actions.map((a) => ({
        path: path.join(path.basename(rule.root), a.rel),
        verdict: a.verdict,
        reason: a.reason,
      })),
    ),
    errors: [...r.errors, ...(r.reason && r.status !== 'ok' ? [r.reason] : [])],
  };
}

/**
 * The maintenance coordinator as a library, in the original plan's shape, so RooSync's own
 * server can embed it. The CLI is a thin layer over the same code. The single-task methods act
 * on this machine's tree as if it led (the embedding program decides who leads); the scheduled
 * run is one full tick: sync and election when the shared state is a git clone.
 */
export class MaintenanceService {
  private readonly machineId: string;
  private readonly clock: () => number;
  private readonly log: Logger;

  constructor(private readonly o: MaintenanceServiceOptions) {
    this.machineId = o.machineId ?? machineIdFromHostname(os.hostname());
    this.clock = o.clock ?? Date.now;
    this.log = o.log ?? silentLogger;
  }

  private async config(override?: (c: MaintenanceConfig) => MaintenanceConfig): Promise<ResolvedConfig> {
    const env = this.o.env ?? process.env;
    const machineFile = this.o.machineConfigPath ?? machineConfigPath(undefined, env).value;
    const resolved = await loadResolvedConfig(
      this.o.configPath ?? path.join(this.o.sharedState, DEFAULT_CONFIG_NAME),
      this.o.sharedState,
      defaultExpandContext(env),
      configLayersFor(this.o.sharedState, machineFile, env),
    );
    return override ? { ...resolved, config: override(resolved.config) } : resolved;
  }

  private async runOne(
    names: TaskName[],
    override: (c: MaintenanceConfig) => MaintenanceConfig,
  ): Promise<CleanupResult[]> {
    const config = await this.config(override);
    const session = await this.session(config);
    // the same lock as a tick: a call never runs beside this machine's tick on the same shared state
    const results = await session.withRunLock(true, () => {
      const dryRun = this.o.dryRun ?? false;
      const ctx = session.taskContext({ config, now: this.clock(), dryRun, log: this.log, progress: noProgress });
      return runTasks(names, ctx, { isLeader: true, notLeaderReason: '' });
    });
    return results.map(toResult);
  }

  /** This machine's session on the shared state, with the clone opened when there is one (the tick's lock). */
  private session(config: ResolvedConfig) {
    const { sharedState } = this.o;
    const env = this.o.env ?? process.env;
    return openSession({ sharedState, machineId: this.machineId, git: config.config.git, env });
  }

  /** One tick: the due tasks, with sync and election when the shared state is a git clone. */
  async runScheduledMaintenance(): Promise<MaintenanceReport> {
    const config = await this.config();
    const isClone = (await this.session(config)).repo !== undefined;
    const r = await tick({
      sharedState: this.o.sharedState,
      machineId: this.machineId,
      config,
      env: this.o.env ?? process.env,
      log: this.log,
      clock: this.clock,
      tasks: undefined,
      dryRun: this.o.dryRun ?? false,
      noSync: !isClone,
      leaderFlag: !isClone,
      wait: false,
      progress: noProgress,
      version: packageVersion(),
    });
    return {
      machine: r.machine,
      leader: r.leader,
      offline: r.offline,
      pushed: r.pushed,
      results: r.tasks.map(toResult),
      notes: r.notes,
    };
  }

  async cleanupRollbacks(olderThanDays = 7): Promise<CleanupResult> {
    return (
      await this.runOne(['rollback-cleanup'], (c) => ({
        ...c,
        rollback: { ...c.rollback, retentionDays: olderThanDays },
      }))
    )[0]!;
  }

  async archiveOldMessages(olderThanDays = 30): Promise<ArchiveResult> {
    return (
      await this.runOne(['messages-archive'], (c) => ({
        ...c,
        messages: { ...c.messages, archiveAfterDays: olderThanDays },
      }))
    )[0]!;
  }

  async rotateBackups(keepCount = 5): Promise<RotationResult> {
    return (await this.runOne(['backup-rotation'], (c) => ({ ...c, backups: { keepCount } })))[0]!;
  }

  /** The shared `logs/` folder and this machine's log folders, both kept `keepDays`. */
  async pruneLogs(keepDays = 7): Promise<PruneResult> {
    const [shared, local] = await this.runOne(['log-rotation', 'local-log-prune'], (c) => ({
      ...c,
      logs: { ...c.logs, retentionDays: keepDays },
      localLogs: { ...c.localLogs, retentionDays: keepDays },
    }));
    const status = shared!.status === 'failed' || local!.status === 'failed' ? 'failed' : 'ok';
    const sum = (k: 'scanned' | 'acted' | 'kept' | 'skipped' | 'bytes' | 'durationMs') => shared![k] + local![k];
    return {
      task: 'log-rotation',
      status,
      scanned: sum('scanned'),
      acted: sum('acted'),
      kept: sum('kept'),
      skipped: sum('skipped'),
      bytes: sum('bytes'),
      durationMs: sum('durationMs'),
      reasons: [...shared!.reasons, ...local!.reasons],
      errors: [...shared!.errors, ...local!.errors],
    };
  }
}
