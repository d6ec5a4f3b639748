import { UsageError } from '../errors.js';
import { type GitRepo, type GitSettings, openClone } from '../git/repo.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import { localStateDir } from '../sharedState/localState.js';
import type { Progress, TaskContext } from '../tasks/types.js';
import { lockDaemon, lockMachine, type RunLock } from './lock.js';

/**
 * One machine's session on one shared state: the one place that opens the clone (or takes the folder as it is),
 * finds this machine's local state folder, takes and releases this machine's locks, and builds the task context.
 * The CLI, the daemon, the MCP server and `MaintenanceService` all start here.
 *
 * What it guarantees:
 * - **One clone, one state folder.** A session opens the clone once; its `stateDir` is the clone's
 *   `.git/roosync-maint/` (or this user's state folder for a plain folder or `--no-sync`), and every task of the
 *   session is told that folder: nothing the tasks remember lands elsewhere.
 * - **One writer per machine.** `withRunLock` runs its body holding this machine's run lock for this shared state
 *   (the same lock for a tick, a restore and a lease release) and releases it on every path, thrown errors
 *   included. A second writer waits (`wait`) or fails at once with the holder named.
 * - **Injected time and environment.** The task context carries the `now` and `env` it is given; a session never
 *   reads the wall clock or `process.env` itself.
 *
 * What it does not guarantee:
 * - That the clone is healthy: the sync heals it (`sync.ts`) and `health` reports what it could not heal.
 * - Exclusion across machines: that is the lease's (`election/`), arbitrated by the remote.
 * - That a lock outlives a process paused past the lock's stale time: `RunLock.compromised()` says when it did,
 *   and the tick then drops its fleet work.
 */
export interface SessionSpec {
  sharedState: string;
  machineId: string;
  git: GitSettings;
  env: NodeJS.ProcessEnv;
  /** `--no-sync`: the folder is used as it is, even inside a clone (no fetch, no commit, no push). */
  noSync?: boolean;
}

export interface MachineSession {
  readonly sharedState: string;
  readonly machineId: string;
  readonly env: NodeJS.ProcessEnv;
  /** The clone, unless the shared state is a plain folder or the session was opened with `noSync`. */
  readonly repo: GitRepo | undefined;
  /** This machine's local state folder for this shared state (never synced). */
  readonly stateDir: string;
  /** Runs `body` holding this machine's run lock; released on every path. */
  withRunLock<T>(wait: boolean, body: (lock: RunLock) => Promise<T>): Promise<T>;
  /** The one daemon of this machine and shared state: a second one fails at once. */
  lockDaemon(): Promise<RunLock>;
  /** What a task is told: this session's folders and clone, with the run's config, time and options. */
  taskContext(run: TaskRun): TaskContext;
}

/** What a task context takes from the run rather than from the session. */
export interface TaskRun {
  config: ResolvedConfig;
  now: number;
  dryRun: boolean;
  log: Logger;
  progress: Progress;
  version?: string | undefined;
  /** Why the remote could not be reached this run (the git health check says so). */
  offline?: string | undefined;
}

export type CloneSession = MachineSession & { readonly repo: GitRepo };

export async function openSession(spec: SessionSpec): Promise<MachineSession> {
  const repo = spec.noSync ? undefined : await openClone(spec.sharedState, spec.machineId, spec.git);
  return sessionOn(spec, repo);
}

/** A session on the clone, or a usage error saying why this command needs one (`what` completes "there is …"). */
export async function openCloneSession(spec: SessionSpec, what: string, hint?: string): Promise<CloneSession> {
  const session = await openSession({ ...spec, noSync: false });
  if (!session.repo)
    throw new UsageError({
      where: spec.sharedState,
      message: `not inside a git clone, so there is ${what}`,
      ...(hint && { hint }),
    });
  return session as CloneSession;
}

function sessionOn(spec: SessionSpec, repo: GitRepo | undefined): MachineSession {
  const { sharedState, machineId, env } = spec;
  const stateDir = localStateDir(sharedState, repo?.gitDir, env);
  return {
    sharedState,
    machineId,
    env,
    repo,
    stateDir,
    async withRunLock(wait, body) {
      const lock = await lockMachine(sharedState, repo?.gitDir, env, wait);
      try {
        return await body(lock);
      } finally {
        await lock.release();
      }
    },
    lockDaemon: () => lockDaemon(sharedState, repo?.gitDir, env),
    taskContext: (run) => ({
      sharedState,
      stateDir,
      env,
      machineId,
      config: run.config,
      now: run.now,
      dryRun: run.dryRun,
      log: run.log,
      progress: run.progress,
      ...(run.version !== undefined && { version: run.version }),
      ...(repo && { git: { repo, ...(run.offline !== undefined && { offline: run.offline }) } }),
    }),
  };
}
