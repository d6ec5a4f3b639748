/**
 * The task catalogue, in one place: every task, its scope (fleet tasks run on the leader only) and how
 * often it runs when `schedule.tasks` does not say (`0m` = every tick).
 */
const CATALOGUE = {
  'messages-archive': { scope: 'fleet', every: '1d' },
  'messages-purge': { scope: 'fleet', every: '1d' },
  'inbox-hygiene': { scope: 'fleet', every: '0m' },
  'attachments-cleanup': { scope: 'fleet', every: '1d' },
  'rollback-cleanup': { scope: 'fleet', every: '1d' },
  'backup-rotation': { scope: 'fleet', every: '1d' },
  'log-rotation': { scope: 'fleet', every: '1d' },
  'custom-rules': { scope: 'fleet', every: '1d' },
  'fleet-liveness': { scope: 'fleet', every: '0m' },
  'config-drift': { scope: 'fleet', every: '1d' },
  'checkpoint-cleanup': { scope: 'local', every: '1d' },
  'local-log-prune': { scope: 'local', every: '1d' },
  'local-backup-rotation': { scope: 'local', every: '1d' },
  'config-backup': { scope: 'local', every: '1d' },
  health: { scope: 'local', every: '1d' },
  'disk-check': { scope: 'local', every: '7d' },
  'deps-audit': { scope: 'local', every: '30d' },
  'deps-update': { scope: 'local', every: '30d' },
  tests: { scope: 'local', every: '7d' },
} as const;

export type TaskName = keyof typeof CATALOGUE;
export type TaskScope = (typeof CATALOGUE)[TaskName]['scope'];
export const TASK_NAMES = Object.keys(CATALOGUE) as TaskName[];

/** Each task's scope. */
export const TASKS = Object.fromEntries(TASK_NAMES.map((t) => [t, CATALOGUE[t].scope])) as Record<TaskName, TaskScope>;

/** How often each task runs when the config does not say. */
export const DEFAULT_INTERVALS = Object.fromEntries(TASK_NAMES.map((t) => [t, CATALOGUE[t].every])) as Record<
  TaskName,
  string
>;

/** The `schedule.tasks` entries of the original plan, shown by `config show` and `config init`. */
export const PLAN_SCHEDULE: Partial<Record<TaskName, string>> = Object.fromEntries(
  (['health', 'disk-check', 'deps-audit', 'messages-archive'] as const).map((t) => [t, DEFAULT_INTERVALS[t]]),
);

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
  update: ['deps-audit', 'deps-update'],
  tests: ['tests'],
  cleanup: CLEANUP_TASKS,
  fleet: TASK_NAMES.filter((t) => TASKS[t] === 'fleet'),
  all: TASK_NAMES,
};

export function isTaskName(name: string): name is TaskName {
  return Object.hasOwn(CATALOGUE, name);
}
