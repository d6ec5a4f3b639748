import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { listDirIfPresent, readCapped, unlessMissing, writeFileAtomic } from '../util/fs.js';
import { familyOf, pickSnapshot, snapshotsOf, type Snapshot } from './snapshots.js';

/** Each family folder says which file it backs up, so `backups list` can name files no longer configured. */
export const ORIGIN_FILE = 'origin.json';

export function writeOrigin(familyDir: string, file: string): void {
  const text = `${JSON.stringify({ file }, null, 2)}\n`;
  const current = unlessMissing(() => readFileSync(path.join(familyDir, ORIGIN_FILE), 'utf8'), undefined);
  if (current !== text) writeFileAtomic(path.join(familyDir, ORIGIN_FILE), text, 0o600);
}

export interface Family {
  family: string;
  file: string;
  dir: string;
  snapshots: (Snapshot & { bytes: number; path: string })[];
}

/** The file a family folder backs up, as its origin.json says (read guarded: it may be another machine's). */
export function originOf(familyDir: string): string | undefined {
  const read = readCapped(path.join(familyDir, ORIGIN_FILE), 64 * 1024);
  if (!('text' in read)) return undefined;
  try {
    const o = JSON.parse(read.text) as { file?: unknown };
    return typeof o.file === 'string' ? o.file : undefined;
  } catch {
    return undefined;
  }
}

/** Every family in a store: the configured files first (even with no snapshot yet), then any older ones. */
export function listFamilies(storeDir: string, configured: readonly string[]): Family[] {
  const onDisk = listDirIfPresent(storeDir);
  const byName = new Map<string, string>(configured.map((f) => [familyOf(f), f]));
  for (const name of onDisk) if (!byName.has(name)) byName.set(name, originOf(path.join(storeDir, name)) ?? name);
  return [...byName.entries()].map(([family, file]) => {
    const dir = path.join(storeDir, family);
    const snapshots = snapshotsOf(listDirIfPresent(dir)).map((s) => ({
      ...s,
      path: path.join(dir, s.name),
      bytes: unlessMissing(() => statSync(path.join(dir, s.name)).size, 0),
    }));
    return { family, file, dir, snapshots };
  });
}

/** The family a command-line operand names: a family folder's name, or the file's path (relative to `cwd`). */
export function findFamily(families: readonly Family[], operand: string, cwd: string): Family | undefined {
  const asPath = path.resolve(cwd, operand);
  return families.find((f) => f.family === operand || path.resolve(f.file) === asPath);
}

export interface RestorePlan {
  file: string;
  snapshot: Family['snapshots'][number];
  /** Where the current file is kept first (undefined: there is none, or it already equals the snapshot). */
  aside?: string;
  unchanged: boolean;
}

/** What a restore would do (pure but for reading the current file): the snapshot, and where the current file goes. */
export function planRestore(family: Family, at: number | undefined, now: number): RestorePlan {
  const snapshot = pickSnapshot(family.snapshots, at) as Family['snapshots'][number] | undefined;
  if (!snapshot)
    throw new UsageError({
      where: family.file,
      message: at === undefined ? 'no snapshot yet' : `no snapshot taken at or before ${new Date(at).toISOString()}`,
      hint: 'roosync-maint backups list shows them; roosync-maint run --task config-backup takes one',
    });
  if (!existsSync(path.dirname(family.file)))
    throw new UsageError({
      where: family.file,
      message: `its folder ${path.dirname(family.file)} does not exist`,
      hint: 'create the folder (or reinstall what owns it) first; a restore puts back a file, not its folders',
    });
  const current = unlessMissing(() => readFileSync(family.file), undefined);
  const wanted = readFileSync(snapshot.path);
  const unchanged = current?.equals(wanted) === true;
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  return {
    file: family.file,
    snapshot,
    unchanged,
    ...(current !== undefined && !unchanged && { aside: `${family.file}.before-restore-${stamp}` }),
  };
}

/** Puts the snapshot back, atomically, after keeping the current file aside (so a restore can be undone). */
export function applyRestore(plan: RestorePlan): void {
  if (plan.unchanged) return;
  const mode = unlessMissing(() => statSync(plan.file).mode & 0o777, 0o600);
  if (plan.aside) writeFileAtomic(plan.aside, readFileSync(plan.file), mode);
  writeFileAtomic(plan.file, readFileSync(plan.snapshot.path), mode);
}
