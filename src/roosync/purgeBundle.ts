import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { errorCode, errorMessage } from '../errors.js';
import { unlinkIfPresent, writeFileAtomic, ensureRealDir } from '../util/fs.js';

/**
 * Where a plain-folder purge keeps what it removed: one bundle per purge run,
 * `messages/purged/<time>-<machine>-<unique>.jsonl.gz`, one JSON line per removed file with its exact
 * text. A bundle is written once and never rewritten, so two machines purging at once (a split lease on a
 * synced folder) never replace each other's, and a full disk can only fail the new bundle, never damage
 * an older one. RooSync never reads this folder. In a git clone the history holds removed files instead,
 * so no bundle is written there. Bundles of older versions (`<YYYY-MM>.jsonl.gz`) are read the same way.
 */
export const PURGED_REL = 'messages/purged';

export type PurgedFolder = 'archive' | 'sent';

export interface PurgedEntry {
  id: string;
  folder: PurgedFolder;
  purgedAt: string;
  by: string;
  /** The file's exact text, so a restore gives it back byte for byte. */
  text: string;
}

/**
 * The largest bundle we unpack, and the largest packed file we open. A bundle holds one run's purges (at most
 * `limits.maxDeletionsPerRun` messages, a few MB); a bundle any machine committed could be a zip bomb (100 KB
 * packed, GBs unpacked), so zlib stops at the cap and the bundle is reported as unreadable.
 */
export const MAX_UNPACKED = 32 * 1024 * 1024;
const MAX_PACKED = 8 * 1024 * 1024;

export type BundleRead = { entries: PurgedEntry[] } | { corrupt: string };

function isEntry(v: unknown): v is PurgedEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  const known = e.folder === 'archive' || e.folder === 'sent';
  return typeof e.id === 'string' && known && typeof e.text === 'string' && typeof e.purgedAt === 'string';
}

/** A bundle's entries; `only`: just the lines that may hold this id (the others are not parsed). */
export function readBundle(file: string, only?: string): BundleRead {
  let lines: string[];
  try {
    const size = statSync(file).size;
    if (size > MAX_PACKED) return { corrupt: `too large to unpack (${size} bytes packed)` };
    const unpacked = gunzipSync(readFileSync(file), { maxOutputLength: MAX_UNPACKED });
    lines = unpacked.toString('utf8').split('\n');
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ERR_BUFFER_TOO_LARGE' || /maxOutputLength|too large/i.test(errorMessage(err)))
      return { corrupt: `refused: it unpacks to more than ${MAX_UNPACKED / 1024 / 1024} MB (a zip bomb?)` };
    return { corrupt: `cannot be unpacked (${errorMessage(err)})` };
  }
  const entries: PurgedEntry[] = [];
  const needle = only === undefined ? undefined : JSON.stringify(only);
  for (const [i, line] of lines.entries()) {
    if (line === '' || (needle !== undefined && !line.includes(needle))) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return { corrupt: `line ${i + 1} is not JSON` };
    }
    if (!isEntry(v)) return { corrupt: `line ${i + 1} is not a purged-message entry` };
    entries.push(v);
  }
  return { entries };
}

const keyOf = (e: PurgedEntry) => `${e.folder}/${e.id}/${createHash('sha256').update(e.text).digest('hex')}`;

/** The bundle files, newest first by name (readers pick the newest copy by `purgedAt`, not by file). */
export function bundleFiles(sharedState: string): string[] {
  const dir = path.join(sharedState, PURGED_REL);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.jsonl.gz'));
  } catch {
    return [];
  }
  return names.sort((a, b) => b.localeCompare(a, 'en', { numeric: true })).map((n) => path.join(dir, n));
}

/**
 * Writes this run's entries as a new bundle and reads it back: every entry must be there with its exact
 * text before the caller may remove a single file. Throws (nothing to remove) when the bundle could not be
 * written whole or does not read back; returns its path relative to the shared state.
 */
export function writeBundle(
  sharedState: string,
  now: number,
  machineId: string,
  entries: readonly PurgedEntry[],
): string {
  const dir = path.join(sharedState, PURGED_REL);
  ensureRealDir(sharedState, dir);
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  const unique = `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
  const name = `${stamp}-${machineId.replace(/[^a-z0-9-]/gi, '-')}-${unique}.jsonl.gz`;
  const file = path.join(dir, name);
  const body = entries.map((e) => JSON.stringify(e)).join('\n');
  writeFileAtomic(file, gzipSync(`${body}\n`, { level: 9 }));
  const back = readBundle(file);
  const missing = 'corrupt' in back ? entries.length : countMissing(entries, back.entries);
  if ('corrupt' in back || missing > 0) {
    unlinkIfPresent(file);
    const why = 'corrupt' in back ? back.corrupt : `${missing} entries missing`;
    throw new Error(`${PURGED_REL}/${name} did not read back whole (${why}): nothing was removed`);
  }
  return `${PURGED_REL}/${name}`;
}

function countMissing(wanted: readonly PurgedEntry[], got: readonly PurgedEntry[]): number {
  const have = new Set(got.map(keyOf));
  return wanted.filter((e) => !have.has(keyOf(e))).length;
}

export interface PurgedLookup {
  /** The newest purged copy of the message per folder. */
  found: PurgedEntry[];
  /** Bundles that could not be read: the message may be in one of them. */
  corrupt: { file: string; reason: string }[];
}

export function findPurged(sharedState: string, id: string): PurgedLookup {
  const newest = new Map<PurgedFolder, PurgedEntry>();
  const corrupt: PurgedLookup['corrupt'] = [];
  for (const file of bundleFiles(sharedState)) {
    const read = readBundle(file, id);
    if ('corrupt' in read) {
      corrupt.push({ file: path.relative(sharedState, file).split(path.sep).join('/'), reason: read.corrupt });
      continue;
    }
    for (const e of read.entries) {
      const seen = newest.get(e.folder);
      if (e.id === id && (!seen || e.purgedAt > seen.purgedAt)) newest.set(e.folder, e);
    }
  }
  return { found: [...newest.values()], corrupt };
}
