import { readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { assertRealFolder, isOurTemp, readCapped, unlessMissing } from '../util/fs.js';
import { parseMessage, type Parsed } from './message.js';

/** Larger than any message RooSync writes by far; a bigger file is reported, never read. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export type EntryKind = 'file' | 'symlink' | 'dir' | 'other';

function kindOf(d: Dirent): EntryKind {
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

export function listFolder(dir: string): FolderListing {
  const all = unlessMissing(() => readdirSync(dir, { withFileTypes: true }), [] as Dirent[]);
  const kinds = new Map<string, EntryKind>();
  const temps: string[] = [];
  for (const d of all) {
    if (d.name.endsWith('.json')) kinds.set(d.name, kindOf(d));
    else if (isOurTemp(d.name) && d.isFile()) temps.push(d.name);
  }
  return { names: [...kinds.keys()], kinds, temps };
}

/** The names RooSync lists in a message folder (`*.json`), without opening a single file. */
export function listMessageNames(dir: string): string[] {
  return listFolder(dir).names;
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
export function readMessage(
  dir: string,
  name: string,
  kind: EntryKind = 'file',
  now = Date.now(),
): MessageRead | undefined {
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
