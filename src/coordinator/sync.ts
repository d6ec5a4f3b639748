import { MINUTE_MS } from '../util/time.js';
import path from 'node:path';
import { sleep } from '../util/backoff.js';
import { LEASE_FILE, parseLease } from '../election/lease.js';
import { KEPT_BRANCHES, STASH_MARKER, type GitRepo } from '../git/repo.js';
import { GitFailure } from '../git/classify.js';
import { reconcileOnto, type ReconcileContext } from './reconcile.js';

/** Set while commits are replayed by hand, so that a run killed half-way can start again from it. */
const REPLAY_REF = 'refs/roosync-maint/replaying';
/** Someone else's rebase or merge younger than this may still be in progress: leave it alone. */
const UNFINISHED_GRACE_MS = 10 * MINUTE_MS;

const stamp = (now: number) => new Date(now).toISOString().replace(/[:.]/g, '-');

/**
 * Fetch, fence, replay — the one way this clone catches up with the remote, without ever leaving
 * it stuck or writing conflict markers:
 * 1. heal what a crash or a person left: an unfinished rebase or merge (aborted once old), a replay
 *    cut short, a detached HEAD (back on its branch; commits that were only there kept on a branch);
 * 2. every uncommitted change (RooSync's edits, a killed run's leftovers) goes into a stash — git
 *    keeps it even if this process dies;
 * 3. fetch; the fence drops our unpushed fleet commits of a term the remote no longer gives us;
 *    the rest is rebased, or, when that conflicts, replayed commit by commit, conflicts resolved at
 *    the message level; someone else's commit that still cannot be merged is kept on a branch
 *    `roosync-maint/kept/<time>` (never only in the reflog);
 * 4. the stash is put back on top, message by message (reconcile.ts), then dropped.
 * Returns notes for the run (none when nothing unusual happened), and whether our fleet work was fenced.
 */
export interface SyncReport {
  notes: string[];
  fenced: boolean;
  /** The work tree had changes (stashed around the sync and put back): RooSync's edits may be among them. */
  dirty: boolean;
  /** Local commits still to push after the catch-up (1 when there is no upstream yet). */
  unpushed: number;
}

export async function syncWithFence(repo: GitRepo, now = Date.now()): Promise<SyncReport> {
  const ctx: ReconcileContext = {
    repo,
    sharedState: repo.top,
    machineId: repo.machineId,
    now,
    keptDir: path.join(repo.gitDir, 'roosync-maint', 'kept'),
  };
  const notes = await healClone(repo);
  let fenced = false;
  let unpushed = 1;
  const stashed = (await repo.stash(STASH_MARKER)) !== undefined;
  try {
    notes.push(...(await returnToBranch(repo, now)));
    await repo.fetch();
    const upstream = await repo.upstream();
    if (upstream) {
      const caught = await catchUp(ctx, upstream);
      notes.push(...caught.notes);
      fenced = caught.fenced;
      unpushed = caught.unpushed;
    }
  } finally {
    notes.push(...(await reapplyStashes(ctx)));
  }
  // anything unusual (a replay, a message kept aside) may have left files for the tick to commit
  return { notes, fenced, dirty: stashed || notes.length > 0, unpushed };
}

/** Someone's unfinished rebase or merge (aborted once it is old), and a replay of ours cut short. */
async function healClone(repo: GitRepo): Promise<string[]> {
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
    await repo.raw([verb, '--abort']);
    notes.push(`aborted ${op.what} left unfinished for ${minutes} min (its commits are kept)`);
  }
  if (repo.hasRef(REPLAY_REF)) {
    await repo.raw(['reset', '-q', '--hard', REPLAY_REF]);
    await repo.raw(['update-ref', '-d', REPLAY_REF]);
    notes.push('a replay of local commits was cut short: started again from where it was');
  }
  return notes;
}

