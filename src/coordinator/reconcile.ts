import { maintenanceSender } from '../roosync/send.js';
import { mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { errorCode } from '../errors.js';
import type { GitRepo } from '../git/repo.js';
import { reconcileMessage, type Copies } from '../roosync/merge.js';
import { writeFileAtomic } from '../util/fs.js';
import { formatDate } from '../util/format.js';

/**
 * Puts local changes back on top of what the remote decided, file by file, never textually: message
 * copies are reconciled as RooSync means them (roosync/merge.ts); any other file keeps whichever side
 * changed it, and when both did, the remote's version stays and ours is kept aside. No file ever holds
 * conflict markers. The remote side is the work tree as the sync left it.
 */

export interface ReconcileContext {
  repo: GitRepo;
  sharedState: string;
  machineId: string;
  now: number;
  /** Where a non-message local version that lost is kept (this machine's local state). */
  keptDir: string;
}

/** Where the local and base versions come from: git refs, the first that has a path wins for `local`. */
export interface Sides {
  base: string;
  local: string[];
}

const FOLDERS = ['inbox', 'archive', 'sent'] as const;
const MESSAGE_PATH = /^messages\/(inbox|archive|sent)\/([^/]+)\.json$/;

function readDisk(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'EISDIR') return undefined;
    throw err;
  }
}

function writeDisk(file: string, content: Buffer | string | undefined): void {
  if (content === undefined) {
    try {
      unlinkSync(file);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
    return;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, content);
}

const same = (a: Buffer | undefined, b: Buffer | undefined) =>
  a === undefined ? b === undefined : b !== undefined && a.equals(b);

export interface ReconcileResult {
  notes: string[];
  /** Files (from the top of the work tree) this wrote or removed. */
  touched: string[];
}

export async function reconcileOnto(
  ctx: ReconcileContext,
  paths: readonly string[],
  sides: Sides,
): Promise<ReconcileResult> {
  const { repo } = ctx;
  const prefix = repo.sharedPrefix === '.' ? '' : `${repo.sharedPrefix}/`;
  const ids = new Set<string>();
  const others: string[] = [];
  for (const p of paths) {
    const m = p.startsWith(prefix) ? MESSAGE_PATH.exec(p.slice(prefix.length)) : null;
    if (m) ids.add(m[2]!);
    else others.push(p);
  }
  const messagePaths = [...ids].flatMap((id) => FOLDERS.map((f) => `${prefix}messages/${f}/${id}.json`));
  const all = [...messagePaths, ...others];
  const specs = all.flatMap((p) => [`${sides.base}:${p}`, ...sides.local.map((r) => `${r}:${p}`)]);
  const blobs = await repo.readBlobs(specs);
  const base = (p: string) => blobs.get(`${sides.base}:${p}`);
  const local = (p: string) => sides.local.map((r) => blobs.get(`${r}:${p}`)).find((b) => b !== undefined);
  const disk = (p: string) => readDisk(path.join(repo.top, p));
  const result: ReconcileResult = { notes: [], touched: [] };
  const put = (p: string, content: Buffer | string | undefined) => {
    const now = disk(p);
    const next = typeof content === 'string' ? Buffer.from(content) : content;
    if (same(now, next)) return;
    writeDisk(path.join(repo.top, p), content);
    result.touched.push(p);
  };

  let aside = 0;
  for (const id of ids) {
    const copies = (read: (p: string) => Buffer | undefined): Copies => {
      const c: Copies = {};
      for (const f of FOLDERS) {
        const b = read(`${prefix}messages/${f}/${id}.json`);
        if (b !== undefined) c[f] = b.toString('utf8');
      }
      return c;
    };
    const r = reconcileMessage(copies(base), copies(local), copies(disk));
    for (const f of FOLDERS) put(`${prefix}messages/${f}/${id}.json`, r.final[f]);
    if (r.aside) {
      keepAsideInQuarantine(ctx, prefix, id, r.aside.text, r.aside.reason);
      aside++;
    }
  }
  if (aside > 0)
    result.notes.push(
      `${aside} local message edits could not be merged with the remote's: kept in messages/quarantine/ with why`,
    );

  const kept: string[] = [];
  for (const p of others) {
    const [b, l, r] = [base(p), local(p), disk(p)];
    if (same(l, r) || same(l, b)) continue;
    if (same(r, b)) {
      put(p, l);
      continue;
    }
    // both changed it differently: the remote's version stays, ours is kept aside (never conflict markers)
    if (l !== undefined) {
      const file = path.join(ctx.keptDir, formatDate(ctx.now).replace(/:/g, '-'), p);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomic(file, l);
    }
    kept.push(p);
  }
  if (kept.length > 0)
    result.notes.push(
      `local changes to ${kept.join(', ')} conflicted with the remote's: the remote's version stays, ours is kept in ${ctx.keptDir}`,
    );
  return result;
}

/** The local version of a message that could not be merged, beside the quarantine with a note of why. */
function keepAsideInQuarantine(ctx: ReconcileContext, prefix: string, id: string, text: string, reason: string): void {
  const dir = path.join(ctx.repo.top, `${prefix}messages/quarantine`);
  mkdirSync(dir, { recursive: true });
  const name = `${id}.json.local-${ctx.machineId}-${formatDate(ctx.now).replace(/:/g, '-')}`;
  const why = {
    file: `messages/${id}.json`,
    reason,
    keptAt: new Date(ctx.now).toISOString(),
    by: maintenanceSender(ctx.machineId),
    restore: 'compare with the message in inbox/ or archive/ and merge by hand',
  };
  writeFileAtomic(path.join(dir, `${name}.why.json`), JSON.stringify(why, null, 2));
  writeFileAtomic(path.join(dir, name), text);
}
