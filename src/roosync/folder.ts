import { closeSync, fstatSync, openSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { errorCode } from '../errors.js';
import { parseMessage, type Parsed } from './message.js';

function absentIsEmpty<T>(fn: () => T, empty: T): T {
  try {
    return fn();
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return empty;
    throw err;
  }
}

/** One listing of a message folder: the `*.json` names RooSync lists, and our leftover temp files. */
export interface FolderListing {
  names: string[];
  temps: string[];
}

export function listFolder(dir: string): FolderListing {
  const all = absentIsEmpty(() => readdirSync(dir), [] as string[]);
  return { names: all.filter((n) => n.endsWith('.json')), temps: all.filter((n) => n.endsWith('.json.tmp')) };
}

/** The names RooSync lists in a message folder (`*.json`), without opening a single file. */
export function listMessageNames(dir: string): string[] {
  return listFolder(dir).names;
}

/** What a file looked like when read: size and mtime, compared again before acting on it. */
export function signatureOf(size: number, mtimeMs: number): string {
  return `${size}:${mtimeMs}`;
}

/** Reads a message and its signature through one file descriptor; `undefined` if it moved away meanwhile. */
export function readMessageWithSignature(dir: string, name: string): { parsed: Parsed; signature: string } | undefined {
  return absentIsEmpty<{ parsed: Parsed; signature: string } | undefined>(() => {
    const fd = openSync(path.join(dir, name), 'r');
    try {
      const st = fstatSync(fd);
      return { parsed: parseMessage(readFileSync(fd, 'utf8'), name), signature: signatureOf(st.size, st.mtimeMs) };
    } finally {
      closeSync(fd);
    }
  }, undefined);
}

/** Reads and parses one message file; `undefined` if it moved away meanwhile (RooSync works the same folders). */
export function readMessageFile(dir: string, name: string): Parsed | undefined {
  const text = absentIsEmpty<string | undefined>(() => readFileSync(path.join(dir, name), 'utf8'), undefined);
  return text === undefined ? undefined : parseMessage(text, name);
}

export function unlinkIfPresent(file: string): boolean {
  return absentIsEmpty(() => {
    unlinkSync(file);
    return true;
  }, false);
}
