/**
 * Leader election through a lease file in the git-synced shared state (docs/design.md, "The election").
 *
 * What it guarantees: a machine leads only for a term whose lease write it saw land on the
 * remote (the store says so); two machines can never both see their write for the same term
 * land, because the remote accepts one fast-forward and rejects the other. A machine takes a
 * lease held by another only after seeing the very same record unchanged for a full lease on
 * its own clock AND the writer's own renewedAt + leaseSeconds being past: a fast or slow clock
 * on either side cannot make a live lease look expired, and a newcomer waits a full lease.
 *
 * What it does not guarantee: that only one machine *believes* it leads at an instant (a
 * deposed leader learns it on its next sync); fencing therefore lives where the work is pushed:
 * every fleet commit carries the lease renewal, so a stale leader's fleet commit conflicts on
 * the lease and is dropped, never pushed. Nor does it detect a leader that is alive but cut
 * off: that one keeps believing until it syncs again, and does no fleet work while offline.
 *
 * A lease of its own is not rewritten every tick: the holder renews it once no more than half is
 * left, in its next commit. Failover therefore still takes at most one lease plus one tick.
 *
 * Under skew: a renewal dated in the observer's future counts as made when the observer first saw it,
 * so a leader that died with its clock a day ahead is replaced one lease (plus a tick) after its last
 * renewal was seen, not a day later. "Unchanged for a full lease" is summed look by look, each look
 * adding at most two tick intervals, so the observer's own clock jumping forward cannot make a live
 * lease look abandoned; a machine back after a long sleep watches a full lease again before it takes over.
 *
 * The elector never sees git: it talks to a LeaseStore (read; write and say whether it landed)
 * and keeps its observations in a local ObservationStore. The clock is injected.
 */
import { backoffMs, sleep } from '../util/backoff.js';
import type { LeaseRead, LeaseRecord } from './lease.js';
import { formatDuration } from '../util/format.js';

export type WriteOutcome = 'landed' | 'lost' | 'unreachable';

export interface LeaseStore {
  read(): Promise<LeaseRead>;
  /** Writes a new version of the lease; `landed` only if the remote accepted it. */
  write(record: LeaseRecord): Promise<WriteOutcome>;
}

/** What this machine last saw of the lease, on its own clock (kept locally, never synced). */
export interface Observation {
  /** The record's identity: holder, term and renewedAt (or the fingerprint of a corrupt file). */
  key: string;
  /** When this machine first saw that exact record, by its own clock. */
  since: number;
  /** The highest term this machine ever saw: a corrupt lease is replaced by the next one. */
  maxTerm: number;
  /** When this machine last looked, by its own clock. */
  lastSeen?: number;
  /**
   * How long it has seen the record unchanged, summed look by look, each look adding at most `maxStepMs`: a
   * clock that jumps forward (or a machine back from sleep) cannot make a live lease look abandoned at once.
   */
  observedMs?: number;
  /** The most one look adds (two tick intervals), kept so a quiet tick, which is a look too, can add its own. */
  stepMs?: number;
}

export interface ObservationStore {
  load(): Observation | undefined;
  save(o: Observation): void;
}

export type LeaseState = 'free' | 'mine' | 'held';

export interface Judgement {
  state: LeaseState;
  reason: string;
  holder?: string;
  term?: number;
  /** When the holder's own clock says it expires. */
  writerExpiresAt?: number;
  /** How long this machine has seen the record unchanged, by its own clock. */
  observedForMs: number;
  /** The term a takeover would write. */
  nextTerm: number;
}

function keyOf(read: LeaseRead): string {
  if (read.kind === 'ok')
    return `${read.record.holder}|${read.record.term}|${read.record.renewedAt}|${read.record.renewals}`;
  if (read.kind === 'corrupt') return `corrupt:${read.fingerprint}`;
  return 'missing';
}

