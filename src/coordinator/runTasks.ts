import { errorMessage } from '../errors.js';
import { availableTask } from '../tasks/registry.js';
import { TASKS, type TaskName } from '../config/taskCatalogue.js';
import { emptyResult, type TaskContext, type TaskResult } from '../tasks/types.js';
import { ageClockMargin, clockEvidence, fleetAgeClock, type AgeClock } from '../report/fleetClock.js';

export interface RunTasksOptions {
  isLeader: boolean;
  /** Why this machine is not acting as leader, shown on each skipped fleet task. */
  notLeaderReason: string;
}

/**
 * Runs the named tasks in order on one context. Fleet tasks run only as leader; a task that
 * throws is recorded as failed and the others still run.
 */
export async function runTasks(
  names: readonly TaskName[],
  runCtx: TaskContext,
  options: RunTasksOptions,
): Promise<TaskResult[]> {
  const ctx: TaskContext = { ...runCtx, archivedThisRun: runCtx.archivedThisRun ?? new Set() };
  const results: TaskResult[] = [];
  let ageClock: AgeClock | undefined;
  // fleet tasks judge ages by the fleet's clock: a clock far ahead must not make young files old
  const fleetCtx = (): { ctx: TaskContext; capped?: string } => {
    ageClock ??= fleetAgeClock(
      ctx.now,
      clockEvidence(ctx.sharedState, ctx.machineId, ctx.now),
      ageClockMargin(ctx.config.config.schedule.heartbeatMinutes),
    );
    return { ctx: { ...ctx, now: ageClock.now }, ...(ageClock.capped && { capped: ageClock.capped }) };
  };
  for (const name of names) {
    const scope = TASKS[name];
    if (scope === 'fleet' && !options.isLeader) {
      results.push({ ...emptyResult(name, scope, ctx.dryRun), status: 'skipped', reason: options.notLeaderReason });
      continue;
    }
    const task = await availableTask(name);
    const started = Date.now();
    try {
      ctx.log.debug({ task: name, dryRun: ctx.dryRun }, 'task start');
      const fleet = scope === 'fleet' ? fleetCtx() : undefined;
      const result = await task.run(fleet?.ctx ?? ctx);
      if (fleet?.capped) result.warnings.unshift(fleet.capped);
      ctx.log.info(
        {
          task: name,
          status: result.status,
          counts: result.counts,
          bytes: result.bytes,
          durationMs: result.durationMs,
          said: true,
        },
        `task ${name}: ${result.status}, acted on ${result.counts.acted}, ${result.durationMs} ms`,
      );
      results.push(result);
    } catch (err) {
      ctx.log.error({ task: name, err: errorMessage(err) }, 'task failed');
      results.push({
        ...emptyResult(name, scope, ctx.dryRun),
        status: 'failed',
        errors: [errorMessage(err)],
        durationMs: Date.now() - started,
      });
    }
  }
  return results;
}
