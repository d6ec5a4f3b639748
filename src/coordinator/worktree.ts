import { createHash } from 'node:crypto';
import { rmdirSync } from 'node:fs';
import path from 'node:path';
import { errorCode } from '../errors.js';
import { readWithSignature, replaceIfUnchanged, type SignedRead } from '../util/fs.js';
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

export function isWholeMessage(content: Buffer): boolean {
  try {
    const v: unknown = JSON.parse(content.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** Whether this bytes-on-disk version may be merged now: a whole JSON object not written in the last moments. */
function settled(read: SignedRead | undefined, realNow: number): boolean {
  return read === undefined || (realNow - read.mtimeMs >= SETTLED_MS && isWholeMessage(read.content));
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
}

/** Brings the work tree's files from `from` to `to` where they still hold `from`'s version (see above). */
export async function applyToWorkTree(ctx: ReconcileContext, from: string, to: string): Promise<WorkTreeOutcome> {
  const { repo } = ctx;
  const prefix = prefixOf(repo);
  const changes = await repo.treeDiff(from, to);
  const disk = new Map<string, SignedRead | undefined>();
  const read = (p: string) => {
    if (!disk.has(p)) disk.set(p, readWithSignature(path.join(repo.top, p)));
    return disk.get(p);
  };
  const plain: string[] = [];
  const dirtyIds = new Set<string>();
  const left: string[] = [];
  for (const c of changes) {
    const now = read(c.path);
    const sha = now ? blobId(now.content, (c.to ?? c.from)!.sha) : undefined;
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
    if (!replaceIfUnchanged(path.join(repo.top, p), read(p), content)) left.push(p);
    else if (content === undefined) emptied.add(path.dirname(p));
  };
  for (const p of todo) write(p, at(to)(p));

  const notes: string[] = [];
  let asides = 0;
  const realNow = Date.now(); // file ages on disk: the file system's clock, whatever clock the run was given
  for (const id of dirtyIds) {
    const paths = messagePaths(prefix, id);
    if (!paths.every((p) => sameBytes(read(p)?.content, at(from)(p)) || settled(read(p), realNow))) {
      left.push(...paths.filter((p) => !sameBytes(read(p)?.content, at(to)(p))));
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
  return { notes, left };
}
