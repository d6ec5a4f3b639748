import { mkdirSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { BusyError, errorCode } from '../errors.js';

export interface RunLock {
  release(): Promise<void>;
  /** Set when the lock was lost while held (its file removed or not refreshable): the run must stop before pushing. */
  compromised(): Error | undefined;
}

export interface LockOptions {
  /** Wait for the other run instead of exiting 3 at once. */
  wait: boolean;
  /** A lock not refreshed for this long belongs to a dead run and is taken over (proper-lockfile's minimum is 5 s). */
  staleMs: number;
  waitMs?: number;
}

/** Serialises runs on one machine (hook, daemon, by hand) with proper-lockfile, outside the synced tree. */
export async function acquireRunLock(stateDir: string, options: LockOptions): Promise<RunLock> {
  mkdirSync(stateDir, { recursive: true });
  let lost: Error | undefined;
  const lockfilePath = path.join(stateDir, 'run.lock');
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(stateDir, {
      lockfilePath,
      realpath: false,
      stale: options.staleMs,
      update: Math.max(1000, Math.floor(options.staleMs / 3)),
      retries: options.wait ? { retries: Math.ceil((options.waitMs ?? 15 * 60_000) / 1000), factor: 1, minTimeout: 1000, maxTimeout: 1000 } : 0,
      onCompromised: (err) => {
        lost = err;
      },
    });
  } catch (err) {
    if (errorCode(err) === 'ELOCKED') throw new BusyError(`another roosync-maint run holds this machine's lock (${lockfilePath}); nothing was done`);
    throw err;
  }
  return {
    release: async () => {
      if (!lost) await release().catch(() => undefined);
    },
    compromised: () => lost,
  };
}
