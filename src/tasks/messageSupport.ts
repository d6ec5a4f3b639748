import path from 'node:path';
import { DAY_MS } from '../util/time.js';
import { errorMessage } from '../errors.js';
import type { FolderListing } from '../roosync/folder.js';
import { lstatSync } from 'node:fs';
import { TEMP_MARK, unlessMissing, unlinkIfPresent } from '../util/fs.js';
import { formatDate } from '../util/format.js';
import { createYielder } from '../util/yielder.js';
import { defineTask } from './retentionTask.js';
import type { TaskName } from '../config/taskCatalogue.js';
import type { ReportAction, RuleReport, Task, TaskContext, TaskResult } from './types.js';

export const PG_READ_FLAG = 'UNIFIED_STORE_CHANNEL_READ_PG';

/** docs/roosync-format.md: where RooSync reads messages from PostgreSQL, changes made on disk are invisible to it. */
export function pgReadWarning(env: NodeJS.ProcessEnv): string | undefined {
  return env[PG_READ_FLAG] === '1' || env[PG_READ_FLAG]?.toLowerCase() === 'true'
    ? `${PG_READ_FLAG} is set on this machine: its RooSync reads messages from PostgreSQL and will not see what this run changed on disk`
    : undefined;
}

export function cutoffOf(now: number, days: number): number {
  return now - days * DAY_MS;
}

export function day(ms: number): string {
  return formatDate(ms).slice(0, 10);
}

export function messageAction(
  rel: string,
  verdict: ReportAction['verdict'],
  reason: string,
  dateMs = 0,
  bytes = 0,
): ReportAction {
  return { rel, kind: 'file', verdict, reason, bytes, files: 1, dateMs, dateSource: 'name' };
}

export function newReport(rule: string, policy: string, root: string): RuleReport {
  return { rule, policy, root, missingRoot: false, actions: [], untouched: {}, acted: 0, bytesFreed: 0, errors: [] };
}

export function countUntouched(report: RuleReport, reason: string, n = 1): void {
  if (n === 0) return;
  report.untouched![reason] = (report.untouched![reason] ?? 0) + n;
}

/** A temp file of ours younger than this may be another process's write in flight (a second leader's). */
export const LEFTOVER_TEMP_MS = 10 * 60_000;

/**
 * Temp files a killed run left in the message folders: only those carrying our mark (`*.roosync-maint.tmp`;
 * another program's `*.json.tmp`, Syncthing's `.syncthing.*.tmp` are never touched), and only once they are
 * ten minutes old by the file system's clock, so another process's write in flight is never removed.
 */
export function leftoverTempsReport(
  task: TaskName,
  messagesDir: string,
  listings: Record<string, FolderListing>,
): RuleReport {
  const report = newReport(
    `${task}/leftover-temps`,
    `in messages/: temp files of ours (*${TEMP_MARK}) left by an interrupted write, once 10 minutes old, are removed`,
    messagesDir,
  );
  const realNow = Date.now();
  for (const [folder, listing] of Object.entries(listings)) {
    for (const name of listing.temps) {
      const rel = `${folder}/${name}`;
      const mtime = unlessMissing(() => lstatSync(path.join(messagesDir, rel)).mtimeMs, undefined);
      if (mtime === undefined) continue;
      if (realNow - mtime >= LEFTOVER_TEMP_MS)
        report.actions.push(messageAction(rel, 'remove', 'temp file of ours left by an interrupted write'));
      else countUntouched(report, 'temp file of ours younger than 10 minutes: maybe a write in flight');
    }
  }
  return report;
}

export type Act = (a: ReportAction) => boolean | Promise<boolean>;

/**
 * Applies a report's acting actions: `act` does the effect for one action and says whether it
 * happened. Errors are recorded per entry. With `concurrency` > 1, that many entries are in
 * flight: the kernel work of removing files then overlaps (measured 2× on 10,000 unlinks).
 */
export async function applyActions(report: RuleReport, ctx: TaskContext, act: Act, concurrency = 1): Promise<void> {
  const todo = report.actions.filter((a) => a.verdict !== 'keep' && a.verdict !== 'skip');
  const pause = createYielder();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < todo.length) {
      const a = todo[next++]!;
      try {
        if (await act(a)) {
          report.acted++;
          report.bytesFreed += a.verdict === 'remove' ? a.bytes : 0;
        }
      } catch (err) {
        report.errors.push({ rel: a.rel, message: errorMessage(err) });
      }
      ctx.progress.update(`${report.rule}: ${++done}/${todo.length}`);
      await pause();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/** Plans, then (unless dry-run) applies, each report with its own effect. */
export async function planAndApply(
  result: TaskResult,
  ctx: TaskContext,
  steps: { report: RuleReport; act: Act; concurrency?: number }[],
): Promise<void> {
  for (const { report, act, concurrency } of steps) {
    result.rules.push(report);
    if (!ctx.dryRun) await applyActions(report, ctx, act, concurrency);
  }
}

/** Removes a leftover temp file named by a leftover-temps action. */
export function removeTemp(root: string): (a: ReportAction) => boolean {
  return (a) => unlinkIfPresent(path.join(root, a.rel));
}

/** A message task: its body builds the reports (plan) and applies them unless dry-run; it warns where RooSync reads PostgreSQL. */
export function messageTask(name: TaskName, body: (ctx: TaskContext, result: TaskResult) => Promise<void>): Task {
  return defineTask(name, async (ctx, result) => {
    const pg = pgReadWarning(ctx.env);
    if (pg) result.warnings.push(pg);
    await body(ctx, result);
  });
}
