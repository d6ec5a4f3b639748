import type { TaskName, TaskScope } from '../config/taskCatalogue.js';
import type { CheckResult } from '../health/types.js';
import type { ApplyError } from '../retention/apply.js';
import type { Action } from '../retention/plan.js';

/** What a task reports: what every layer above tasks reads (status files, digests, alerts, the CLI). */

/** What a task does to one entry: the engine's verdicts, plus moves that are not removals. */
export type ReportVerdict = Action['verdict'] | 'archive' | 'quarantine' | 'snapshot';
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
  /** The size of what was acted on (or would be): removed, but also archived, quarantined, snapshotted. */
  bytesActed?: number;
  durationMs: number;
  errors: string[];
  /** Conditions the operator should know about that are not failures. */
  warnings: string[];
  /** Health findings of the health tasks, turned into alerts by the tick. */
  checks?: CheckResult[];
  /**
   * A check task whose checks fail is a failed task (exit 1), though it ran to the end: it is checked
   * again on its interval, not every tick, and the alerts escalate meanwhile.
   */
  failingChecks?: number;
  /** Paths in the shared state (relative to it) that a local task wrote: committed with the tick. */
  sharedPaths?: string[];
  /** Paths in the shared state a fleet task wrote outside its rules (a rollout plan): fleet work, with the lease. */
  fleetPaths?: string[];
  /** What the task did or would do, in a line each (a rollout step): printed under its summary. */
  said?: string[];
  /** The rollout task's view of this machine's components, for its status file. */
  components?: Record<string, import('./status.js').ComponentReport>;
  rules: RuleReport[];
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

/** The reason kept entries are counted under when they are not listed one by one. */
export const KEPT_COUNTED = 'kept (--list-kept lists each with its reason)';

/**
 * A result for a document: what was acted on, skipped or failed stays listed, kept entries become one count per rule
 * (a large inbox keeps most of what it reads: listing each would grow the document with the folder).
 */
export function keptAsCounts(r: TaskResult): TaskResult {
  return {
    ...r,
    rules: r.rules.map((rule) => {
      const kept = rule.actions.filter((a) => a.verdict === 'keep').length;
      if (kept === 0) return rule;
      const untouched = { ...rule.untouched, [KEPT_COUNTED]: (rule.untouched?.[KEPT_COUNTED] ?? 0) + kept };
      return { ...rule, actions: rule.actions.filter((a) => a.verdict !== 'keep'), untouched };
    }),
  };
}

const VERBS: Partial<Record<TaskName, [string, string]>> = {
  'messages-archive': ['archive', 'archived'],
  'inbox-hygiene': ['quarantine', 'quarantined'],
  'config-backup': ['snapshot or rotate', 'snapshotted or rotated'],
};

/** `would archive` / `archived`, `would quarantine` / `quarantined`, `would remove` / `removed`. */
export function actionVerb(r: Pick<TaskResult, 'task' | 'dryRun'>): string {
  const [word, done] = VERBS[r.task] ?? ['remove', 'removed'];
  return r.dryRun ? `would ${word}` : done;
}
