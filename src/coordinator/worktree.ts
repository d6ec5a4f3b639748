import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, rmdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { errorCode } from '../errors.js';
import { parseObject } from '../roosync/merge.js';
import type { TreeChange } from '../git/repo.js';
import { readWithSignature, replaceIfUnchanged, unlessMissing, type SignedRead } from '../util/fs.js';
import {
  asideFiles,
  asideNote,
  keepLocalAside,
  messageIdOf,
  messagePaths,
  prefixOf,
  sameBytes,
  settle,
  type ReconcileContext,
} from './reconcile.js';

/**
 * The live work tree is RooSync's as much as ours: it writes messages in place, without a temp file,
 * at any moment. So a sync never cleans, resets or checks out over it. After the branch moved (in git
 * objects only), this brings each changed file from the old commit's version to the new one, and only
 * where the file still holds the old version: a file RooSync changed meanwhile is merged at the message
 * level when it is complete and settled, otherwise left as it is for the next tick. Each write is a
 * temp file renamed over the original right after checking the original still has the size and mtime
 * it was read with.
 *
 * Guarantees: no file whose content differs from both versions is overwritten unless it parsed as a
 * whole message at least SETTLED_MS old and has not changed since it was read. Does not guarantee:
 * an in-place writer that opens the file in the microseconds between that check and the rename writes
 * into the replaced inode (the window of any rename; RooSync's own auto-archive has the same one).
 */

/** A file RooSync changed this recently may still be half-written: left for the next tick. */
export const SETTLED_MS = 2_000;

/** git's id of a blob with these bytes (sha1, or sha256 in a repository of that format). */
export function blobId(content: Buffer, like: string): string {
  const h = createHash(like.length === 64 ? 'sha256' : 'sha1');
  h.update(`blob ${content.length}\0`);
  h.update(content);
  return h.digest('hex');
}

/**
 * The blob id the bytes on disk stand for: as they are, or — where git checks files out with CRLF line ends
 * (core.autocrlf, Git for Windows' default) — with CRLF turned back into LF, if that is one of the two versions.
 */