/** The "stale by both clocks" rule, pure: the lease as read, who I am, my clock, my last observation. */
export function judgeLease(
  read: LeaseRead,
  me: string,
  now: number,
  leaseMs: number,
  previous: Observation | undefined,
  maxStepMs = Number.POSITIVE_INFINITY,
): { judgement: Judgement; observation: Observation } {
  const key = keyOf(read);
  const seenTerm = read.kind === 'ok' ? read.record.term : 0;
  const maxTerm = Math.max(previous?.maxTerm ?? 0, seenTerm);
  let observation: Observation;
  if (previous && previous.key === key) {
    const last = previous.lastSeen ?? previous.since;
    // a clock set back adds nothing; one that jumps forward adds at most one step
    const step = Math.min(Math.max(0, now - last), maxStepMs);
    const before = previous.observedMs ?? Math.max(0, last - previous.since);
    observation = { ...previous, maxTerm, lastSeen: Math.max(now, last), observedMs: before + step };
  } else observation = { key, since: now, maxTerm, lastSeen: now, observedMs: 0 };
  if (Number.isFinite(maxStepMs)) observation.stepMs = maxStepMs;
  const observedForMs = observation.observedMs ?? 0;
  const base = { observedForMs, nextTerm: maxTerm + 1 };
  if (read.kind === 'missing')
    return { judgement: { ...base, state: 'free', reason: 'no lease file yet' }, observation };
  if (read.kind === 'corrupt') {
    const free = observedForMs >= leaseMs;
    const reason = free
      ? `unreadable lease (${read.reason}) unchanged for a full lease (${formatDuration(observedForMs)}): free`
      : `unreadable lease (${read.reason}): treated as held until seen unchanged for a full lease ` +
        `(${formatDuration(observedForMs)} of ${formatDuration(leaseMs)} so far)`;
    return { judgement: { ...base, state: free ? 'free' : 'held', reason }, observation };
  }
  const { record } = read;
  const who = { holder: record.holder, term: record.term };
  if (record.released)
    return {
      judgement: { ...base, ...who, state: 'free', reason: `released by ${record.holder} (term ${record.term})` },
      observation,
    };
  // a renewal dated in this machine's future counts as made when this machine first saw it: a dead leader
  // whose clock ran ahead cannot hold the lease past one lease of this machine's watching
  const renewedAt = Date.parse(record.renewedAt);
  const writerExpiresAt =
    (record.holder === me ? renewedAt : Math.min(renewedAt, observation.since)) + record.leaseSeconds * 1000;
  if (record.holder === me)
    return {
      judgement: {
        ...base,
        ...who,
        writerExpiresAt,
        state: 'mine',
        reason: `held by this machine (term ${record.term})`,
      },
      observation,
    };
  const seenLongEnough = observedForMs >= leaseMs;
  const writerExpired = writerExpiresAt < now;
  if (seenLongEnough && writerExpired) {
    return {
      judgement: {
        ...base,
        ...who,
        writerExpiresAt,
        state: 'free',
        reason:
          `held by ${record.holder} (term ${record.term}) but unchanged for ` +
          `${formatDuration(observedForMs)} here and expired by its own clock: free`,
      },
      observation,
    };
  }
  const why = !seenLongEnough
    ? `seen unchanged for ${formatDuration(observedForMs)} of the ${formatDuration(leaseMs)} this machine must wait`
    : `not yet expired by its writer's clock`;
  return {
    judgement: {
      ...base,
      ...who,
      writerExpiresAt,
      state: 'held',
      reason: `held by ${record.holder} (term ${record.term}): ${why}`,
    },
    observation,
  };
}

export function acquired(prev: LeaseRead, me: string, term: number, now: number, leaseSeconds: number): LeaseRecord {
  const iso = new Date(now).toISOString();
  const transitions = prev.kind === 'ok' ? prev.record.transitions + (prev.record.holder === me ? 0 : 1) : 1;
  return { holder: me, term, acquiredAt: iso, renewedAt: iso, leaseSeconds, transitions, released: false, renewals: 0 };
}

export function renewed(record: LeaseRecord, now: number, leaseSeconds: number): LeaseRecord {
  return {
    ...record,
    renewedAt: new Date(now).toISOString(),
    leaseSeconds,
    released: false,
    renewals: record.renewals + 1,
  };
}

export interface ElectorOptions {
  me: string;
  leaseSeconds: number;
  tickSeconds: number;
  clock: () => number;
  store: LeaseStore;
  observations: ObservationStore;
  /** Bounded retries after a lost race, with jittered backoff (ms before attempt n: base × 2^n × [0.5, 1.5)). */
  maxAttempts?: number;
  backoffBaseMs?: number;
  random?: () => number;
}

