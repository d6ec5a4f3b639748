import { lstat, readdir, realpath } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { errorCode } from '../errors.js';
import { isInside } from '../config/paths.js';
import { semaphore } from '../util/pool.js';
import type { Entry } from './plan.js';
import type { RetentionRule } from './rule.js';

/** Suffix of a folder set aside for removal; a run killed mid-removal leaves it, the next one finishes it. */
export const REMOVING_SUFFIX = '.roosync-maint-removing';

export function setAsideName(name: string): string {
  return `.${name}${REMOVING_SUFFIX}`;
}

export interface ScanResult {
  entries: Entry[];
  /** The root with symlinks resolved: where the executor acts. */
  realRoot: string;
  /** The root does not exist: nothing to do, not an error. */
  missingRoot: boolean;
}

export interface ScanOptions {
  /** Concurrent file-system calls, across the whole walk. */
  concurrency?: number;
  onUnit?: (scanned: number) => void;
}

export class RootOutsideBoundaryError extends Error {}

type Limit = ReturnType<typeof semaphore>;

interface UnitSummary {
  bytes: number;
  files: number;
  newestMtimeMs: number;
  excludedInside?: string;
  unreadable?: string;
}

/** Sums a folder unit without following a single symlink: lstat everywhere. */
async function summarizeDir(dir: string, rel: string, isExcluded: (name: string) => boolean, limit: Limit, ownStat: Stats): Promise<UnitSummary> {
  // Only files date a unit: a folder's own mtime moves whenever an entry is added or removed,
  // and every git checkout resets it. An empty folder falls back to its own mtime.
  const sum: UnitSummary = { bytes: 0, files: 0, newestMtimeMs: 0 };
  const walk = async (abs: string, relInside: string): Promise<void> => {
    let children: Dirent[];
    try {
      children = await limit(() => readdir(abs, { withFileTypes: true }));
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') sum.unreadable ??= `${errorCode(err) ?? 'error'} on ${relInside || '.'}`;
      return;
    }
    await Promise.all(
      children.map(async (child) => {
        const childRel = relInside ? `${relInside}/${child.name}` : child.name;
        if (isExcluded(child.name)) sum.excludedInside ??= `${rel}/${childRel}`;
        const abs2 = path.join(abs, child.name);
        let st: Stats;
        try {
          st = await limit(() => lstat(abs2));
        } catch (err) {
          if (errorCode(err) !== 'ENOENT') sum.unreadable ??= `${errorCode(err) ?? 'error'} on ${childRel}`;
          return;
        }
        if (st.isDirectory()) await walk(abs2, childRel);
        else {
          sum.newestMtimeMs = Math.max(sum.newestMtimeMs, st.mtimeMs);
          sum.files++;
          sum.bytes += st.size;
        }
      }),
    );
  };
  await walk(dir, '');
  if (sum.files === 0) sum.newestMtimeMs = ownStat.mtimeMs;
  return sum;
}

async function newestFileMtime(dir: string, limit: Limit): Promise<number> {
  let newest = 0;
  const children = await limit(() => readdir(dir, { withFileTypes: true })).catch(() => [] as Dirent[]);
  await Promise.all(
    children
      .filter((c) => c.isFile())
      .map(async (c) => {
        const st = await limit(() => lstat(path.join(dir, c.name))).catch(() => undefined);
        if (st) newest = Math.max(newest, st.mtimeMs);
      }),
  );
  return newest;
}

/**
 * Snapshots the units a rule may act on: walks the root one glob segment per level, never
 * descending through a symlink, and summarizes each matching unit (size, file count, newest
 * mtime, excluded names inside). Fails if the root resolves outside the rule's boundary.
 */
export async function scanRule(rule: RetentionRule, options: ScanOptions = {}): Promise<ScanResult> {
  const limit = semaphore(options.concurrency ?? 64);
  let realRoot: string;
  try {
    realRoot = await realpath(rule.root);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return { entries: [], realRoot: rule.root, missingRoot: true };
    throw err;
  }
  const realBoundary = await realpath(rule.boundary).catch(() => rule.boundary);
  if (!isInside(realBoundary, realRoot)) {
    throw new RootOutsideBoundaryError(`${rule.label} resolves to ${realRoot}, outside ${rule.boundary}: refused (a symlink must not lead a cleanup out of its root)`);
  }
  const matchers = rule.match.map((pattern) => pattern.split('/').map((seg) => picomatch(seg)));
  const isExcluded = rule.exclude.length > 0 ? picomatch(rule.exclude, { dot: true }) : () => false;
  const entries: Entry[] = [];
  let scanned = 0;

  const unit = async (abs: string, rel: string, st: Stats, interrupted: boolean): Promise<void> => {
    const entry: Entry = { rel, kind: 'other', bytes: st.size, files: 1, newestMtimeMs: st.mtimeMs };
    if (st.isSymbolicLink()) entry.kind = 'symlink';
    else if (st.isFile()) entry.kind = 'file';
    else if (st.isDirectory()) {
      entry.kind = 'dir';
      const sum = await summarizeDir(abs, rel, isExcluded, limit, st);
      Object.assign(entry, sum);
    }
    if (interrupted) entry.interrupted = true;
    if (rule.ageIncludesParentFiles) entry.parentNewestMtimeMs = await newestFileMtime(path.dirname(abs), limit);
    entries.push(entry);
    options.onUnit?.(++scanned);
  };

  const fitsUnit = (st: Stats) => st.isSymbolicLink() || (rule.unit === 'file' ? !st.isDirectory() : rule.unit === 'dir' ? st.isDirectory() : true);

  // Units are visited once even when several globs match them.
  const seen = new Set<string>();
  const descend = async (abs: string, rel: string, depth: number, segments: ((n: string) => boolean)[][]): Promise<void> => {
    let children: Dirent[];
    try {
      children = await limit(() => readdir(abs, { withFileTypes: true }));
    } catch (err) {
      if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return;
      throw err;
    }
    await Promise.all(
      children.map(async (child) => {
        const childAbs = path.join(abs, child.name);
        const childRel = rel ? `${rel}/${child.name}` : child.name;
        const interrupted = child.name.startsWith('.') && child.name.endsWith(REMOVING_SUFFIX);
        const here = segments.filter((m) => m[depth]?.(interrupted ? child.name.slice(1, -REMOVING_SUFFIX.length) : child.name));
        if (here.length === 0) return;
        const st = await limit(() => lstat(childAbs)).catch((err: unknown) => {
          if (errorCode(err) === 'ENOENT') return undefined;
          throw err;
        });
        if (!st) return;
        const last = here.filter((m) => m.length === depth + 1);
        if (last.length > 0 && (interrupted || fitsUnit(st)) && !seen.has(childRel)) {
          seen.add(childRel);
          await unit(childAbs, childRel, st, interrupted);
          return;
        }
        const deeper = here.filter((m) => m.length > depth + 1);
        if (deeper.length > 0 && st.isDirectory() && !interrupted) await descend(childAbs, childRel, depth + 1, deeper);
      }),
    );
  };
  await descend(realRoot, '', 0, matchers);
  return { entries, realRoot, missingRoot: false };
}
