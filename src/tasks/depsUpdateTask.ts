import { finishInterrupted, intentFileFor, outdated, safeUpdate, type Outdated } from '../deps/npm.js';
import type { CheckResult } from '../health/types.js';
import { changedFiles } from '../git/repo.js';
import { record } from './healthTasks.js';
import { defineTask } from './retentionTask.js';
import type { TaskContext } from './types.js';

const hasEntries = (v: unknown) => Array.isArray(v) && v.length > 0;

const line = (e: Outdated) =>
  `${e.package} ${e.current} → ${e.wanted}${e.latest !== e.wanted ? ` (latest ${e.latest})` : ''}`;

function outdatedCheck(dir: string, r: Awaited<ReturnType<typeof outdated>>): CheckResult {
  const base = {
    check: 'deps-outdated' as const,
    subject: dir,
    type: 'BUILD' as const,
    severity: 'LOW' as const,
    actions: [],
  };
  if (!r.ok)
    return { ...base, state: 'skipped', summary: `outdated packages in ${dir}: not known (${r.reason})`, data: {} };
  return {
    ...base,
    state: 'ok',
    summary: r.entries.length
      ? `${r.entries.length} outdated in ${dir}: ${r.entries.map(line).join(', ')}`
      : `nothing outdated in ${dir}`,
    data: { outdated: r.entries },
  };
}

/** The two files git must hold as they are before an update may touch them; why not, when it may not. */
async function notCleanReason(dir: string, timeoutMs: number): Promise<string | undefined> {
  const changed = await changedFiles(dir, ['package.json', 'package-lock.json'], timeoutMs);
  if (!changed) return 'not in a git repository: it cannot be told whether package.json has local changes';
  return changed.length === 0 ? undefined : 'package.json or package-lock.json has uncommitted changes';
}

async function updateDir(ctx: TaskContext, dir: string, entries: Outdated[], timeoutMs: number) {
  const deps = ctx.config.config.deps;
  const level = deps.update === 'off' ? undefined : deps.update;
  if (!level || entries.length === 0) return [];
  const dirty = await notCleanReason(dir, timeoutMs);
  const check = (state: CheckResult['state'], summary: string, data: Record<string, unknown> = {}): CheckResult => ({
    check: 'deps-update',
    subject: dir,
    state,
    type: 'BUILD',
    severity: 'MEDIUM',
    summary,
    actions: state === 'failing' ? [`Update ${dir} by hand and see what breaks`] : [],
    data,
  });
  if (dirty) return [check('skipped', `no update in ${dir}: ${dirty}`)];
  const r = await safeUpdate(
    {
      dir,
      level,
      buildCommand: deps.buildCommand,
      testCommand: deps.testCommand,
      timeoutMs,
      env: ctx.env,
      intent: intentFileFor(ctx.stateDir, dir),
    },
    entries,
  );
  if (r.skipped) return [check('ok', `no update in ${dir}: ${r.skipped}`)];
  if (r.failure)
    return [
      check('failing', `npm update (${level}) in ${dir} was undone: ${r.failure.step} failed`, {
        tail: r.failure.tail,
      }),
    ];
  const moved = r.changed.map((c) => `${c.package} ${c.from} → ${c.to}`).join(', ');
  return [check('ok', `updated in ${dir} (${level}; build and tests passed): ${moved}`, { changed: r.changed })];
}

/** An update a killed run left half-done, undone before anything else (see deps/npm.ts finishInterrupted). */
async function interruptedCheck(ctx: TaskContext, dir: string, timeoutMs: number): Promise<CheckResult | undefined> {
  const intent = intentFileFor(ctx.stateDir, dir);
  const found = await finishInterrupted({ dir, timeoutMs, env: ctx.env, intent }, ctx.dryRun);
  if (!found) return undefined;
  const what = `an update of ${dir} was interrupted (${found.phase}, started ${found.startedAt})`;
  const summary = ctx.dryRun
    ? `${what}: the next run puts package.json and the lock back and reinstalls them`
    : found.done
      ? `${what}: package.json and the lock were put back and npm ci reinstalled them`
      : `${what}: the rollback's npm ci failed; the next run tries again`;
  return {
    check: 'deps-update',
    subject: dir,
    state: found.done || ctx.dryRun ? 'ok' : 'failing',
    type: 'BUILD',
    severity: 'MEDIUM',
    summary,
    actions: found.done ? [] : [`Run npm ci in ${dir} by hand and see why it fails`],
    data: { interrupted: found.phase, ...(found.tail.length > 0 && { tail: found.tail }) },
  };
}

/**
 * `deps-update` (local, in the `update` group with deps-audit): what is outdated in each `health.depsDirs`
 * entry (package, current, wanted, latest); with `deps.update` set, an update within that range that is
 * kept only if the build and the tests pass (else undone, and alerted).
 */
export const depsUpdateTask = defineTask('deps-update', async (ctx, result) => {
  const timeoutMs = ctx.config.config.deps.timeoutMinutes * 60_000;
  for (const dir of ctx.config.depsDirs) {
    ctx.progress.update(`deps: ${dir}`);
    const interrupted = await interruptedCheck(ctx, dir, timeoutMs);
    if (interrupted) {
      // this run only finishes the rollback: the next one looks at what is outdated again
      record(result, [interrupted]);
      result.warnings.push(interrupted.summary);
      continue;
    }
    const found = await outdated(dir, timeoutMs, ctx.env);
    const checks = [outdatedCheck(dir, found)];
    if (found.ok && !ctx.dryRun) checks.push(...(await updateDir(ctx, dir, found.entries, timeoutMs)));
    record(result, checks);
    // the digest carries the task's notes: what is outdated, and what an update moved
    const news = checks.filter((c) => c.state === 'ok' && hasEntries(c.data.outdated ?? c.data.changed));
    result.warnings.push(...news.map((c) => c.summary));
  }
});
