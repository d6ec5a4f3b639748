import type { Logger } from '../log.js';
import type { ResolvedConfig } from '../config/load.js';
import type { TaskName, TaskScope } from '../config/taskCatalogue.js';
import type { TaskResult } from '../report/taskResult.js';
import type { GitRepo } from '../git/repo.js';

export interface Progress {
  update(text: string): void;
  done(): void;
}

export const noProgress: Progress = { update() {}, done() {} };

export interface TaskContext {
  sharedState: string;
  /** This process's environment (RooSync's PostgreSQL read flag, per-machine paths). */
  env: NodeJS.ProcessEnv;
  machineId: string;
  config: ResolvedConfig;
  now: number;
  dryRun: boolean;
  log: Logger;
  progress: Progress;
  /** The clone, when the run syncs (the git health check reads it), and why the remote could not be reached. */
  git?: { repo: GitRepo; offline?: string };
  version?: string;
  /** This machine's local state folder (never synced): where a task keeps what it must remember. */
  stateDir: string;
  /** Ids messages-archive moved in this run: messages-purge never removes them in the same run. */
  archivedThisRun?: Set<string>;
}

export type { ReportAction, ReportVerdict, RuleReport, TaskCounts, TaskResult } from '../report/taskResult.js';
export { emptyResult } from '../report/taskResult.js';

export interface Task {
  name: TaskName;
  scope: TaskScope;
  run(ctx: TaskContext): Promise<TaskResult>;
}
