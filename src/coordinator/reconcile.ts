import { maintenanceSender } from '../roosync/send.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { GitRepo, TreeChange } from '../git/repo.js';
import { reconcileMessage, type Copies } from '../roosync/merge.js';
import { writeFileAtomic } from '../util/fs.js';
import { formatDate } from '../util/format.js';

/**
 * Local changes put on top of what the remote decided, file by file, never textually: message copies
 * are reconciled as RooSync means them (roosync/merge.ts); any other file keeps whichever side changed
 * it, and when both did, the remote's version stays and ours is kept aside. No file ever holds conflict
 * markers. `settle` is pure: the sides are functions from a path (from the top of the work tree) to its
 * bytes; the callers decide where the result goes (a private index, or the live work tree).
 */

export interface ReconcileContext {
  repo: GitRepo;
  machineId: string;
  now: number;
  /** Where a non-message local version that lost is kept (this machine's local state). */
  keptDir: string;
}

export type Side = (pathFromTop: string) => Buffer | undefined;

export interface Settled {
  /** What each path must hold afterwards (undefined: no file). Only paths whose outcome is known. */
  final: Map<string, Buffer | undefined>;
  /** Local message versions that could not be merged: kept in quarantine with why. */
  asides: { id: string; text: string; reason: string }[];
  /** Other files both sides changed: the remote's stays, the local version is kept aside. */
  keptLocal: { path: string; content: Buffer }[];
}

const FOLDERS = ['inbox', 'archive', 'sent'] as const;
const MESSAGE_PATH = /^messages\/(inbox|archive|sent)\/([^/]+)\.json$/;

export const sameBytes = (a: Buffer | undefined, b: Buffer | undefined) =>
  a === undefined ? b === undefined : b !== undefined && a.equals(b);

/** The message id a path names (relative to the top, under the shared state's prefix), if it is a message copy. */
export function messageIdOf(prefix: string, p: string): string | undefined {
  return p.startsWith(prefix) ? MESSAGE_PATH.exec(p.slice(prefix.length))?.[2] : undefined;
}

/** The three copies' paths of one message id. */
export function messagePaths(prefix: string, id: string): string[] {
  return FOLDERS.map((f) => `${prefix}messages/${f}/${id}.json`);
}

export function prefixOf(repo: GitRepo): string {
  return repo.sharedPrefix === '.' ? '' : `${repo.sharedPrefix}/`;
}

/** Three-way settlement of these paths (message paths are widened to all three copies of their message). */
export function settle(prefix: string, paths: readonly string[], base: Side, local: Side, remote: Side): Settled {
  const out: Settled = { final: new Map(), asides: [], keptLocal: [] };
  const ids = new Set<string>();
  for (const p of paths) {
    const id = messageIdOf(prefix, p);
    if (id !== undefined) {
      ids.add(id);
      continue;
    }
    const [b, l, r] = [base(p), local(p), remote(p)];
    if (sameBytes(l, r) || sameBytes(l, b)) out.final.set(p, r);
    else if (sameBytes(r, b)) out.final.set(p, l);
    else {
      out.final.set(p, r);
      if (l !== undefined) out.keptLocal.push({ path: p, content: l });
    }
  }
  for (const id of ids) {
    const copies = (side: Side): Copies => {
      const c: Copies = {};
      for (const f of FOLDERS) {
        const b = side(`${prefix}messages/${f}/${id}.json`);
        if (b !== undefined) c[f] = b.toString('utf8');
      }
      return c;
    };
    const r = reconcileMessage(copies(base), copies(local), copies(remote));
    for (const f of FOLDERS) {
      const text = r.final[f];
      out.final.set(`${prefix}messages/${f}/${id}.json`, text === undefined ? undefined : Buffer.from(text, 'utf8'));
    }
    if (r.aside) out.asides.push({ id, ...r.aside });
  }
  return out;
}

