import { TASK_GROUPS, isTaskName, type TaskName } from '../config/taskCatalogue.js';
import type { Task } from './types.js';
import { UsageError } from '../errors.js';

/**
 * Every task, in the order a tick runs them, each loaded with its module only when it runs: a tick that runs two
 * tasks loads two task modules (and what they need), not nineteen.
 */
const MODULES: Record<TaskName, () => Promise<Task>> = {
  'inbox-hygiene': async () => (await import('./messageTasks.js')).inboxHygiene,
  'messages-archive': async () => (await import('./messageTasks.js')).messagesArchive,
  'messages-purge': async () => (await import('./messageTasks.js')).messagesPurge,
  'attachments-cleanup': async () => (await import('./messageTasks.js')).attachmentsCleanup,
  'rollback-cleanup': async () => (await import('./cleanupTasks.js')).rollbackCleanup,
  'backup-rotation': async () => (await import('./cleanupTasks.js')).backupRotation,
  'log-rotation': async () => (await import('./cleanupTasks.js')).logRotation,
  'custom-rules': async () => (await import('./cleanupTasks.js')).customRules,
  'checkpoint-cleanup': async () => (await import('./cleanupTasks.js')).checkpointCleanup,
  'local-log-prune': async () => (await import('./cleanupTasks.js')).localLogPrune,
  'local-backup-rotation': async () => (await import('./cleanupTasks.js')).localBackupRotation,
  'config-backup': async () => (await import('./configBackupTask.js')).configBackupTask,
  health: async () => (await import('./healthTasks.js')).healthTask,
  'disk-check': async () => (await import('./healthTasks.js')).diskCheckTask,
  'deps-audit': async () => (await import('./healthTasks.js')).depsAuditTask,
  'deps-update': async () => (await import('./depsUpdateTask.js')).depsUpdateTask,
  tests: async () => (await import('./testsTask.js')).testsTask,
  'config-drift': async () => (await import('./configDriftTask.js')).configDriftTask,
  'fleet-liveness': async () => (await import('./healthTasks.js')).fleetLivenessTask,
  'rollout-advance': async () => (await import('./rolloutTasks.js')).rolloutAdvanceTask,
  rollout: async () => (await import('./rolloutTasks.js')).rolloutTask,
};

/** Every task, in the order a tick runs them. */
export const AVAILABLE_TASKS: readonly TaskName[] = Object.keys(MODULES) as TaskName[];

/**
 * Every task's module, loaded now: a long-running process (daemon, MCP server) takes all of its code at start, so
 * that an update of the installed package under it cannot pull a file from under a later tick (cli/preload.ts).
 */
export async function loadEveryTask(): Promise<void> {
  await Promise.all(Object.values(MODULES).map((load) => load()));
}

/** The task's module, loaded on first use. */
export function availableTask(name: TaskName): Promise<Task> {
  return MODULES[name]();
}

/** Expands `--task` values (names and groups) in a stable order, rejecting unknown ones. */
export function selectTasks(requested: readonly string[]): TaskName[] {
  const names = new Set<TaskName>();
  for (const r of requested) {
    if (isTaskName(r)) names.add(r);
    else if (TASK_GROUPS[r]) for (const n of TASK_GROUPS[r]) names.add(n);
    else {
      throw new UsageError({
        where: `--task ${r}`,
        message: 'unknown task or group',
        hint: `tasks: ${[...AVAILABLE_TASKS].sort().join(', ')}; groups: ${Object.keys(TASK_GROUPS).join(', ')}`,
      });
    }
  }
  return [...names];
}
