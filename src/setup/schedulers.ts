/** The OS schedulers an entry can be made for (kept apart so the command line's parser loads nothing more). */
export const SCHEDULERS = ['cron', 'systemd', 'windows'] as const;
export type SchedulerKind = (typeof SCHEDULERS)[number];
