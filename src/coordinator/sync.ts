import { MINUTE_MS } from '../util/time.js';
import path from 'node:path';
import { sleep } from '../util/backoff.js';
import { LEASE_FILE, parseLease } from '../election/lease.js';
import { KEPT_BRANCHES, STASH_MARKER, type GitRepo } from '../git/repo.js';
import { GitFailure } from '../git/classify.js';
import { messageIdOf, prefixOf, replayCommit, type ReconcileContext } from './reconcile.js';
import { applyToWorkTree, isWholeMessage, settlePending } from './worktree.js';
import { unlessMissing, unlinkIfPresent, writeFileAtomic } from '../util/fs.js';
import { lstatSync, mkdirSync, readFileSync } from 'node:fs';

/** Set while commits are replayed by hand, so that a run killed half-way can start again from it. */
const REPLAY_REF = 'refs/roosync-maint/replaying';
/** Someone else's rebase or merge younger than this may still be in progress: leave it alone. */
const UNFINISHED_GRACE_MS = 10 * MINUTE_MS;

const stamp = (now: number) => new Date(now).toISOString().replace(/[:.]/g, '-');

/**
 * Fetch, fence, replay — the one way this clone catches up with the remote, without ever leaving it
 * stuck, writing conflict markers, or writing over what RooSync is writing in the work tree:
 * 1. heal what a crash or a person left: an unfinished rebase or merge (aborted once old), a replay of
 *    an older version cut short, a detached HEAD (back on its branch; its own commits kept on a branch);
 * 2. this machine's message edits (RooSync's) become a commit: `git add` and `git commit` read the work
 *    tree and never write it; a message still being written in place is left for the next tick;
 * 3. fetch; the fence drops our unpushed fleet commits of a term the remote no longer gives us; the rest
 *    are replayed onto the upstream in a private index (reconcile.ts: conflicts settled at the message
 *    level; someone else's commit that cannot be merged whole is kept on `roosync-maint/kept/<time>`);
 * 4. the branch moves, and the work tree follows file by file, only where a file still holds what git
 *    last gave it (worktree.ts); a file RooSync changed meanwhile is merged or left for the next tick.
 * Nothing here stashes, cleans, resets --hard or checks out over the live work tree.
 */
export interface SyncReport {
  notes: string[];
  fenced: boolean;
  /** The work tree had or has changes of this machine's (committed, merged or left): worth a look by the tick. */
  dirty: boolean;
  /** Local commits still to push after the catch-up (1 when there is no upstream yet). */
  unpushed: number;
}

/** What the tick may commit of a message file: a whole JSON object, or a file left as it is for a minute. */
export function commitReady(repo: GitRepo): (p: string, content: Buffer) => boolean {
  const prefix = prefixOf(repo);
  return (p, content) => {
    if (messageIdOf(prefix, p) === undefined || isWholeMessage(content)) return true;
    const mtime = unlessMissing(() => lstatSync(path.join(repo.top, p)).mtimeMs, 0);
    return Date.now() - mtime >= HALF_WRITTEN_MS; // the file system's clock: a broken file left that long is not being written
  };
}

/** A message file that is not whole JSON and younger than this may be half-written by RooSync. */
const HALF_WRITTEN_MS = MINUTE_MS;

export async function syncWithFence(repo: GitRepo, now: number): Promise<SyncReport> {
  const ctx: ReconcileContext = {
    repo,
    machineId: repo.machineId,
    now,
    keptDir: path.join(repo.gitDir, 'roosync-maint', 'kept'),
  };
  const notes = await healClone(ctx);
  notes.push(...(await returnToBranch(ctx)));
  const pendingFile = path.join(repo.gitDir, 'roosync-maint', PENDING_FILE);
  const settled = await settlePending(ctx, readPending(pendingFile));
  notes.push(...settled.notes);
  writePending(pendingFile, settled.pending);
  const local = await commitLocalMessageEdits(repo);
  if (local) notes.push("committed RooSync's message changes made on this machine");
  notes.push(...(await reapplyLegacyStashes(ctx)));
  await repo.fetch();
  const upstream = await repo.upstream();
  if (!upstream) return { notes, fenced: false, dirty: local, unpushed: 1 };
  const caught = await catchUp(ctx, upstream);
  notes.push(...caught.notes);
  let left = 0;
  if (caught.head) {
    const moved = await moveTo(ctx, 'HEAD', caught.head, (base) =>
      writePending(pendingFile, { ...settled.pending, ...base }),
    );
    notes.push(...moved.notes);
    left = moved.left.length;
  }
  return { notes, fenced: caught.fenced, dirty: local || left > 0 || notes.length > 0, unpushed: caught.unpushed };
}

/** This machine's uncommitted message changes as one commit; false when there were none. */
async function commitLocalMessageEdits(repo: GitRepo): Promise<boolean> {
  if ((await repo.uncommitted(['messages'])).size === 0) return false;
  const message = `maintenance: ${repo.machineId} commits RooSync's message changes made on this machine`;
  return repo.commitPaths([repo.inRepo('messages')], message, commitReady(repo));
}

