import type { Logger } from '../log.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Action } from '../retention/plan.js';
import type { ApplyError } from '../retention/apply.js';
import type { TaskName, TaskScope } from './names.js';
import type { CheckResult } from '../health/types.js';
import type { GitRepo } from '../git/repo.js';

export interface Progress {
  update(text: string): void;
  done(): void;
}

export const noProgress: Progress = { update() {}, done() {} };

export interface TaskContext {
  sharedState: string;
  /** This process's environment (RooSync's PostgreSQL read flag, per-machine paths). */
  env: NodeJS.ProcessEnv;
  machineId: string;
  config: ResolvedConfig;
  now: number;
  dryRun: boolean;
  log: Logger;
  progress: Progress;
  /** The clone, when the run syncs (the git health check reads it), and why the remote could not be reached. */
  git?: { repo: GitRepo; offline?: string };
  version?: string;
  /** Ids messages-archive moved in this run: messages-purge never removes them in the same run. */
  archivedThisRun?: Set<string>;
}

/** What a task does to one entry: the engine's verdicts, plus moves that are not removals. */
export type ReportVerdict = Action['verdict'] | 'archive' | 'quarantine';
export type ReportAction = Omit<Action, 'verdict'> & { verdict: ReportVerdict };

/** One rule's part of a task result: the sentence it prints, its plan, and what applying did. */
export interface RuleReport {
  rule: string;
  policy: string;
  root: string;
  missingRoot: boolean;
  actions: ReportAction[];
  /** Entries left alone in bulk, counted by reason rather than listed (a 100,000-file inbox). */
  untouched?: Record<string, number>;
  /** Entries acted on (removed, archived, quarantined) when applied. */
  acted: number;
  bytesFreed: number;
  errors: ApplyError[];
}

export interface TaskCounts {
  scanned: number;
  acted: number;
  kept: number;
  skipped: number;
}

export interface TaskResult {
  task: TaskName;
  scope: TaskScope;
  status: 'ok' | 'failed' | 'skipped';
  /** Why a task was skipped or failed as a whole. */
  reason?: string;
  dryRun: boolean;
  counts: TaskCounts;
  /** Bytes freed, or in a dry run the bytes that would be freed. */
  bytes: number;
  durationMs: number;
  errors: string[];
  /** Conditions the operator should know about that are not failures. */
  warnings: string[];
  /** Health findings of the health tasks, turned into alerts by the tick. */
  checks?: CheckResult[];
  rules: RuleReport[];
}

export interface Task {
  name: TaskName;
  scope: TaskScope;
  run(ctx: TaskContext): Promise<TaskResult>;
}

export function emptyResult(task: TaskName, scope: TaskScope, dryRun: boolean): TaskResult {
  return {
    task,
    scope,
    status: 'ok',
    dryRun,
    counts: { scanned: 0, acted: 0, kept: 0, skipped: 0 },
    bytes: 0,
    durationMs: 0,
    errors: [],
    warnings: [],
    rules: [],
  };
}
