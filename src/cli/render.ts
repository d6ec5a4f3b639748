import { actionVerb, type ReportAction, type ReportVerdict, type TaskResult } from '../report/taskResult.js';
import { formatBytes, plural } from '../util/format.js';
import type { CheckResult } from '../health/types.js';

/** This machine's role in a run's header: `leader (term 3)` or `follower`. */
export { roleOf } from './role.js';

const LINES_PER_VERDICT: Record<ReportVerdict, number> = {
  remove: 50,
  archive: 50,
  quarantine: 50,
  snapshot: 50,
  skip: 50,
  keep: 20,
};

function actionLine(a: ReportAction): string {
  const size = a.kind === 'dir' ? `${plural(a.files, 'file')}, ${formatBytes(a.bytes)}` : formatBytes(a.bytes);
  return `    ${a.verdict.padEnd(6)} ${a.rel}${a.kind === 'dir' ? '/' : ''}  — ${a.reason} [${size}]`;
}

/** One check for a person: its line, and under a failure its fixes and the tail of what the server said. */
export function checkLines(c: CheckResult): string[] {
  const mark = { ok: 'ok  ', failing: 'FAIL', skipped: 'skip' } as const;
  const head = `${mark[c.state]}  ${c.check.padEnd(15)} ${c.summary}`;
  if (c.state !== 'failing') return [head];
  const tail = typeof c.data.stderrTail === 'string' && c.data.stderrTail ? c.data.stderrTail.split('\n') : [];
  return [head, ...c.actions.map((a) => `      fix: ${a}`), ...tail.map((l) => `      stderr: ${l}`)];
}

/** A check task: how many checks and how they stand, then each failing one with its fixes. */
function renderChecks(r: TaskResult): string[] {
  const checks = r.checks ?? [];
  const count = (state: string) => checks.filter((c) => c.state === state).length;
  const failing = checks.filter((c) => c.state === 'failing');
  return [
    `${r.task} (${r.scope}) ${failing.length ? 'failed' : r.status} — ${plural(checks.length, 'check')}: ` +
      `${count('ok')} ok, ${count('failing')} failing, ${count('skipped')} skipped, ${(r.durationMs / 1000).toFixed(1)} s`,
    ...(r.said ?? []).map((l) => `  ${l}`),
    ...failing.flatMap((c) => checkLines(c).map((l) => `  ${l}`)),
    ...r.errors.map((e) => `  ERROR ${e}`),
  ];
}

/**
 * A task's result as the operator reads it: one summary line, its warnings and errors; with `detail` (-v), the policy
 * sentence of each rule and each decision with its reason.
 */
export function renderTask(r: TaskResult, detail = true): string[] {
  const verb = actionVerb(r);
  const head = `${r.task} (${r.scope}) ${r.status}${r.reason ? `: ${r.reason}` : ''}`;
  if (r.status === 'skipped') return [head];
  if (r.checks?.length && r.rules.length === 0) return renderChecks(r);
  const lines = [
    `${head} — ${verb} ${r.counts.acted} (${formatBytes(r.bytesActed ?? r.bytes)}), kept ${r.counts.kept}, skipped ` +
      `${r.counts.skipped}, ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
  for (const line of r.said ?? []) lines.push(`  ${line}`);
  for (const rule of r.rules) {
    if (!detail) {
      for (const e of rule.errors) lines.push(`  ERROR  ${e.rel}: ${e.message}`);
      continue;
    }
    lines.push(`  ${rule.rule}: ${rule.policy}`);
    if (rule.missingRoot) {
      lines.push(`    (${rule.root} does not exist: nothing to do)`);
      continue;
    }
    for (const verdict of ['snapshot', 'remove', 'archive', 'quarantine', 'skip', 'keep'] as const) {
      const these = rule.actions.filter((a) => a.verdict === verdict);
      for (const a of these.slice(0, LINES_PER_VERDICT[verdict])) lines.push(actionLine(a));
      if (these.length > LINES_PER_VERDICT[verdict])
        lines.push(`    … and ${these.length - LINES_PER_VERDICT[verdict]} more to ${verdict} (--json lists them all)`);
    }
    for (const [reason, n] of Object.entries(rule.untouched ?? {})) lines.push(`    keep   ${n} more — ${reason}`);
    for (const e of rule.errors) lines.push(`    ERROR  ${e.rel}: ${e.message}`);
  }
  for (const w of r.warnings) lines.push(`  WARNING ${w}`);
  for (const e of r.errors.filter((e) => !r.rules.some((rule) => e.startsWith(`${rule.rule}: `))))
    lines.push(`  ERROR ${e}`);
  return lines;
}

/**
 * Every task's lines, skipped ones grouped by reason: a follower's ten fleet tasks are one line, not ten.
 */
export function renderTasks(results: readonly TaskResult[], detail: boolean): string[] {
  const skipped = new Map<string, string[]>();
  const lines: string[] = [];
  for (const r of results) {
    if (r.status !== 'skipped') lines.push(...renderTask(r, detail));
    else skipped.set(r.reason ?? '', [...(skipped.get(r.reason ?? '') ?? []), r.task]);
  }
  const grouped = [...skipped.entries()].map(([why, tasks]) => `skipped ${tasks.join(', ')}${why ? `: ${why}` : ''}`);
  return [...grouped, ...lines];
}

export function renderTotals(results: readonly TaskResult[], dryRun: boolean): string {
  const acted = results.reduce((s, r) => s + r.counts.acted, 0);
  const bytes = results.reduce((s, r) => s + (r.bytesActed ?? r.bytes), 0);
  const failed = results.filter((r) => r.status === 'failed').map((r) => r.task);
  return (
    `total: ${dryRun ? 'would act on' : 'acted on'} ${acted} (${formatBytes(bytes)}) across ` +
    `${plural(results.length, 'task')}${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}` +
    (dryRun ? ' — dry run: nothing was changed' : '')
  );
}