/**
 * HEAD, the branch and the index move to `to`; the work tree follows where nobody changed it (worktree.ts).
 * What was left while RooSync wrote it is recorded (`keepPending`) before the branch moves.
 */
async function moveTo(
  ctx: ReconcileContext,
  from: string,
  to: string,
  keepPending: (base: Record<string, string>) => void = () => undefined,
) {
  const fromSha = await ctx.repo.resolve(from);
  const outcome = fromSha === to ? { notes: [], left: [], pendingBase: {} } : await applyToWorkTree(ctx, fromSha, to);
  if (Object.keys(outcome.pendingBase).length > 0) keepPending(outcome.pendingBase);
  await ctx.repo.resetIndexTo(to);
  return outcome;
}

/** Local state: message copies a sync left while RooSync wrote them, with the version each was derived from. */
const PENDING_FILE = 'pending-merge.json';

function readPending(file: string): Record<string, string> {
  const text = unlessMissing(() => readFileSync(file, 'utf8'), undefined);
  if (text === undefined) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {}; // a torn file: those copies are committed as they are
  }
}

function writePending(file: string, pending: Record<string, string>): void {
  if (Object.keys(pending).length === 0) {
    unlinkIfPresent(file);
    return;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify(pending, null, 2));
}

/** Someone's unfinished rebase or merge (aborted once it is old), and a replay of an older version cut short. */
async function healClone(ctx: ReconcileContext): Promise<string[]> {
  const { repo } = ctx;
  const notes: string[] = [];
  const op = repo.unfinishedOperation();
  if (op) {
    // the age of a file on disk: real time, whatever clock the run was given
    const age = Date.now() - op.since;
    const minutes = Math.round(age / MINUTE_MS);
    if (age < UNFINISHED_GRACE_MS) {
      throw new GitFailure(
        'other',
        'sync',
        `${op.what} is in progress in this clone (started ${minutes} min ago): not syncing this tick`,
      );
    }
    const verb = op.what === 'a merge' ? 'merge' : op.what === 'a cherry-pick' ? 'cherry-pick' : 'rebase';
    await repo.abortOperation(verb);
    notes.push(`aborted ${op.what} left unfinished for ${minutes} min (its commits are kept)`);
  }
  if (repo.hasRef(REPLAY_REF)) {
    await moveTo(ctx, 'HEAD', await repo.resolve(REPLAY_REF));
    await repo.deleteRef(REPLAY_REF);
    notes.push('a replay of local commits was cut short: started again from where it was');
  }
  return notes;
}

/** A detached HEAD goes back on its branch; commits only it had are kept on a branch first. */
async function returnToBranch(ctx: ReconcileContext): Promise<string[]> {
  const { repo, now } = ctx;
  if (await repo.onBranch()) return [];
  const branches = (await repo.localBranches()).filter((b) => !b.startsWith('roosync-maint/'));
  const branch =
    ['main', 'master'].find((b) => branches.includes(b)) ?? (branches.length === 1 ? branches[0] : undefined);
  if (!branch)
    throw new GitFailure(
      'other',
      'sync',
      `detached HEAD and no single branch to return to (${branches.join(', ') || 'none'}): check one out by hand`,
    );
  const head = await repo.resolve('HEAD');
  const contained = await repo.contains(branch, head);
  const notes: string[] = [];
  if (!contained) {
    const kept = `${KEPT_BRANCHES}${stamp(now)}-detached`;
    await repo.createBranch(kept, head);
    notes.push(`the detached HEAD had commits not on ${branch}: kept on branch ${kept}`);
  }
  const tip = await repo.resolve(`refs/heads/${branch}`);
  await repo.pointHeadAt(branch);
  // HEAD now names the branch; the index and work tree still hold the detached commit: move them over
  const moved = head === tip ? { notes: [] } : await applyToWorkTree(ctx, head, tip);
  await repo.resetIndexTo(tip);
  notes.push(...moved.notes, `the clone was on a detached HEAD: back on ${branch}`);
  return notes;
}

/**
 * Where the branch must go to catch up with the upstream (undefined: nowhere). The fence: an unpushed
 * commit of ours that touches the lease is fleet work made under our term; if the remote's lease is no
 * longer ours for that term, another machine took over, and that work must never land: it is dropped.
 * This check does not depend on the lease texts conflicting.
 */
