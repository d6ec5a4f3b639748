import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
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

/** The names RooSync lists in a message folder (`*.json`), without opening a single file. */
export function listMessageNames(dir: string): string[] {
  return absentIsEmpty(() => readdirSync(dir), [] as string[]).filter((n) => n.endsWith('.json'));
}

/** Reads and parses one message file; `undefined` if it moved away meanwhile (RooSync works the same folders). */
export function readMessageFile(dir: string, name: string): Parsed | undefined {
  const text = absentIsEmpty<string | undefined>(() => readFileSync(path.join(dir, name), 'utf8'), undefined);
  return text === undefined ? undefined : parseMessage(text, name);
}

/** `<id>.json.tmp` files: only we write them, so any present between runs is left by a killed run. */
export function listLeftoverTemps(dir: string): string[] {
  return absentIsEmpty(() => readdirSync(dir), [] as string[]).filter((n) => n.endsWith('.json.tmp'));
}

export function unlinkIfPresent(file: string): boolean {
  return absentIsEmpty(() => {
    unlinkSync(file);
    return true;
  }, false);
}
