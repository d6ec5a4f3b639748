import { MINUTE_MS } from '../util/time.js';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { BusyError, errorCode } from '../errors.js';
import { localStateDir } from '../sharedState/localState.js';

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
  /** Which lock: `run` (one run at a time) or `daemon` (one daemon at a time). */
  name?: 'run' | 'daemon';
}

/** The stale period: 60 s, or env ROOSYNC_MAINT_LOCK_STALE_MS (proper-lockfile's minimum is 5,000). */
export function lockStaleMs(env: NodeJS.ProcessEnv): number {
  return Math.max(5000, Number(env.ROOSYNC_MAINT_LOCK_STALE_MS ?? MINUTE_MS) || MINUTE_MS);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

/**
 * A lock whose recorded owner is a dead process of this host is removed at once instead of
 * waiting out the stale period. The owner file names the lock folder by inode, so a lock just
 * taken by another new run (a different folder) is never mistaken for the dead one; a pid
 * reused by another process reads as alive, so doubt always means waiting.
 */
function removeIfOwnerDead(lockfilePath: string, ownerFile: string): boolean {
  try {
    const owner = JSON.parse(readFileSync(ownerFile, 'utf8')) as { pid: number; host: string; ino: number };
    if (owner.host !== os.hostname() || owner.pid === process.pid || alive(owner.pid)) return false;
    if (statSync(lockfilePath).ino !== owner.ino) return false;
    const dead = `${lockfilePath}.dead-${process.pid}`;
    renameSync(lockfilePath, dead);
    rmSync(dead, { recursive: true, force: true });
    return true;
  } catch {
    return false;
  }
}

/** Who holds a lock, as its owner file says: `, held by pid 1234 since …`. */
function holderText(ownerFile: string): string {
  try {
    const o = JSON.parse(readFileSync(ownerFile, 'utf8')) as { pid?: unknown; since?: unknown; command?: unknown };
    const cmd = typeof o.command === 'string' ? ` (${o.command})` : '';
    return `, held by pid ${String(o.pid)}${cmd} since ${String(o.since)}`;
  } catch {
    return '';
  }
}

/** Serialises runs on one machine (hook, daemon, by hand) with proper-lockfile, outside the synced tree. */
export async function acquireRunLock(stateDir: string, options: LockOptions): Promise<RunLock> {
  mkdirSync(stateDir, { recursive: true });
  let lost: Error | undefined;
  const name = options.name ?? 'run';
  const lockfilePath = path.join(stateDir, `${name}.lock`);
  const ownerFile = `${lockfilePath}.owner`;
  let release: () => Promise<void>;
  // proper-lockfile keys its table of held locks by this first argument (not by lockfilePath): each lock
  // needs its own, or releasing the run lock drops the daemon lock's entry and its refresh timer throws
  const take = (wait: boolean) =>
    lockfile.lock(path.join(stateDir, name), {
      lockfilePath,
      realpath: false,
      stale: options.staleMs,
      update: Math.max(1000, Math.floor(options.staleMs / 3)),
      retries: wait
        ? {
            retries: Math.ceil((options.waitMs ?? 15 * MINUTE_MS) / 1000),
            factor: 1,
            minTimeout: 1000,
            maxTimeout: 1000,
          }
        : 0,
      onCompromised: (err) => {
        lost = err;
      },
    });
  try {
    // once at once; then, if the holder is a dead process, at once again; only then wait (with --wait)
    release = await take(false).catch(async (err: unknown) => {
      if (errorCode(err) !== 'ELOCKED') throw err;
      if (removeIfOwnerDead(lockfilePath, ownerFile)) return take(options.wait);
      if (options.wait) return take(true);
      throw err;
    });
  } catch (err) {
    if (errorCode(err) === 'ELOCKED') {
      const who =
        name === 'daemon'
          ? 'another roosync-maint daemon runs for this shared state'
          : "another roosync-maint run holds this machine's lock";
      throw new BusyError(`${who} (${lockfilePath}${holderText(ownerFile)}); nothing was done`);
    }
    throw err;
  }
  writeFileSync(
    ownerFile,
    JSON.stringify({
      pid: process.pid,
      host: os.hostname(),
      ino: statSync(lockfilePath).ino,
      since: new Date().toISOString(),
      command: process.argv.slice(2, 4).join(' '),
    }),
  );
  return {
    release: async () => {
      if (!lost) await release().catch(() => undefined);
    },
    compromised: () => lost,
  };
}

/** This machine's lock for this shared state, in its local state folder: how every writing command starts. */
export function lockMachine(
  sharedState: string,
  gitDir: string | undefined,
  env: NodeJS.ProcessEnv,
  wait: boolean,
): Promise<RunLock> {
  return acquireRunLock(localStateDir(sharedState, gitDir, env), { wait, staleMs: lockStaleMs(env) });
}

/** One daemon per machine and shared state: a second one exits 3 at once (a dead one's lock is taken over). */
export function lockDaemon(sharedState: string, gitDir: string | undefined, env: NodeJS.ProcessEnv): Promise<RunLock> {
  return acquireRunLock(localStateDir(sharedState, gitDir, env), {
    wait: false,
    staleMs: lockStaleMs(env),
    name: 'daemon',
  });
}
