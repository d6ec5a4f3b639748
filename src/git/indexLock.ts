import { MINUTE_MS } from '../util/time.js';
import { readdirSync, readFileSync, readlinkSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { isInside } from '../util/paths.js';

/** A git process is running with its working directory in this repo (Linux /proc; elsewhere: any git process counts). */
function gitRunningIn(top: string): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return true; // cannot tell: assume one is
  }
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'git') continue;
      if (isInside(top, readlinkSync(`/proc/${pid}/cwd`))) return true;
    } catch {
      // the process ended while we looked
    }
  }
  return false;
}

/**
 * Removes `.git/index.lock` left by a crashed git, only when it is old (`minAgeMs`) and no git
 * process is working in this repository. Returns what it did, for the log.
 */
export function recoverStaleIndexLock(
  gitDir: string,
  top: string,
  now: number,
  minAgeMs = 10 * MINUTE_MS,
): 'none' | 'fresh' | 'busy' | 'removed' {
  const lock = path.join(gitDir, 'index.lock');
  let mtimeMs: number;
  try {
    mtimeMs = statSync(lock).mtimeMs;
  } catch {
    return 'none';
  }
  if (now - mtimeMs < minAgeMs) return 'fresh';
  if (gitRunningIn(top)) return 'busy';
  unlinkSync(lock);
  return 'removed';
}
