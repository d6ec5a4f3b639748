import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  unlinkSync,
  writeSync,
  readdirSync,
  type Stats,
} from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { errorCode } from '../errors.js';
import { formatBytes } from './format.js';

/**
 * The one way this program writes a file that someone reads: a temp file beside it (its name carries our
 * marker, the process and a counter, and does not end in `.json`, so RooSync never lists it and no other
 * process or program ever shares it), written whole and fsynced, its size checked, renamed over `<file>`,
 * then the folder fsynced — so a reader never sees a half-written file, a full disk fails the write instead
 * of replacing a good file with a short one, and after a power cut the name holds the new content or the old.
 */

/** What every temp file of ours ends with: only files carrying it are ever cleaned up as ours. */
export const TEMP_MARK = '.roosync-maint.tmp';
let tempCounter = 0;

/** A part no other process (on this machine or another sharing the folder) has: pids repeat across machines. */
const processTag = `${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export function tempNameFor(file: string): string {
  return `${file}.${processTag}-${(tempCounter++).toString(36)}${TEMP_MARK}`;
}

/**
 * Removes the temp files a killed write of `file` left beside it (`<file>.<tag>.roosync-maint.tmp`). Only for a
 * file no other process writes meanwhile: this machine's own state, under its run lock.
 */
export function removeLeftoverTemps(file: string): void {
  const prefix = `${path.basename(file)}.`;
  for (const name of listDirIfPresent(path.dirname(file)))
    if (name.startsWith(prefix) && isOurTemp(name)) unlinkIfPresent(path.join(path.dirname(file), name));
}

/** Whether a folder entry is a temp file of ours (of any process, this one or a killed one). */
export function isOurTemp(name: string): boolean {
  return name.endsWith(TEMP_MARK);
}

/** A write that stopped short: the disk is full, or a quota or a file size limit was reached. */
export class ShortWriteError extends Error {
  readonly code = 'ENOSPC';
  constructor(file: string, wrote: number, wanted: number) {
    super(`${file}: only ${wrote} of ${wanted} bytes could be written (disk full?): the old file was kept`);
    this.name = 'ShortWriteError';
  }
}

/** Writes every byte through `fd` (write(2) may write fewer than asked), then checks the file's size. */
function writeWhole(fd: number, file: string, bytes: Buffer): void {
  let at = 0;
  while (at < bytes.length) {
    const n = writeSync(fd, bytes, at, bytes.length - at);
    if (n <= 0) throw new ShortWriteError(file, at, bytes.length);
    at += n;
  }
  const size = fstatSync(fd).size;
  if (size !== bytes.length) throw new ShortWriteError(file, size, bytes.length);
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
  renameOver(file, content, mode, () => true);
  fsyncDir(path.dirname(file));
}

/**
 * Writes `content` whole to a temp file beside `file`, fsynced, then renames it over `file` if `stillOk()` says
 * so right before the rename. The temp file never stays behind. False (nothing changed) when `stillOk` refused.
 */
function renameOver(file: string, content: string | Buffer, mode: number | undefined, stillOk: () => boolean): boolean {
  const tmp = tempNameFor(file);
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeWhole(fd, file, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (!stillOk()) {
      unlinkIfPresent(tmp);
      return false;
    }
    retryWhileHeld(() => renameSync(tmp, file));
    return true;
  } catch (err) {
    unlinkIfPresent(tmp);
    throw err;
  }
}

/** The same, without blocking the event loop (many files in flight at once: their fsyncs share journal commits). */
export async function writeFileAtomicAsync(file: string, content: string, durable = true): Promise<void> {
  const tmp = tempNameFor(file);
  const bytes = Buffer.from(content, 'utf8');
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(bytes);
      const { size } = await handle.stat();
      if (size !== bytes.length) throw new ShortWriteError(file, size, bytes.length);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await retryWhileHeldAsync(() => rename(tmp, file));
  } catch (err) {
    unlinkIfPresent(tmp);
    throw err;
  }
  if (durable) await fsyncDirShared(path.dirname(file));
}

/**
 * On Windows a file another program holds open for a moment (Google Drive, Defender, the search indexer) makes a
 * rename fail with EPERM, EACCES or EBUSY; graceful-fs and VS Code retry for that reason. So do we, briefly:
 * attempts after 10, 20, 40 … ms, about 1.3 s in all, then the error stands. Elsewhere those codes mean what they
 * say (permissions), and the first error stands.
 */
const HELD = new Set(['EPERM', 'EACCES', 'EBUSY']);
const HELD_DELAYS_MS = [10, 20, 40, 80, 160, 320, 640];

export function retryWhileHeld<T>(fn: () => T, windows = process.platform === 'win32'): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      const delay = HELD_DELAYS_MS[attempt];
      if (!windows || delay === undefined || !HELD.has(errorCode(err) ?? '')) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay); // a sync pause: this is a sync write
    }
  }
}

export async function retryWhileHeldAsync<T>(fn: () => Promise<T>, windows = process.platform === 'win32'): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const delay = HELD_DELAYS_MS[attempt];
      if (!windows || delay === undefined || !HELD.has(errorCode(err) ?? '')) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * Opens a file for reading, never through a symbolic link: with O_NOFOLLOW where the OS has it; on Windows
 * (no O_NOFOLLOW) by lstat first, then checking that the opened file is the one lstat saw (same dev and inode).
 * A link is an error with code ELOOP, as O_NOFOLLOW gives.
 */
export function openNoFollow(file: string): number {
  if (constants.O_NOFOLLOW !== undefined) return openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  const loop = () => Object.assign(new Error(`${file} is a symbolic link`), { code: 'ELOOP' });
  const before = lstatSync(file);
  if (before.isSymbolicLink()) throw loop();
  const fd = openSync(file, constants.O_RDONLY);
  const after = fstatSync(fd);
  if (after.ino !== before.ino || after.dev !== before.dev) {
    closeSync(fd);
    throw loop(); // replaced between the two calls: treat as the link it may be
  }
  return fd;
}

/** A file's bytes with the size and mtime they were read with (one descriptor, never through a link). */
export interface SignedRead {
  content: Buffer;
  size: number;
  mtimeMs: number;
}

export function readWithSignature(file: string): SignedRead | undefined {
  let fd: number;
  try {
    fd = openNoFollow(file);
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return undefined;
    if (errorCode(err) !== 'ELOOP') throw err;
    // a symbolic link: what git holds for it, its target, never what it points to
    const st = lstatSync(file);
    return { content: Buffer.from(readlinkSync(file)), size: st.size, mtimeMs: st.mtimeMs };
  }
  try {
    const st = fstatSync(fd);
    return { content: readFileSync(fd), size: st.size, mtimeMs: st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

const sameSignature = (st: { size: number; mtimeMs: number } | undefined, read: SignedRead | undefined) =>
  st === undefined ? read === undefined : read !== undefined && st.size === read.size && st.mtimeMs === read.mtimeMs;

/**
 * Replaces `file` with `content` (undefined: removes it) only if it still has the size and mtime it was
 * read with (`read`; undefined: it must still be missing). The check runs right before the rename, after
 * the new content is written whole. False, and nothing changed, when the file moved on meanwhile.
 */
export function replaceIfUnchanged(file: string, read: SignedRead | undefined, content: Buffer | undefined): boolean {
  const current = () => unlessMissing(() => lstatSync(file), undefined);
  if (content === undefined) {
    if (!sameSignature(current(), read)) return false;
    unlinkIfPresent(file);
    return true;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  return renameOver(file, content, undefined, () => sameSignature(current(), read));
}

/**
 * Makes files written with `durable = false` safe on disk: each file fsynced (eight at a time, so their
 * journal commits are shared), then each folder once. Only these files are flushed — never a whole
 * filesystem's dirty data (a syncfs would also wait for every other program's writes).
 */
export async function flushToDisk(files: readonly string[]): Promise<void> {
  const todo = files.filter((f) => existsSync(f));
  const worker = async () => {
    for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
      // FlushFileBuffers needs write access on Windows; 'r+' opens for writing without changing anything
      const handle = await open(f, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  };
  const dirs = new Set(files.map((f) => path.dirname(f)));
  await Promise.all(Array.from({ length: 8 }, worker));
  if (process.platform !== 'win32') for (const dir of dirs) await fsyncDirAsync(dir);
}

/** Per folder: the fsync running now, and the next one (not started yet) that later renames can join. */
const dirSyncs = new Map<string, { running?: Promise<void>; next?: Promise<void> }>();

/**
 * Group commit for folder fsyncs: a writer joins the next fsync of its folder, which starts after the one
 * running now (that one may have started before its rename). Eight archives in flight share one fsync.
 */
function fsyncDirShared(dir: string): Promise<void> {
  if (process.platform === 'win32') return Promise.resolve();
  let s = dirSyncs.get(dir);
  if (!s) {
    s = {};
    dirSyncs.set(dir, s);
  }
  const state = s;
  if (state.next !== undefined) return state.next;
  const next = (state.running ?? Promise.resolve()).then(async () => {
    state.next = undefined;
    const running = fsyncDirAsync(dir);
    state.running = running.catch(() => undefined);
    await running;
  });
  state.next = next;
  return next;
}

async function fsyncDirAsync(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
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

/** A folder's entry names; none when the folder is missing. */
export function listDirIfPresent(dir: string): string[] {
  return unlessMissing(() => readdirSync(dir), [] as string[]);
}

/** Removes a file; false when it was already gone. */
export function unlinkIfPresent(file: string): boolean {
  return unlessMissing(() => {
    unlinkSync(file);
    return true;
  }, false);
}

/** A file read from a folder someone else writes: its text, or that it is missing, or why it was not read. */
export type CappedRead =
  | { text: string; size: number; mtimeMs: number }
  | { missing: true }
  | { unreadable: string; size: number };

/**
 * Reads a file through one descriptor, never through a symbolic link, never more than `maxBytes`.
 * Reasons name the kind and size of what was found, never its content.
 */
export function readCapped(file: string, maxBytes: number): CappedRead {
  let fd: number;
  try {
    fd = openNoFollow(file);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT') return { missing: true };
    if (code === 'ELOOP') return { unreadable: 'a symbolic link: never read or followed', size: 0 };
    return { unreadable: `cannot be opened (${code ?? String(err)})`, size: 0 };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { unreadable: 'not a regular file', size: 0 };
    if (st.size > maxBytes) return { unreadable: `too large to inspect (${formatBytes(st.size)})`, size: st.size };
    return { text: readFileSync(fd, 'utf8'), size: st.size, mtimeMs: st.mtimeMs };
  } catch (err) {
    return { unreadable: `cannot be read (${errorCode(err) ?? String(err)})`, size: 0 };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether this user may make files in a folder: access(2), which also knows read-only mounts and ACLs, and
 * touches nothing (a probe file would change the folder's mtime, and dry runs change nothing at all). On Windows,
 * where access() ignores ACLs, a probe file is made and removed (`.probe-<pid>.roosync-maint.tmp`).
 */
export function probeWritable(
  dir: string,
  platform: NodeJS.Platform = process.platform,
): { code: string; message: string } | undefined {
  try {
    // on Windows access() looks at the read-only attribute only, never at ACLs: a real probe file tells
    if (platform === 'win32') {
      const probe = path.join(dir, `.probe-${process.pid}${TEMP_MARK}`);
      closeSync(openSync(probe, 'wx'));
      unlinkSync(probe);
      return undefined;
    }
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (err) {
    return { code: errorCode(err) ?? 'EIO', message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Throws when `dir` is a symbolic link or not a folder (named relative to `root`); false when it does not exist,
 * true when it is a real folder.
 */
export function assertRealFolder(root: string, dir: string): boolean {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
  const shown = path.relative(root, dir).split(path.sep).join('/');
  if (st.isSymbolicLink())
    throw new Error(`${shown} is a symbolic link: refusing to work through it (replace it with a real folder)`);
  if (!st.isDirectory()) throw new Error(`${shown} is not a folder`);
  return true;
}

/**
 * Makes `dir` (inside `root`) exist as a real folder, refusing to write through a symbolic link on the way:
 * any machine can commit a symlinked `maintenance/machines` that points out of the shared state, and a write
 * through it would land wherever it points. Each part below `root` is checked before and after creating it.
 */
export function ensureRealDir(root: string, dir: string): void {
  const rel = path.relative(root, dir);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${dir} is outside ${root}`);
  const check = () => {
    let at = root;
    for (const part of rel.split(path.sep).filter(Boolean)) {
      at = path.join(at, part);
      if (!assertRealFolder(root, at)) return;
    }
  };
  check();
  mkdirSync(dir, { recursive: true });
  check();
}
