import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * Config snapshots, one folder a backed-up file (its "family"), one file a snapshot named
 * `<time>-<hash>.<ext>`: the name alone says when it was taken and what it holds, so deduplication
 * and rotation never open a snapshot. The same names serve the whole local copy and the redacted
 * shared one (the hash is always of the whole file).
 */

export const SNAPSHOT_NAME = /^(\d{8}T\d{6})(\d{3})?Z-([0-9a-f]{16})(\.[A-Za-z0-9_.-]+)?$/;

export interface Snapshot {
  name: string;
  takenAt: number;
  hash: string;
}

export function contentHash(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** The family folder of a file: its name and a short hash of its full path (two `.env` files stay apart). */
export function familyOf(file: string): string {
  const base = path.basename(file).replace(/[^A-Za-z0-9_.-]/g, '_');
  return `${base}-${createHash('sha256').update(path.resolve(file)).digest('hex').slice(0, 8)}`;
}

/** `20261203T094500123Z`: to the millisecond (names of older versions stop at the second). */
const compact = (ms: number) => new Date(ms).toISOString().replace(/[-:.]/g, '');

export function snapshotName(file: string, takenAt: number, hash: string): string {
  const ext = path.extname(file);
  return `${compact(takenAt)}-${hash}${/^\.[A-Za-z0-9_-]+$/.test(ext) ? ext : ''}`;
}

export function parseSnapshot(name: string): Snapshot | undefined {
  const m = SNAPSHOT_NAME.exec(name);
  if (!m) return undefined;
  const t = m[1]!;
  const iso = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}`;
  return { name, takenAt: Date.parse(`${iso}.${m[2] ?? '000'}Z`), hash: m[3]! };
}

/**
 * When a new snapshot is taken: now, or just after the newest one when that is not older (two runs in one
 * millisecond, or a clock set back): snapshots sort by the time they were taken, never by their hash.
 */
export function nextSnapshotTime(existing: readonly Snapshot[], now: number): number {
  const newest = existing.reduce((t, s) => Math.max(t, s.takenAt), Number.NEGATIVE_INFINITY);
  return Math.max(now, newest + 1);
}

/** Snapshots newest first (names that are not snapshots are not ours: ignored). */
export function snapshotsOf(names: readonly string[]): Snapshot[] {
  return names
    .flatMap((n) => parseSnapshot(n) ?? [])
    .sort((a, b) => b.takenAt - a.takenAt || b.name.localeCompare(a.name));
}

export interface SnapshotPlan {
  /** Take a new snapshot (the content differs from the newest one). */
  take: boolean;
  /** Snapshots to remove so that `keepCount` remain, the new one counted. */
  remove: Snapshot[];
  reason: string;
}

/** Whether to snapshot and what to rotate (pure): an unchanged file takes nothing and keeps everything. */
export function planSnapshots(existing: readonly Snapshot[], hash: string, keepCount: number): SnapshotPlan {
  const newest = existing[0];
  const take = newest?.hash !== hash;
  const keep = take ? keepCount - 1 : keepCount;
  const remove = existing.slice(Math.max(0, keep));
  const reason = take
    ? newest
      ? `changed since the snapshot of ${new Date(newest.takenAt).toISOString()}`
      : 'no snapshot yet'
    : `unchanged since the snapshot of ${new Date(newest!.takenAt).toISOString()}`;
  return { take, remove, reason };
}

/** The snapshot to restore: the newest, or the newest taken at or before `at`. */
export function pickSnapshot(existing: readonly Snapshot[], at?: number): Snapshot | undefined {
  return at === undefined ? existing[0] : existing.find((s) => s.takenAt <= at);
}
