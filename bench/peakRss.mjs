import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

/**
 * Runs a command and reports its peak RSS, from GNU time (`-o` a file, so its stdout and stderr stay the command's).
 *
 * Not from the process itself: on Linux a child's `ru_maxrss` (`process.resourceUsage().maxRSS`) starts at the
 * RSS of the process that forked it and survives `execve`, so a child of a bench that has grown to 300 MB reports
 * at least 300 MB whatever it used. GNU time forks the command from its own small process: only the command's peak
 * counts. (Measured: a 442 MB parent's `node -e 0` child reports 414 MB in-process, 40 MB through GNU time.)
 */
export const hasGnuTime = existsSync('/usr/bin/time');

export function runMeasured(cmd, args, options = {}) {
  if (!hasGnuTime) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...options });
    return { ...r, rssKB: undefined };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'roosync-maint-rss-'));
  const out = path.join(dir, 'rss');
  try {
    const r = spawnSync('/usr/bin/time', ['-o', out, '-f', '%M', cmd, ...args], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      ...options,
    });
    const rssKB = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
    return { ...r, rssKB: Number.isFinite(rssKB) ? rssKB : undefined };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
