import { LEASE_FILE, parseLease } from '../election/lease.js';
import type { GitRepo } from '../git/repo.js';
import { GitFailure } from '../git/classify.js';

/**
 * Fetch, fence, replay — the one way this clone catches up with the remote.
 *
 * The fence: an unpushed commit of ours that touches the lease is fleet work (or a claim)
 * made under our term; if the remote's lease is no longer ours for that same term, another
 * machine took over, and that work must never land: drop it. This check does not depend on
 * the lease texts conflicting. A rebase that still conflicts drops our local commits too.
 * Returns what it had to drop, for the run's notes (empty when nothing was dropped).
 */
export async function syncWithFence(repo: GitRepo): Promise<string[]> {
  await repo.fetch();
  const upstream = await repo.upstream();
  if (!upstream) return [];
  if (await repo.unpushedTouch(upstream, LEASE_FILE)) {
    const ours = parseLease(await repo.show('HEAD', LEASE_FILE));
    const theirs = parseLease(await repo.show(upstream, LEASE_FILE));
    const sameTerm = ours.kind === 'ok' && theirs.kind === 'ok' && ours.record.holder === theirs.record.holder && ours.record.term === theirs.record.term && !theirs.record.released;
    if (!sameTerm) {
      await repo.dropLocalCommits(upstream);
      const now = theirs.kind === 'ok' ? `${theirs.record.holder} holds term ${theirs.record.term}` : 'the lease changed';
      return [`fenced: unpushed fleet work of term ${ours.kind === 'ok' ? ours.record.term : '?'} dropped, never pushed (${now}); this machine stepped down`];
    }
  }
  const rebased = await repo.rebaseOntoUpstream(upstream);
  if (rebased.ok) return [];
  await repo.dropLocalCommits(upstream);
  return [`dropped unpushed local commits that conflicted with the remote on ${rebased.conflicts.join(', ')}`];
}

export interface PushOutcome {
  pushed: boolean;
  retries: number;
  /** Why it did not push (unreachable, auth, other, or the race lost every time). */
  failure?: string;
  /** The remote refused or could not be reached (not merely a race lost every time). */
  offline?: boolean;
}

/**
 * Pushes; a lost race is followed by fetch-fence-rebase (its notes passed to `afterResync`,
 * which may recommit) and another try, with jittered exponential backoff, `attempts` in all.
 */
export async function pushWithRetries(repo: GitRepo, attempts: number, afterResync: (notes: string[]) => Promise<void> = async () => undefined): Promise<PushOutcome> {
  let retries = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await repo.push();
      return { pushed: true, retries };
    } catch (err) {
      if (!(err instanceof GitFailure)) throw err;
      if (err.kind !== 'lost-race') return { pushed: false, retries, failure: `${err.kind}: ${err.message}`, offline: true };
      retries++;
      await new Promise((r) => setTimeout(r, 100 * 2 ** (attempt - 1) * (0.5 + Math.random())));
      await afterResync(await syncWithFence(repo));
    }
  }
  return { pushed: false, retries, failure: `lost the race ${attempts} times` };
}