export interface LeadOutcome {
  leader: boolean;
  term?: number;
  record?: LeaseRecord;
  judgement: Judgement;
  attempts: number;
  /** Leading on a lease of ours with less than half left: the caller's next commit carries the renewal. */
  renew: boolean;
  /** Set when the remote could not be reached: nobody leads from here this tick. */
  offline?: boolean;
}

export class Elector {
  private readonly leaseMs: number;

  constructor(private readonly o: ElectorOptions) {
    if (o.leaseSeconds < 2 * o.tickSeconds) {
      throw new Error(
        `unsafe timing: leaseSeconds (${o.leaseSeconds}) must be at least 2 × the tick interval ` +
          `(${o.tickSeconds} s), so one late tick does not lose the lease`,
      );
    }
    this.leaseMs = o.leaseSeconds * 1000;
  }

  /** How this machine judges the lease now (records the observation). */
  async judge(): Promise<{ read: LeaseRead; judgement: Judgement }> {
    const read = await this.o.store.read();
    const { judgement, observation } = judgeLease(
      read,
      this.o.me,
      this.o.clock(),
      this.leaseMs,
      this.o.observations.load(),
      // a look adds at most two tick intervals: scheduled ticks come every interval, a clock jump adds no more
      2 * this.o.tickSeconds * 1000,
    );
    this.o.observations.save(observation);
    return { read, judgement };
  }

  /**
   * Acquires a free lease, or keeps ours. Leads only for a term whose write it saw land: a
   * takeover (or a lease of ours already past its writer's expiry) is pushed at once; a lease of
   * ours still running is kept without a write, and once less than half of it is left the caller
   * carries the renewal in its next commit (`renew`), which the fence guards like any fleet work.
   */
  async tryLead(): Promise<LeadOutcome> {
    const attempts = this.o.maxAttempts ?? 3;
    let last: Judgement | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const { read, judgement } = await this.judge();
      last = judgement;
      if (judgement.state === 'held') return { leader: false, judgement, attempts: attempt, renew: false };
      const now = this.o.clock();
      if (judgement.state === 'mine' && read.kind === 'ok') {
        const left = judgement.writerExpiresAt! - now;
        if (left > 0)
          return {
            leader: true,
            term: read.record.term,
            record: read.record,
            judgement,
            attempts: 0,
            renew: now >= renewalDueAt(judgement.writerExpiresAt!, this.leaseMs),
          };
      }
      // only a machine that wants to write again waits: one that lost to a live holder is a follower at once
      if (attempt > 1) await this.backoff(attempt - 1);
      const next =
        judgement.state === 'mine' && read.kind === 'ok'
          ? renewed(read.record, now, this.o.leaseSeconds)
          : acquired(read, this.o.me, judgement.nextTerm, now, this.o.leaseSeconds);
      const outcome = await this.o.store.write(next);
      if (outcome === 'landed')
        return { leader: true, term: next.term, record: next, judgement, attempts: attempt, renew: false };
      if (outcome === 'unreachable')
        return {
          leader: false,
          judgement: { ...judgement, reason: `${judgement.reason}; the remote is unreachable` },
          attempts: attempt,
          offline: true,
          renew: false,
        };
    }
    return {
      leader: false,
      judgement: { ...last!, reason: `${last!.reason}; lost the race ${attempts} times` },
      attempts,
      renew: false,
    };
  }

  /** Gives the lease up (only the holder can). */
  async release(): Promise<{ released: boolean; reason: string }> {
    const read = await this.o.store.read();
    if (read.kind !== 'ok' || read.record.holder !== this.o.me || read.record.released)
      return {
        released: false,
        reason: read.kind === 'ok' ? `held by ${read.record.holder}, not this machine` : 'no valid lease to release',
      };
    const outcome = await this.o.store.write({
      ...renewed(read.record, this.o.clock(), this.o.leaseSeconds),
      released: true,
    });
    return outcome === 'landed'
      ? { released: true, reason: `released term ${read.record.term}` }
      : { released: false, reason: `the release did not land (${outcome})` };
  }

  private async backoff(attempt: number): Promise<void> {
    const base = this.o.backoffBaseMs ?? 200;
    await sleep(backoffMs(attempt, base, this.o.random));
  }
}

/** The holder renews its lease once half of it is gone: the moment that happens (the one rule, used by the quiet tick too). */
export function renewalDueAt(writerExpiresAt: number, leaseMs: number): number {
  return writerExpiresAt - leaseMs / 2;
}
