import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { errorCode } from '../errors.js';

/**
 * The one way this program writes a file that someone reads: `<file>.tmp` (not matched by RooSync's
 * `*.json`), written and fsynced, renamed over `<file>`, then the folder fsynced — so a reader never sees
 * a half-written file, and after a power cut the new name holds the whole new content or the old one.
 */

export function tempNameFor(file: string): string {
  return `${file}.tmp`;
}

/** Flushes a folder's entries (a rename) to disk; not possible on Windows, where rename is already journaled. */
function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function writeFileAtomic(file: string, content: string | Buffer, mode?: number): void {
  const tmp = tempNameFor(file);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

/** The same, without blocking the event loop (many files in flight at once: their fsyncs share journal commits). */
export async function writeFileAtomicAsync(file: string, content: string): Promise<void> {
  const tmp = tempNameFor(file);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  if (process.platform !== 'win32') {
    const dir = await open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

/** Runs `fn`; a missing file or folder (ENOENT) gives `absent` instead of an error. */
export function unlessMissing<T, A>(fn: () => T, absent: A): T | A {
  try {
    return fn();
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return absent;
    throw err;
  }
}

/** The async form of `unlessMissing`. */
export async function unlessMissingAsync<T, A>(p: Promise<T>, absent: A): Promise<T | A> {
  try {
    return await p;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return absent;
    throw err;
  }
}

/** Removes a file; false when it was already gone. */
export function unlinkIfPresent(file: string): boolean {
  return unlessMissing(() => {
    unlinkSync(file);
    return true;
  }, false);
}
