import path from 'node:path';
import { errorMessage } from '../errors.js';
import { describeRule, type RetentionRule } from '../retention/rule.js';
import { planRetention, type Entry } from '../retention/plan.js';
import { scanRule } from '../retention/scan.js';
import { applyPlan } from '../retention/apply.js';
import { FORBIDDEN_SHARED_DIRS } from '../config/load.js';
import { emptyResult, type RuleReport, type Task, type TaskContext, type TaskResult } from './types.js';
import { TASKS, type TaskName } from '../config/taskCatalogue.js';

/** A rule plus, when the task needs it, what on disk must be protected (read during the snapshot). */
export interface RuleSpec {
  rule: RetentionRule;
  protect?: (realRoot: string, entries: readonly Entry[]) => Promise<Map<string, string>>;
}

/** Builds a rule rooted inside the shared state (a fleet rule): the shared state is its boundary. */
export function sharedRule(
  ctx: TaskContext,
  rel: string,
  rule: Omit<RetentionRule, 'root' | 'label' | 'boundary' | 'maxDeletionsPerRun'>,
): RetentionRule {
  const root = path.join(ctx.sharedState, rel);
  return {
    ...rule,
    root,
    label: rel === '.' ? '.shared-state/' : `${rel}/`,
    boundary: ctx.sharedState,
    maxDeletionsPerRun: ctx.config.config.limits.maxDeletionsPerRun,
    forbidden: rel === '.' ? FORBIDDEN_SHARED_DIRS : [],
  };
}

/** Builds a rule on a local folder from the config: that folder is its own boundary. */
export function localRule(
  ctx: TaskContext,
  dir: string,
  rule: Omit<RetentionRule, 'root' | 'label' | 'boundary' | 'maxDeletionsPerRun'>,
): RetentionRule {
  return {
    ...rule,
    root: dir,
    label: `${dir}${path.sep}`,
    boundary: dir,
    maxDeletionsPerRun: ctx.config.config.limits.maxDeletionsPerRun,
  };
}

async function runSpec(ctx: TaskContext, spec: RuleSpec): Promise<RuleReport> {
  const { rule } = spec;
  const report: RuleReport = {
    rule: rule.name,
    policy: describeRule(rule),
    root: rule.root,
    missingRoot: false,
    actions: [],
    acted: 0,
    bytesFreed: 0,
    errors: [],
  };
  const scan = await scanRule(rule, { onUnit: (n) => ctx.progress.update(`${rule.name}: scanned ${n}`) });
  report.missingRoot = scan.missingRoot;
  const protectedRels =
    spec.protect && !scan.missingRoot ? await spec.protect(scan.realRoot, scan.entries) : new Map<string, string>();
  const plan = planRetention(scan.entries, rule, ctx.now, protectedRels);
  report.actions = plan.actions;
  ctx.log.debug({ rule: rule.name, totals: plan.totals }, 'planned');
  if (ctx.dryRun || plan.totals.remove === 0) return report;
  const applied = await applyPlan(plan, scan.realRoot, {
    onRemoved: (done, total) => ctx.progress.update(`${rule.name}: removed ${done}/${total}`),
  });
  report.acted = applied.removed;
  report.bytesFreed = applied.bytesFreed;
  report.errors = applied.errors;
  ctx.log.info(
    {
      rule: rule.name,
      removed: applied.removed,
      bytesFreed: applied.bytesFreed,
      vanished: applied.vanished,
      changed: applied.changed,
      errors: applied.errors.length,
    },
    'applied',
  );
  return report;
}

/** Sums the rule reports into the task's counts (scanned, acted, kept, skipped, bytes). */
export function summarize(result: TaskResult): TaskResult {
  result.bytesActed = 0;
  for (const r of result.rules) {
    const failed = new Set(r.errors.map((e) => e.rel));
    for (const a of r.actions) {
      result.counts.scanned++;
      if (a.verdict === 'keep') result.counts.kept++;
      else if (a.verdict === 'skip') result.counts.skipped++;
      else {
        if (!failed.has(a.rel)) result.bytesActed += a.bytes;
        if (result.dryRun) {
          result.counts.acted++;
          result.bytes += a.bytes;
        }
      }
    }
    for (const n of Object.values(r.untouched ?? {})) {
      result.counts.scanned += n;
      result.counts.kept += n;
    }
    if (!result.dryRun) {
      result.counts.acted += r.acted;
      result.bytes += r.bytesFreed;
    }
    result.errors.push(...r.errors.map((e) => `${r.rule}: ${e.rel}: ${e.message}`));
  }
  if (result.errors.length > 0) result.status = 'failed';
  return result;
}

/** A task around its body: timing, progress, and counts summed from the reports the body adds. */
export function defineTask(name: TaskName, body: (ctx: TaskContext, result: TaskResult) => Promise<void>): Task {
  const scope = TASKS[name];
  return {
    name,
    scope,
    async run(ctx) {
      const started = Date.now();
      const result = emptyResult(name, scope, ctx.dryRun);
      await body(ctx, result);
      ctx.progress.done();
      summarize(result);
      result.durationMs = Date.now() - started;
      return result;
    },
  };
}

/** A cleanup task is only its rules: scanning, planning, printing and applying are shared. */
export function retentionTask(name: TaskName, specs: (ctx: TaskContext) => RuleSpec[]): Task {
  return defineTask(name, async (ctx, result) => {
    for (const spec of specs(ctx)) {
      try {
        result.rules.push(await runSpec(ctx, spec));
      } catch (err) {
        result.errors.push(`${spec.rule.name}: ${errorMessage(err)}`);
      }
    }
  });
}
