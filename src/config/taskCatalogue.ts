/**
 * The task catalogue, in one place: every task, its scope (fleet tasks run on the leader only) and how
 * often it runs when `schedule.tasks` does not say (`0m` = every tick).
 */
const CATALOGUE = {
  'messages-archive': {
    scope: 'fleet',
    every: '1d',
    does: 'move read inbox messages past their age to messages/archive',
  },
  'messages-purge': {
    scope: 'fleet',
    every: '1d',
    does: 'bundle archived messages past their age into messages/purged (restorable)',
  },
  'inbox-hygiene': { scope: 'fleet', every: '0m', does: 'quarantine inbox files RooSync cannot read' },
  'attachments-cleanup': { scope: 'fleet', every: '1d', does: 'remove attachments no message refers to any more' },
  'rollback-cleanup': { scope: 'fleet', every: '1d', does: 'remove .rollback/ entries past their age' },
  'backup-rotation': { scope: 'fleet', every: '1d', does: 'rotate the shared backups' },
  'log-rotation': { scope: 'fleet', every: '1d', does: 'rotate the shared logs' },
  'custom-rules': { scope: 'fleet', every: '1d', does: 'the retention rules of your config (rules)' },
  'fleet-liveness': { scope: 'fleet', every: '0m', does: 'flag machines whose status file went silent' },
  'config-drift': { scope: 'fleet', every: '1d', does: "compare the machines' config snapshots" },
  'rollout-advance': { scope: 'fleet', every: '0m', does: 'open the next wave of each rollout; halt one that failed' },
  rollout: { scope: 'local', every: '0m', does: "bring this machine's components to their rollout's target" },
  'checkpoint-cleanup': { scope: 'local', every: '1d', does: "prune this machine's checkpoints" },
  'local-log-prune': { scope: 'local', every: '1d', does: "prune this machine's logs" },
  'local-backup-rotation': { scope: 'local', every: '1d', does: "rotate this machine's backups" },
  'config-backup': { scope: 'local', every: '1d', does: "snapshot this machine's MCP and Roo configs" },
  health: { scope: 'local', every: '1d', does: 'MCP servers, git, tokens, shared state writable' },
  'disk-check': { scope: 'local', every: '7d', does: 'free space on the disks in use' },
  'deps-audit': { scope: 'local', every: '30d', does: 'npm audit and outdated of the MCP servers' },
  'deps-update': { scope: 'local', every: '30d', does: 'update the MCP servers within deps.update, tests first' },
  tests: { scope: 'local', every: '7d', does: 'run the configured test suites' },
} as const;

export type TaskName = keyof typeof CATALOGUE;
export type TaskScope = (typeof CATALOGUE)[TaskName]['scope'];
export const TASK_NAMES = Object.keys(CATALOGUE) as TaskName[];

/** Each task's scope. */
export const TASKS = Object.fromEntries(TASK_NAMES.map((t) => [t, CATALOGUE[t].scope])) as Record<TaskName, TaskScope>;

/** What each task does, in a few words (`run --help`). */
export const TASK_SUMMARIES = Object.fromEntries(TASK_NAMES.map((t) => [t, CATALOGUE[t].does])) as Record<
  TaskName,
  string
>;

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
  rollout: ['rollout-advance', 'rollout'],
  cleanup: CLEANUP_TASKS,
  fleet: TASK_NAMES.filter((t) => TASKS[t] === 'fleet'),
  all: TASK_NAMES,
};

export function isTaskName(name: string): name is TaskName {
  return Object.hasOwn(CATALOGUE, name);
}
