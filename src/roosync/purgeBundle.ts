import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { errorMessage } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';

/**
 * Where a plain-folder purge keeps what it removed: `messages/purged/<YYYY-MM>.jsonl.gz`, one JSON
 * line per removed file with its exact text. RooSync never reads this folder. In a git clone the
 * history holds removed files instead, so no bundle is written there.
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

/** The largest bundle we unpack (a month of purges is a few MB). */
const MAX_UNPACKED = 512 * 1024 * 1024;

export type BundleRead = { entries: PurgedEntry[] } | { corrupt: string };

function isEntry(v: unknown): v is PurgedEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  const known = e.folder === 'archive' || e.folder === 'sent';
  return typeof e.id === 'string' && known && typeof e.text === 'string' && typeof e.purgedAt === 'string';
}

export function readBundle(file: string): BundleRead {
  let lines: string[];
  try {
    lines = gunzipSync(readFileSync(file), { maxOutputLength: MAX_UNPACKED }).toString('utf8').split('\n');
  } catch (err) {
    return { corrupt: `cannot be unpacked (${errorMessage(err)})` };
  }
  const entries: PurgedEntry[] = [];
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
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

/** The bundle files, newest month first (`2026-11.jsonl.gz`, then `2026-11.2.jsonl.gz` …). */
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
 * Adds entries to this month's bundle (deduplicated) and returns its path relative to the shared
 * state. Written to a temp name, then renamed: a killed run leaves the old bundle whole. A bundle
 * that cannot be read is never overwritten: the entries go to the next free name instead.
 */
export function addToBundle(sharedState: string, now: number, entries: readonly PurgedEntry[]): string {
  const dir = path.join(sharedState, PURGED_REL);
  mkdirSync(dir, { recursive: true });
  const month = new Date(now).toISOString().slice(0, 7);
  for (let n = 1; ; n++) {
    const name = n === 1 ? `${month}.jsonl.gz` : `${month}.${n}.jsonl.gz`;
    const file = path.join(dir, name);
    const existing: BundleRead = existsSync(file) ? readBundle(file) : { entries: [] };
    if ('corrupt' in existing) continue;
    const merged = new Map(existing.entries.map((e) => [keyOf(e), e]));
    for (const e of entries) if (!merged.has(keyOf(e))) merged.set(keyOf(e), e);
    const body = [...merged.values()].map((e) => JSON.stringify(e)).join('\n');
    writeFileAtomic(file, gzipSync(`${body}\n`, { level: 9 }));
    return `${PURGED_REL}/${name}`;
  }
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
    const read = readBundle(file);
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
