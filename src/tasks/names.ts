/** Every task of design.md §6, with its scope: fleet tasks run on the leader only. */
export const TASKS = {
  'messages-archive': 'fleet',
  'messages-purge': 'fleet',
  'inbox-hygiene': 'fleet',
  'attachments-cleanup': 'fleet',
  'rollback-cleanup': 'fleet',
  'backup-rotation': 'fleet',
  'log-rotation': 'fleet',
  'custom-rules': 'fleet',
  'fleet-liveness': 'fleet',
  'checkpoint-cleanup': 'local',
  'local-log-prune': 'local',
  'local-backup-rotation': 'local',
  health: 'local',
  'disk-check': 'local',
  'deps-audit': 'local',
} as const;

export type TaskName = keyof typeof TASKS;
export type TaskScope = (typeof TASKS)[TaskName];
export const TASK_NAMES = Object.keys(TASKS) as TaskName[];

export const CLEANUP_TASKS: readonly TaskName[] = [
  'inbox-hygiene',
  'messages-archive',
  'messages-purge',
  'attachments-cleanup',
  'rollback-cleanup',
  'backup-rotation',
  'log-rotation',
  'custom-rules',
  'checkpoint-cleanup',
  'local-log-prune',
  'local-backup-rotation',
];

/** The `--task` groups of the original plan's `maintain-roosync.ps1 -Task`. */
export const TASK_GROUPS: Record<string, readonly TaskName[]> = {
  health: ['health'],
  update: ['deps-audit'],
  cleanup: CLEANUP_TASKS,
  fleet: TASK_NAMES.filter((t) => TASKS[t] === 'fleet'),
  all: TASK_NAMES,
};

export function isTaskName(name: string): name is TaskName {
  return Object.hasOwn(TASKS, name);
}
