import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../config/durations.js';
import type { MaintenanceConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { stateFile } from '../sharedState/localState.js';
import { DEFAULT_INTERVALS, type TaskName } from '../config/taskCatalogue.js';
import type { TaskResult } from '../tasks/types.js';
import { formatTime } from '../util/format.js';

const stateSchema = z.object({ tasks: z.record(z.string(), z.object({ lastRunAt: z.number(), ok: z.boolean() })) });
export type ScheduleState = z.output<typeof stateSchema>;

export function intervalMs(task: TaskName, config: MaintenanceConfig): number {
  return parseDuration(config.schedule.tasks[task] ?? DEFAULT_INTERVALS[task]);
}

export interface DueDecision {
  task: TaskName;
  due: boolean;
  reason: string;
}

/** Which tasks are due (pure): never run, last run failed, or their interval has passed since the last run. */
export function dueTasks(
  tasks: readonly TaskName[],
  state: ScheduleState,
  now: number,
  config: MaintenanceConfig,
): DueDecision[] {
  return tasks.map((task) => {
    const last = state.tasks[task];
    const every = intervalMs(task, config);
    if (!last) return { task, due: true, reason: 'never ran on this machine' };
    if (!last.ok) return { task, due: true, reason: `its last run failed (${formatTime(last.lastRunAt)})` };
    const at = nextDueAt(task, state, config, now);
    if (now >= at)
      return { task, due: true, reason: every === 0 ? 'runs every tick' : `last ran ${formatTime(last.lastRunAt)}` };
    return { task, due: false, reason: `next due ${formatTime(at)}` };
  });
}

/** When a task is next due on this machine (the one rule; `now` when it never ran or its last run failed). */
export function nextDueAt(task: TaskName, state: ScheduleState, config: MaintenanceConfig, now: number): number {
  const last = state.tasks[task];
  return last?.ok ? last.lastRunAt + intervalMs(task, config) : now;
}

/** A check task that failed only because its checks fail ran to its end: it is not retried every tick. */
export function ranToEnd(r: TaskResult): boolean {
  return r.status === 'failed' && (r.failingChecks ?? 0) > 0 && r.errors.length === 0;
}

/** Records what ran: a task skipped (not leader, not available) has not run. */
export function recordRuns(state: ScheduleState, results: readonly TaskResult[], now: number): ScheduleState {
  const tasks = { ...state.tasks };
  for (const r of results)
    if (r.status !== 'skipped' && !r.dryRun) tasks[r.task] = { lastRunAt: now, ok: r.status === 'ok' || ranToEnd(r) };
  return { tasks };
}

export function scheduleStore(stateDir: string, log: Logger) {
  return stateFile(path.join(stateDir, 'schedule.json'), stateSchema, log, (): ScheduleState => ({ tasks: {} }));
}