/** The files a message version kept aside becomes in quarantine/: the text, and a note of why. */
export function asideFiles(ctx: ReconcileContext, prefix: string, a: Settled['asides'][number]) {
  const stamp = formatDate(ctx.now).replace(/:/g, '-');
  const name = `${prefix}messages/quarantine/${a.id}.json.local-${ctx.machineId}-${stamp}`;
  const why = {
    file: `messages/${a.id}.json`,
    reason: a.reason,
    keptAt: new Date(ctx.now).toISOString(),
    by: maintenanceSender(ctx.machineId),
    restore: 'compare with the message in inbox/ or archive/ and merge by hand',
  };
  return [
    { path: name, content: Buffer.from(a.text, 'utf8') },
    { path: `${name}.why.json`, content: Buffer.from(JSON.stringify(why, null, 2), 'utf8') },
  ];
}

/** Other files' local versions that lost, kept in this machine's local state (never in the shared tree). */
export function keepLocalAside(ctx: ReconcileContext, kept: Settled['keptLocal']): string[] {
  if (kept.length === 0) return [];
  const dir = path.join(ctx.keptDir, formatDate(ctx.now).replace(/:/g, '-'));
  for (const k of kept) {
    const file = path.join(dir, k.path);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, k.content);
  }
  const names = kept.map((k) => k.path).join(', ');
  return [`local changes to ${names} conflicted with the remote's: the remote's version stays, ours is kept in ${dir}`];
}

/** The note for message versions kept in quarantine. */
export function asideNote(n: number): string[] {
  return n === 0
    ? []
    : [`${n} local message edits could not be merged with the remote's: kept in messages/quarantine/ with why`];
}

/**
 * Replays one commit onto `tip` in a private index (the work tree and the real index are untouched):
 * paths only the commit changed take its version; paths both changed are settled as above. Returns the
 * new commit (or `tip` when nothing is left of it) and the notes of what could not be merged whole.
 */
export async function replayCommit(
  ctx: ReconcileContext,
  sha: string,
  tip: string,
): Promise<{ head: string; notes: string[] }> {
  const { repo } = ctx;
  const prefix = prefixOf(repo);
  const own = await repo.treeDiff(`${sha}^`, sha);
  const tipTree = await repo.treeEntries(tip);
  const conflicting = own.filter(
    (c) => tipTree.get(c.path)?.sha !== c.from?.sha && tipTree.get(c.path)?.sha !== c.to?.sha,
  );
  const conflictIds = new Set(conflicting.flatMap((c) => messageIdOf(prefix, c.path) ?? []));
  const changes: TreeChange[] = [];
  for (const c of own) {
    const id = messageIdOf(prefix, c.path);
    if (id !== undefined && conflictIds.has(id)) continue;
    if (tipTree.get(c.path)?.sha === c.from?.sha) changes.push({ path: c.path, from: tipTree.get(c.path), to: c.to });
  }
  const notes: string[] = [];
  const hard = [
    ...conflicting.filter((c) => messageIdOf(prefix, c.path) === undefined).map((c) => c.path),
    ...[...conflictIds].flatMap((id) => messagePaths(prefix, id)),
  ];
  if (hard.length > 0) {
    const specs = hard.flatMap((p) => [`${sha}^:${p}`, `${sha}:${p}`, `${tip}:${p}`]);
    const blobs = await repo.readBlobs(specs);
    const side = (ref: string) => (p: string) => blobs.get(`${ref}:${p}`)?.content;
    const s = settle(prefix, hard, side(`${sha}^`), side(sha), side(tip));
    const writes = [...s.final].filter(([p, b]) => !sameBytes(b, side(tip)(p)));
    const extra = s.asides.flatMap((a) => asideFiles(ctx, prefix, a));
    const toHash = [...writes.flatMap(([p, b]) => (b ? [{ path: p, content: b }] : [])), ...extra];
    const shas = await repo.hashBlobs(toHash.map((w) => w.content));
    toHash.forEach((w, i) => {
      changes.push({ path: w.path, from: tipTree.get(w.path), to: { mode: '100644', sha: shas[i]! } });
    });
    for (const [p, b] of writes) if (!b && tipTree.has(p)) changes.push({ path: p, from: tipTree.get(p) });
    notes.push(...asideNote(s.asides.length), ...keepLocalAside(ctx, s.keptLocal));
  }
  if (changes.length === 0) return { head: tip, notes };
  const head = await repo.commitOnto(tip, changes, await repo.commitMeta(sha));
  return { head, notes };
}