function diskBlobId(content: Buffer, c: TreeChange): string {
  const like = (c.to ?? c.from)!.sha;
  const raw = blobId(content, like);
  if (raw === c.from?.sha || raw === c.to?.sha || !content.includes('\r\n')) return raw;
  const lf = blobId(Buffer.from(content.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'), like);
  return lf === c.from?.sha || lf === c.to?.sha ? lf : raw;
}

export function isWholeMessage(content: Buffer): boolean {
  return parseObject(content.toString('utf8')) !== undefined;
}

/** Whether this bytes-on-disk version may be merged now: a whole JSON object not written in the last moments. */
function settled(read: SignedRead | undefined, realNow: number): boolean {
  return read === undefined || (realNow - read.mtimeMs >= SETTLED_MS && isWholeMessage(read.content));
}

/** git's mode for a symbolic link: its blob holds the link's target. */
const SYMLINK_MODE = '120000';

/** A work-tree entry as git sees it: a file's bytes, or a symbolic link's target (never followed). */
function readEntry(file: string): SignedRead | undefined {
  const st = unlessMissing(() => lstatSync(file), undefined);
  if (!st) return undefined;
  if (st.isDirectory()) return { content: Buffer.alloc(0), size: -1, mtimeMs: st.mtimeMs }; // never equal to a blob
  return readWithSignature(file);
}

/** A symbolic link the commit holds, made as git's checkout makes it (the tasks refuse to work through it). */
function makeLinkIfAbsent(file: string, read: SignedRead | undefined, target: Buffer): boolean {
  if (read !== undefined) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  symlinkSync(target.toString('utf8'), file);
  return true;
}

/** Folders (from the top) a removal left empty go too, up the tree, as git's checkout does; a folder with anything in it stays. */
function removeEmptyFolders(top: string, dirs: Set<string>): void {
  for (const start of dirs) {
    for (let d = start; d !== '.' && d !== '' && d !== path.dirname(d); d = path.dirname(d)) {
      try {
        rmdirSync(path.join(top, d));
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') break; // not empty: its parents are not empty either
      }
    }
  }
}

export interface WorkTreeOutcome {
  notes: string[];
  /** Paths (from the top) left as RooSync had them: they differ from the new commit. */
  left: string[];
  /**
   * Message copies left while RooSync was writing them, with the blob each was derived from (`''`: none):
   * the next commit of this machine's edits merges them against it instead of overwriting the remote's edit.
   */
  pendingBase: Record<string, string>;
}

/** Brings the work tree's files from `from` to `to` where they still hold `from`'s version (see above). */
export async function applyToWorkTree(ctx: ReconcileContext, from: string, to: string): Promise<WorkTreeOutcome> {
  const { repo } = ctx;
  const prefix = prefixOf(repo);
  const changes = await repo.treeDiff(from, to);
  const disk = new Map<string, SignedRead | undefined>();
  const read = (p: string) => {
    if (!disk.has(p)) disk.set(p, readEntry(path.join(repo.top, p)));
    return disk.get(p);
  };
  const modes = new Map(changes.map((c) => [c.path, c.to?.mode]));
  const plain: string[] = [];
  const dirtyIds = new Set<string>();
  const left: string[] = [];
  for (const c of changes) {
    const now = read(c.path);
    // a folder where git has a file counts as no file: git holds no folders
    const sha = now && now.size !== -1 ? diskBlobId(now.content, c) : undefined;
    if (sha === c.to?.sha) continue;
    if (sha === c.from?.sha) {
      plain.push(c.path);
      continue;
    }
    const id = messageIdOf(prefix, c.path);
    if (id !== undefined) dirtyIds.add(id);
    else left.push(c.path);
  }
  const idPaths = [...dirtyIds].flatMap((id) => messagePaths(prefix, id));
  const todo = plain.filter((p) => !dirtyIds.has(messageIdOf(prefix, p) ?? ''));
  const blobs = await repo.readBlobs([
    ...todo.map((p) => `${to}:${p}`),
    ...idPaths.flatMap((p) => [`${from}:${p}`, `${to}:${p}`]),
  ]);
  const at = (ref: string) => (p: string) => blobs.get(`${ref}:${p}`)?.content;
  const emptied = new Set<string>();
  const write = (p: string, content: Buffer | undefined) => {
    const file = path.join(repo.top, p);
    // a folder a removal just emptied is looked at again
    const before = read(p)?.size === -1 ? readEntry(file) : read(p);
    try {
      const done =
        content !== undefined && modes.get(p) === SYMLINK_MODE
          ? makeLinkIfAbsent(file, before, content)
          : replaceIfUnchanged(file, before, content);
      if (!done) left.push(p);
      else if (content === undefined) emptied.add(path.dirname(p));
    } catch {
      left.push(p); // a folder where a file goes (or the reverse) that is not empty yet: the next tick
    }
  };
  // removals first: a folder replaced by a file (or a link) is empty before the file is made
  for (const p of todo) if (at(to)(p) === undefined) write(p, undefined);
  removeEmptyFolders(repo.top, emptied);
  for (const p of todo) if (at(to)(p) !== undefined) write(p, at(to)(p));

  const notes: string[] = [];
  const pendingBase: Record<string, string> = {};
  let asides = 0;
  const realNow = Date.now(); // file ages on disk: the file system's clock, whatever clock the run was given
  for (const id of dirtyIds) {
    const paths = messagePaths(prefix, id);
    if (!paths.every((p) => sameBytes(read(p)?.content, at(from)(p)) || settled(read(p), realNow))) {
      left.push(...paths.filter((p) => !sameBytes(read(p)?.content, at(to)(p))));
      for (const p of paths) pendingBase[p] = blobs.get(`${from}:${p}`)?.sha ?? '';
      continue;
    }
    const s = settle(prefix, paths, at(from), (p) => read(p)?.content, at(to));
    for (const [p, content] of s.final) if (!sameBytes(content, read(p)?.content)) write(p, content);
    for (const a of s.asides)
      for (const f of asideFiles(ctx, prefix, a)) replaceIfUnchanged(path.join(repo.top, f.path), undefined, f.content);
    asides += s.asides.length;
    notes.push(...keepLocalAside(ctx, s.keptLocal));
  }
  notes.push(...asideNote(asides));
  removeEmptyFolders(repo.top, emptied);
  if (left.length > 0)
    notes.push(
      `${left.length} file(s) changed on this machine while the sync ran were left as they are (merged by a later tick)`,
    );
  return { notes, left, pendingBase };
}

/**
 * The next commit of this machine's message edits: copies a sync left while RooSync wrote them are merged
 * against the version they were derived from (`pendingBase`) and the branch's, and the result is written
 * back where the file still holds what was read — so the remote's edit of the same message survives. Ids
 * whose copies are still not whole or settled stay pending. Returns what is still pending.
 */
export async function settlePending(
  ctx: ReconcileContext,
  pending: Record<string, string>,
): Promise<{ pending: Record<string, string>; notes: string[] }> {
  const { repo } = ctx;
  const prefix = prefixOf(repo);
  const ids = new Set(Object.keys(pending).flatMap((p) => messageIdOf(prefix, p) ?? []));
  if (ids.size === 0) return { pending: {}, notes: [] };
  const paths = [...ids].flatMap((id) => messagePaths(prefix, id));
  const bases = paths.flatMap((p) => (pending[p] ? [pending[p]!] : []));
  const blobs = await repo.readBlobs([...bases, ...paths.map((p) => `HEAD:${p}`)]);
  const still: Record<string, string> = {};
  const realNow = Date.now();
  let merged = 0;
  for (const id of ids) {
    const own = messagePaths(prefix, id);
    const disk = new Map(own.map((p) => [p, readWithSignature(path.join(repo.top, p))] as const));
    const base = (p: string) => (pending[p] ? blobs.get(pending[p]!)?.content : undefined);
    if (!own.every((p) => sameBytes(disk.get(p)?.content, base(p)) || settled(disk.get(p), realNow))) {
      for (const p of own) if (p in pending) still[p] = pending[p]!;
      continue;
    }
    const s = settle(
      prefix,
      own,
      base,
      (p) => disk.get(p)?.content,
      (p) => blobs.get(`HEAD:${p}`)?.content,
    );
    let whole = true;
    let wrote = false;
    for (const [p, content] of s.final) {
      if (sameBytes(content, disk.get(p)?.content)) continue;
      const ok = replaceIfUnchanged(path.join(repo.top, p), disk.get(p), content);
      whole &&= ok;
      wrote ||= ok;
    }
    for (const a of s.asides)
      for (const f of asideFiles(ctx, prefix, a)) replaceIfUnchanged(path.join(repo.top, f.path), undefined, f.content);
    if (!whole) {
      for (const p of own) if (p in pending) still[p] = pending[p]!;
    } else if (wrote) merged++;
  }
  const notes =
    merged > 0 ? [`merged ${merged} message(s) RooSync was writing during the last sync with the remote's edits`] : [];
  return { pending: still, notes };
}