async function catchUp(
  ctx: ReconcileContext,
  upstream: string,
): Promise<{ notes: string[]; fenced: boolean; unpushed: number; head?: string }> {
  const { repo } = ctx;
  const { behind, ahead } = await repo.divergence(upstream);
  const upstreamSha = await repo.resolve(upstream);
  if (ahead === 0) return { notes: [], fenced: false, unpushed: 0, ...(behind > 0 && { head: upstreamSha }) };
  const commits = await repo.unpushedCommits(upstream, LEASE_FILE);
  const notes: string[] = [];
  let keep = commits;
  if (commits.some((c) => c.touchesLease)) {
    const ours = parseLease(await repo.show('HEAD', LEASE_FILE));
    const theirs = parseLease(await repo.show(upstream, LEASE_FILE));
    const sameTerm =
      ours.kind === 'ok' &&
      theirs.kind === 'ok' &&
      ours.record.holder === theirs.record.holder &&
      ours.record.term === theirs.record.term &&
      !theirs.record.released;
    if (!sameTerm) {
      keep = commits.filter((c) => !c.touchesLease);
      const now =
        theirs.kind === 'ok' ? `${theirs.record.holder} holds term ${theirs.record.term}` : 'the lease changed';
      notes.push(
        `fenced: unpushed fleet work of term ${ours.kind === 'ok' ? ours.record.term : '?'} dropped, never ` +
          `pushed (${now}); this machine stepped down`,
      );
    }
  }
  const fenced = keep.length < commits.length;
  if (!fenced && behind === 0) return { notes, fenced, unpushed: ahead };
  let tip = upstreamSha;
  for (const c of keep) {
    const r = await replayCommit(ctx, c.sha, tip);
    tip = r.head;
    notes.push(...r.notes);
    if (!c.ours && r.notes.length > 0) {
      const kept = `${KEPT_BRANCHES}${stamp(ctx.now)}-${c.sha.slice(0, 8)}`;
      await repo.createBranch(kept, c.sha);
      notes.push(`another program's commit "${c.subject}" could not be merged whole: it is kept on branch ${kept}`);
    }
  }
  return { notes, fenced, unpushed: keep.length, head: tip };
}

/**
 * Stashes an older version of this program made around a sync and a killed run left behind: each is laid
 * back onto the work tree where it still holds what the stash started from (worktree.ts), then dropped.
 */
async function reapplyLegacyStashes(ctx: ReconcileContext): Promise<string[]> {
  const { repo } = ctx;
  const notes: string[] = [];
  for (const sha of await repo.stashes(STASH_MARKER)) {
    notes.push(...(await applyToWorkTree(ctx, await repo.resolve(`${sha}^1`), sha)).notes);
    // a stash's third parent holds its untracked files, on an empty tree
    if (await repo.exists(`${sha}^3`)) {
      const empty = await repo.emptyTree();
      notes.push(...(await applyToWorkTree(ctx, empty, await repo.resolve(`${sha}^3^{tree}`))).notes);
    }
    await repo.dropStash(sha);
    notes.push('re-applied a stash of local edits left by an older version of roosync-maint');
  }
  return notes;
}

export interface PushOutcome {
  pushed: boolean;
  retries: number;
  /** Why it did not push (unreachable, auth, other, or the race lost until the budget ran out). */
  failure?: string;
  /** The remote refused or could not be reached (not merely a race lost every time). */
  offline?: boolean;
}

export interface PushPolicy {
  /** Keep trying while this much time has not passed since the first attempt. */
  budgetMs: number;
  /** An optional cap on attempts within the budget. */
  maxAttempts?: number | undefined;
  /** Called after each resync (which may have fenced our fleet work): may recommit. */
  afterResync?: (sync: SyncReport) => Promise<void>;
  clock?: () => number;
  random?: () => number;
}

/** The push policy a config's `git` section gives. */
export function pushPolicy(git: { pushBudgetSeconds: number; pushAttempts?: number | undefined }): PushPolicy {
  return { budgetMs: git.pushBudgetSeconds * 1000, maxAttempts: git.pushAttempts };
}

/** The most a losing machine waits before its next attempt: enough to let the winner's push settle. */
const RETRY_JITTER_MS = 100;

/**
 * Pushes until it lands or the budget runs out. A lost race costs the cheapest cycle that stays
 * correct: fetch + rebase + push, with the fence (syncWithFence) only when our unpushed commits
 * touch the lease or the rebase does not apply; a small random pause spreads the retries of the
 * machines that lost the same race. Nothing is slept after the last attempt.
 */
export async function pushUntilLanded(repo: GitRepo, policy: PushPolicy): Promise<PushOutcome> {
  const clock = policy.clock ?? Date.now;
  const random = policy.random ?? Math.random;
  const deadline = clock() + policy.budgetMs;
  let retries = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      await repo.push();
      return { pushed: true, retries };
    } catch (err) {
      if (!(err instanceof GitFailure)) throw err;
      if (err.kind !== 'lost-race')
        return { pushed: false, retries, failure: `${err.kind}: ${err.message}`, offline: true };
    }
    const outOfAttempts = policy.maxAttempts !== undefined && attempt >= policy.maxAttempts;
    if (outOfAttempts || clock() >= deadline) {
      const why = outOfAttempts ? `${attempt} times` : `for ${Math.round(policy.budgetMs / 1000)} s`;
      return { pushed: false, retries, failure: `lost the race ${why}` };
    }
    retries++;
    await sleep(random() * RETRY_JITTER_MS);
    // a lost race: the full sync again (fetch, fence, replay in a private index), then the push is retried
    const sync = await syncWithFence(repo, clock());
    await policy.afterResync?.(sync);
  }
}
