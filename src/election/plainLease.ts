/**
 * Leader election on a plain synced folder (a Google Drive `.shared-state`, no git): the same lease file,
 * terms and stale-by-both-clocks rule as in git mode (elector.ts), with a claim that must settle.
 *
 * What it guarantees: a machine leads only with a claim it wrote and still reads back, unchanged, at a later
 * tick at least `settleMs` after writing it (never by sleeping inside a tick); a claim is written only on a
 * lease that is free by the same rule as in git mode (missing, released, or unchanged for a full lease here and
 * expired by its writer's clock), with the next term. Once the sync client has carried both machines' writes
 * (Drive: seconds to a minute or two, hence the settle time), every machine reads one holder and one term.
 *
 * What it does not guarantee: a folder has no compare-and-swap. Two machines that claim within the sync lag of
 * each other may each read back their own claim until the sync settles, and both lead for a while; a leader
 * cut off from the folder's sync keeps believing until it reads the new holder. So every fleet task is safe
 * under two leaders at once (per-writer purge bundles, per-process temp names, a re-check before each action).
 *
 * Pure: the lease as read, who I am, my clock, my last observation; the caller writes what it returns.
 */
import { acquired, judgeLease, type Judgement, type Observation, renewed } from './elector.js';
import type { LeaseRead, LeaseRecord } from './lease.js';
import { formatDuration } from '../util/format.js';

export interface PlainDecision {
  isLeader: boolean;
  term: number | null;
  reason: string;
  /** The lease to write now: a claim, or a renewal of this machine's confirmed lease. */
  write?: LeaseRecord;
  judgement: Judgement;
}

export function decidePlainLease(
  read: LeaseRead,
  me: string,
  now: number,
  o: { leaseSeconds: number; settleMs: number; maxStepMs: number },
  previous: Observation | undefined,
): { decision: PlainDecision; observation: Observation } {
  const leaseMs = o.leaseSeconds * 1000;
  const { judgement, observation } = judgeLease(read, me, now, leaseMs, previous, o.maxStepMs);
  const follower = (reason: string) => ({ isLeader: false, term: judgement.term ?? null, reason, judgement });
  if (judgement.state === 'held') return { decision: follower(judgement.reason), observation };
  if (judgement.state === 'free') {
    const claim = acquired(read, me, judgement.nextTerm, now, o.leaseSeconds);
    const reason =
      `${judgement.reason}: claimed term ${claim.term}; this machine leads once the claim still stands at a ` +
      `later tick, ${formatDuration(o.settleMs)} from now or more (the folder's sync must carry it first)`;
    return { decision: { ...follower(reason), term: null, write: claim }, observation };
  }
  // mine: a claim that has not stood for the settle time yet is not a lead
  const record = (read as { record: LeaseRecord }).record;
  const standing = now - Date.parse(record.acquiredAt);
  if (record.renewals === 0 && standing < o.settleMs)
    return {
      decision: follower(
        `claim of term ${record.term} written ${formatDuration(Math.max(0, standing))} ago: ` +
          `confirmed at a tick ${formatDuration(o.settleMs)} after it or later`,
      ),
      observation,
    };
  const renewDue = Date.parse(record.renewedAt) + leaseMs / 2 <= now;
  return {
    decision: {
      isLeader: true,
      term: record.term,
      reason: `holds the lease on the shared folder (term ${record.term}, claim confirmed)`,
      ...(renewDue && { write: renewed(record, now, o.leaseSeconds) }),
      judgement,
    },
    observation,
  };
}
