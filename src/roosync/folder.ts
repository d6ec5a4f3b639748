import { type Dirent, opendirSync } from 'node:fs';
import path from 'node:path';
import { assertRealFolder, isOurTemp, readCapped, unlessMissing } from '../util/fs.js';
import { parseMessage, type Parsed } from './message.js';

/** Larger than any message RooSync writes by far; a bigger file is reported, never read. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export type EntryKind = 'file' | 'symlink' | 'dir' | 'other';

export function kindOf(d: Dirent): EntryKind {
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFile()) return 'file';
  return d.isDirectory() ? 'dir' : 'other';
}

/** One listing of a message folder: the `*.json` names RooSync lists (with their kind), and temp files with our mark. */
export interface FolderListing {
  names: string[];
  kinds: Map<string, EntryKind>;
  temps: string[];
}

/**
 * Visits a folder's entries one at a time (`opendir`), never holding the whole listing: a million-file inbox
 * costs what the caller keeps, not a million entries. A missing folder has no entries.
 */
export function eachEntry(dir: string, visit: (d: Dirent) => void): void {
  const handle = unlessMissing(() => opendirSync(dir, { bufferSize: 256 }), undefined);
  if (!handle) return;
  try {
    for (let d = handle.readSync(); d !== null; d = handle.readSync()) visit(d);
  } finally {
    handle.closeSync();
  }
}

/**
 * One pass over a message folder that keeps only the `*.json` names `keep` wants (with their kind) and our temp
 * files, and counts every `*.json` name: memory follows what is kept, not the folder's size.
 */
export function scanFolder(dir: string, keep: (name: string) => boolean): FolderListing & { total: number } {
  const kinds = new Map<string, EntryKind>();
  const temps: string[] = [];
  let total = 0;
  eachEntry(dir, (d) => {
    if (d.name.endsWith('.json')) {
      total++;
      if (keep(d.name)) kinds.set(d.name, kindOf(d));
    } else if (isOurTemp(d.name) && d.isFile()) temps.push(d.name);
  });
  return { names: [...kinds.keys()], kinds, temps, total };
}

/** How many messages RooSync lists in a folder, in one pass that keeps no name. */
export function countMessages(dir: string): number {
  return scanFolder(dir, () => false).total;
}

/** The `n` greatest `*.json` names of a folder (ids sort by date: the newest), greatest first, in one pass. */
export function newestMessageNames(dir: string, n: number): string[] {
  const top: string[] = [];
  eachEntry(dir, (d) => {
    if (!d.name.endsWith('.json') || (top.length === n && d.name <= top[n - 1]!)) return;
    let i = top.length;
    while (i > 0 && top[i - 1]! < d.name) i--;
    top.splice(i, 0, d.name);
    if (top.length > n) top.pop();
  });
  return top;
}

/**
 * Refuses message folders that are symbolic links (or not folders): a link committed by any clone
 * would make this machine act on whatever it points to. Missing folders are fine (nothing to do).
 */
export function assertRealFolders(sharedState: string, dirs: readonly string[]): void {
  for (const dir of dirs) assertRealFolder(sharedState, dir);
}

/** What a file looked like when read: size and mtime, compared again before acting on it. */
export function signatureOf(size: number, mtimeMs: number): string {
  return `${size}:${mtimeMs}`;
}

/** A message file as read: parsed with its signature and size, or why it could not be read. */
export type MessageRead = { parsed: Parsed; signature: string; bytes: number } | { unreadable: string; bytes: number };

/**
 * Reads one message file through one descriptor, never through a symbolic link, never more than
 * MAX_MESSAGE_BYTES; `undefined` if it moved away meanwhile (RooSync works the same folders).
 * Reasons never quote the content, only its kind and size.
 */
export function readMessage(dir: string, name: string, kind: EntryKind = 'file', now: number): MessageRead | undefined {
  if (kind === 'symlink') return { unreadable: 'a symbolic link: never read or followed', bytes: 0 };
  if (kind === 'dir') return { unreadable: 'a folder named like a message', bytes: 0 };
  const read = readCapped(path.join(dir, name), MAX_MESSAGE_BYTES);
  if ('missing' in read) return undefined;
  if ('unreadable' in read) return { unreadable: read.unreadable, bytes: read.size };
  return {
    parsed: parseMessage(read.text, name, now),
    signature: signatureOf(read.size, read.mtimeMs),
    bytes: read.size,
  };
}
