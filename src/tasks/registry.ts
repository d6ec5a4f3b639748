import { depsAuditTask, diskCheckTask, fleetLivenessTask, healthTask } from './healthTasks.js';
import { attachmentsCleanup, inboxHygiene, messagesArchive, messagesPurge } from './messageTasks.js';
import {
  checkpointCleanup,
  customRules,
  backupRotation,
  localBackupRotation,
  localLogPrune,
  logRotation,
  rollbackCleanup,
} from './cleanupTasks.js';
import { TASK_GROUPS, isTaskName, type TaskName } from '../config/taskCatalogue.js';
import type { Task } from './types.js';
import { configBackupTask } from './configBackupTask.js';
import { testsTask } from './testsTask.js';
import { depsUpdateTask } from './depsUpdateTask.js';
import { configDriftTask } from './configDriftTask.js';
import { UsageError } from '../errors.js';

const AVAILABLE: Task[] = [
  inboxHygiene,
  messagesArchive,
  messagesPurge,
  attachmentsCleanup,
  rollbackCleanup,
  backupRotation,
  logRotation,
  customRules,
  checkpointCleanup,
  localLogPrune,
  localBackupRotation,
  configBackupTask,
  healthTask,
  diskCheckTask,
  depsAuditTask,
  depsUpdateTask,
  testsTask,
  configDriftTask,
  fleetLivenessTask,
];

/** Every task, in the order a tick runs them. */
export const AVAILABLE_TASKS: readonly TaskName[] = AVAILABLE.map((t) => t.name);

export function availableTask(name: TaskName): Task | undefined {
  return AVAILABLE.find((t) => t.name === name);
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
        hint: `tasks: ${AVAILABLE.map((t) => t.name)
          .sort()
          .join(', ')}; groups: ${Object.keys(TASK_GROUPS).join(', ')}`,
      });
    }
  }
  return [...names];
}
