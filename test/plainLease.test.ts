import { describe, expect, it } from 'vitest';
import { decidePlainLease } from '../src/election/plainLease.js';
import { parseLease, serializeLease, type LeaseRecord } from '../src/election/lease.js';

/** Issue 28: the plain-folder election, pure: the lease as read, who I am, my clock, my last observation. */
const MIN = 60_000;
const T = Date.UTC(2026, 10, 23, 12, 0, 0);
const O = { leaseSeconds: 3600, settleMs: 2 * MIN, maxStepMs: 30 * MIN };
const read = (r: LeaseRecord | undefined) => parseLease(r && serializeLease(r));

describe('plain-folder lease (pure)', () => {
  it('free → a claim that does not lead; the claim leads once it stood through the settle time; renewed at half', () => {
    const first = decidePlainLease(read(undefined), 'a', T, O, undefined);
    expect(first.decision).toMatchObject({ isLeader: false, write: { holder: 'a', term: 1, renewals: 0 } });
    const claim = first.decision.write!;
    const early = decidePlainLease(read(claim), 'a', T + MIN, O, first.observation);
    expect(early.decision.isLeader).toBe(false);
    expect(early.decision.write).toBeUndefined();
    expect(early.decision.reason).toMatch(/claim of term 1 written 1 min ago/);
    const next = decidePlainLease(read(claim), 'a', T + 15 * MIN, O, early.observation);
    expect(next.decision).toMatchObject({ isLeader: true, term: 1 });
    expect(next.decision.write).toBeUndefined();
    const half = decidePlainLease(read(claim), 'a', T + 30 * MIN, O, next.observation);
    expect(half.decision).toMatchObject({ isLeader: true, write: { holder: 'a', term: 1, renewals: 1 } });
  });

  it("another machine's claim read back: a follower, however it got there", () => {
    const theirs: LeaseRecord = {
      holder: 'b',
      term: 3,
      acquiredAt: new Date(T).toISOString(),
      renewedAt: new Date(T).toISOString(),
      leaseSeconds: 3600,
      transitions: 2,
      released: false,
      renewals: 0,
    };
    const d = decidePlainLease(read(theirs), 'a', T + 15 * MIN, O, undefined).decision;
    expect(d).toMatchObject({ isLeader: false, term: 3 });
    expect(d.write).toBeUndefined();
    // released: free, and the claim takes the next term
    const released = decidePlainLease(read({ ...theirs, released: true }), 'a', T + 15 * MIN, O, undefined).decision;
    expect(released.write).toMatchObject({ holder: 'a', term: 4 });
  });
});