/** A detached HEAD goes back on its branch; commits only it had are kept on a branch first. */
async function returnToBranch(repo: GitRepo, now: number): Promise<string[]> {
  if (await repo.onBranch()) return [];
  const branches = (await repo.raw(['for-each-ref', '--format=%(refname:short)', 'refs/heads/']))
    .split('\n')
    .filter((b) => b && !b.startsWith('roosync-maint/'));
  const branch =
    ['main', 'master'].find((b) => branches.includes(b)) ?? (branches.length === 1 ? branches[0] : undefined);
  if (!branch)
    throw new GitFailure(
      'other',
      'sync',
      `detached HEAD and no single branch to return to (${branches.join(', ') || 'none'}): check one out by hand`,
    );
  const head = (await repo.raw(['rev-parse', 'HEAD'])).trim();
  const contained = (await repo.raw(['merge-base', head, branch]).catch(() => '')).trim() === head;
  const notes: string[] = [];
  if (!contained) {
    const kept = `${KEPT_BRANCHES}${stamp(now)}-detached`;
    await repo.raw(['branch', kept, head]);
    notes.push(`the detached HEAD had commits not on ${branch}: kept on branch ${kept}`);
  }
  await repo.raw(['checkout', '-q', branch]);
  notes.push(`the clone was on a detached HEAD: back on ${branch}`);
  return notes;
}

/**
 * Brings the branch onto the upstream. The fence: an unpushed commit of ours that touches the lease
 * is fleet work made under our term; if the remote's lease is no longer ours for that term, another
 * machine took over, and that work must never land: it is dropped. This check does not depend on the
 * lease texts conflicting.
 */
async function catchUp(
  ctx: ReconcileContext,
  upstream: string,
): Promise<{ notes: string[]; fenced: boolean; unpushed: number }> {
  const { repo } = ctx;
  const { behind, ahead } = await repo.divergence(upstream);
  if (ahead === 0) {
    if (behind > 0) await repo.raw(['merge', '-q', '--ff-only', upstream]);
    return { notes: [], fenced: false, unpushed: 0 };
  }
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
  if (!fenced && (await repo.rebaseOntoUpstream(upstream)).ok) return { notes, fenced, unpushed: ahead };
  notes.push(...(await replayByHand(ctx, upstream, keep)));
  return { notes, fenced, unpushed: keep.length };
}

/** Replays commits one by one on the upstream; a conflict is resolved at the message level (reconcile.ts). */
async function replayByHand(
  ctx: ReconcileContext,
  upstream: string,
  commits: { sha: string; ours: boolean; subject: string }[],
): Promise<string[]> {
  const { repo } = ctx;
  const notes: string[] = [];
  await repo.raw(['update-ref', REPLAY_REF, 'HEAD']);
  await repo.raw(['reset', '-q', '--hard', upstream]);
  for (const c of commits) {
    if (await repo.cherryPick(c.sha)) continue;
    const r = await reconcileOnto(ctx, await repo.changedIn(c.sha), { base: `${c.sha}^`, local: [c.sha] });
    await repo.commitAs(r.touched, c.sha);
    notes.push(...r.notes);
    if (!c.ours && r.notes.length > 0) {
      const kept = `${KEPT_BRANCHES}${stamp(ctx.now)}-${c.sha.slice(0, 8)}`;
      await repo.raw(['branch', kept, c.sha]);
      notes.push(`another program's commit "${c.subject}" could not be merged whole: it is kept on branch ${kept}`);
    }
  }
  await repo.raw(['update-ref', '-d', REPLAY_REF]);
  return notes;
}

/** Puts every stash a sync made (a killed run's included, oldest first) back on top, then drops it. */
async function reapplyStashes(ctx: ReconcileContext): Promise<string[]> {
  const notes: string[] = [];
  for (const sha of await ctx.repo.stashes(STASH_MARKER)) {
    const r = await reconcileOnto(ctx, await ctx.repo.stashPaths(sha), { base: `${sha}^1`, local: [sha, `${sha}^3`] });
    notes.push(...r.notes);
    await ctx.repo.dropStash(sha);
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
  /** Whether our unpushed commits touch the lease: only then does a retry need the fence. */
  touchesLease?: () => boolean;
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
    const sync = await resyncAfterLostRace(repo, policy.touchesLease?.() ?? true);
    await policy.afterResync?.(sync);
  }
}

/** Fetch and rebase; the full sync (stash, fence, replay) when the lease is involved or the rebase fails. */
async function resyncAfterLostRace(repo: GitRepo, touchesLease: boolean): Promise<SyncReport> {
  const upstream = touchesLease ? undefined : await repo.upstream();
  if (upstream) {
    await repo.fetch();
    if ((await repo.rebaseOntoUpstream(upstream)).ok) return { notes: [], fenced: false, dirty: false, unpushed: 1 };
  }
  return syncWithFence(repo);
}
