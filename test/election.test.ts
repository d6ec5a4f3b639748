import { mkdirSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyGitFailure } from '../src/git/classify.js';
import {
  Elector,
  acquired,
  judgeLease,
  renewed,
  type LeaseStore,
  type Observation,
  type WriteOutcome,
} from '../src/election/elector.js';
import { parseLease, type LeaseRead, type LeaseRecord } from '../src/election/lease.js';
import { acquireRunLock } from '../src/coordinator/lock.js';
import { recoverStaleIndexLock } from '../src/git/indexLock.js';
import { BusyError } from '../src/errors.js';
import { NOW, tempDir } from './helpers.js';

const MIN = 60_000;
const LEASE = 60 * MIN;

describe('push failures are classified from git’s own words', () => {
  it.each([
    [' ! [rejected]        main -> main (non-fast-forward)', 'lost-race'],
    ['!\trefs/heads/master:refs/heads/master\t[rejected] (fetch first)', 'lost-race'],
    ["error: cannot lock ref 'refs/heads/main': is at 1a2b but expected 3c4d", 'lost-race'],
    [' ! [rejected]        main -> main (stale info)', 'lost-race'],
    [
      "fatal: '/tmp/x.git' does not appear to be a git repository\nfatal: Could not read from remote repository.",
      'unreachable',
    ],
    [
      "fatal: unable to access 'https://example.invalid/x.git/': Could not resolve host: example.invalid",
      'unreachable',
    ],
    ['git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.', 'auth'],
    ["fatal: could not read Username for 'https://github.com': terminal prompts disabled", 'auth'],
    ['remote: HTTP 403 Forbidden', 'auth'],
    [' ! [remote rejected] main -> main (pre-receive hook declined)', 'other'],
  ])('%s', (message, kind) => expect(classifyGitFailure(message)).toBe(kind));
});

const record = (over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holder: 'myia-a',
  term: 3,
  acquiredAt: new Date(NOW).toISOString(),
  renewedAt: new Date(NOW).toISOString(),
  leaseSeconds: 3600,
  transitions: 3,
  released: false,
  renewals: 0,
  ...over,
});
const ok = (r: LeaseRecord): LeaseRead => ({ kind: 'ok', record: r });

describe('judging the lease (pure, injected clock)', () => {
  it('missing or released is free; my own is mine', () => {
    expect(judgeLease({ kind: 'missing' }, 'myia-b', NOW, LEASE, undefined).judgement.state).toBe('free');
    expect(judgeLease(ok(record({ released: true })), 'myia-b', NOW, LEASE, undefined).judgement.state).toBe('free');
    expect(judgeLease(ok(record()), 'myia-a', NOW + 5 * LEASE, LEASE, undefined).judgement.state).toBe('mine');
  });

  it('a newcomer waits a full lease on its own clock, even for a lease long expired by the writer’s clock', () => {
    const r = ok(record({ renewedAt: new Date(NOW - 10 * LEASE).toISOString() }));
    const first = judgeLease(r, 'myia-b', NOW, LEASE, undefined);
    expect(first.judgement).toMatchObject({ state: 'held', observedForMs: 0 });
    expect(judgeLease(r, 'myia-b', NOW + LEASE - 1, LEASE, first.observation).judgement.state).toBe('held');
    const later = judgeLease(r, 'myia-b', NOW + LEASE, LEASE, first.observation).judgement;
    expect(later).toMatchObject({ state: 'free', nextTerm: 4 });
  });

  it('a record that changes restarts the wait', () => {
    const first = judgeLease(ok(record()), 'myia-b', NOW, LEASE, undefined);
    const renewedRecord = ok(renewed(record(), NOW + 30 * MIN, 3600));
    const again = judgeLease(renewedRecord, 'myia-b', NOW + 61 * MIN, LEASE, first.observation);
    expect(again.judgement).toMatchObject({ state: 'held', observedForMs: 0 });
  });

  it('a clock an hour fast cannot steal: it still waits a full lease of its own time', () => {
    const fast = NOW + 60 * MIN;
    const seen = judgeLease(ok(record()), 'myia-f', fast + 5 * MIN, LEASE, undefined);
    expect(seen.judgement.state).toBe('held'); // expired by its clock, but only just seen
    expect(judgeLease(ok(record()), 'myia-f', fast + 30 * MIN, LEASE, seen.observation).judgement.state).toBe('held');
  });

  it('a clock an hour slow cannot steal: it waits a full lease of its own watching, like any machine', () => {
    const slow = NOW - 60 * MIN;
    const seen = judgeLease(ok(record()), 'myia-s', slow, LEASE, undefined);
    const before = judgeLease(ok(record()), 'myia-s', slow + 59 * MIN, LEASE, seen.observation).judgement;
    expect(before.state).toBe('held');
    // a live holder would have renewed twice by now: unchanged for a full lease means it is gone
    const after = judgeLease(ok(record()), 'myia-s', slow + 61 * MIN, LEASE, seen.observation).judgement;
    expect(after.state).toBe('free');
  });

  it('a leader that died with its clock a day ahead is replaced within a lease and a tick, not a day', () => {
    const ahead = record({ renewedAt: new Date(NOW + 24 * 60 * MIN).toISOString() });
    let obs = judgeLease(ok(ahead), 'myia-b', NOW, LEASE, undefined, 30 * MIN).observation;
    let state = 'held';
    let at = NOW;
    while (state === 'held' && at < NOW + 2 * LEASE) {
      at += 15 * MIN; // scheduled ticks
      const j = judgeLease(ok(ahead), 'myia-b', at, LEASE, obs, 30 * MIN);
      obs = j.observation;
      state = j.judgement.state;
    }
    expect(state).toBe('free');
    expect(at - NOW).toBeLessThanOrEqual(LEASE + 15 * MIN);
  });

  it('a forward jump of this machine’s own clock cannot make a live lease look abandoned', () => {
    const seen = judgeLease(ok(record()), 'myia-b', NOW, LEASE, undefined, 30 * MIN);
    const jumped = judgeLease(ok(record()), 'myia-b', NOW + 24 * 60 * MIN, LEASE, seen.observation, 30 * MIN);
    expect(jumped.judgement.state).toBe('held');
    expect(jumped.judgement.observedForMs).toBe(30 * MIN);
    // and a clock set back adds nothing
    const back = judgeLease(ok(record()), 'myia-b', NOW - 60 * MIN, LEASE, jumped.observation, 30 * MIN);
    expect(back.judgement.observedForMs).toBe(30 * MIN);
  });

  it('a corrupt lease is held until seen unchanged for a full lease, then taken with the next term known', () => {
    const corrupt = parseLease('{"holder": "myia-a", "term": ');
    expect(corrupt.kind).toBe('corrupt');
    const known: Observation = { key: 'x', since: NOW - 1000, maxTerm: 7 };
    const first = judgeLease(corrupt, 'myia-b', NOW, LEASE, known);
    expect(first.judgement.state).toBe('held');
    const later = judgeLease(corrupt, 'myia-b', NOW + LEASE, LEASE, first.observation).judgement;
    expect(later).toMatchObject({ state: 'free', nextTerm: 8 });
    expect(parseLease('{"holder": "x"}')).toMatchObject({ kind: 'corrupt' }); // hand-edited, fields missing
  });
});

class MemoryStore implements LeaseStore {
  constructor(
    public current: LeaseRead,
    private readonly outcomes: WriteOutcome[] = [],
  ) {}
  writes: LeaseRecord[] = [];
  async read() {
    return this.current;
  }
  async write(r: LeaseRecord) {
    this.writes.push(r);
    const outcome = this.outcomes.shift() ?? 'landed';
    if (outcome === 'landed') this.current = ok(r);
    return outcome;
  }
}

const memoryObservations = () => {
  let o: Observation | undefined;
  return {
    load: () => o,
    save: (x: Observation) => {
      o = x;
    },
  };
};

describe('the elector (no git in sight)', () => {
  const elector = (store: LeaseStore, me = 'myia-a', clock = () => NOW) =>
    new Elector({
      me,
      leaseSeconds: 3600,
      tickSeconds: 900,
      clock,
      store,
      observations: memoryObservations(),
      backoffBaseMs: 1,
      random: () => 0,
    });

  it('rejects unsafe timings', () => {
    expect(
      () =>
        new Elector({
          me: 'a',
          leaseSeconds: 1000,
          tickSeconds: 900,
          clock: () => NOW,
          store: new MemoryStore({ kind: 'missing' }),
          observations: memoryObservations(),
        }),
    ).toThrow(/unsafe timing/);
  });

  it('leads only when its write lands; retries a lost race, bounded', async () => {
    const store = new MemoryStore({ kind: 'missing' }, ['lost', 'landed']);
    const out = await elector(store).tryLead();
    expect(out).toMatchObject({ leader: true, term: 1, attempts: 2 });
    const never = await elector(new MemoryStore({ kind: 'missing' }, ['lost', 'lost', 'lost'])).tryLead();
    expect(never).toMatchObject({ leader: false, attempts: 3 });
    const offline = await elector(new MemoryStore({ kind: 'missing' }, ['unreachable'])).tryLead();
    expect(offline).toMatchObject({ leader: false, offline: true });
  });

  it('keeps its own lease without a write while more than half is left; renewal due below half', async () => {
    const MIN = 60_000;
    const store = new MemoryStore(ok(record()));
    // 29 min into a 60 min lease: 31 min left, more than half: leads, writes nothing, renews nothing
    expect(await elector(store, 'myia-a', () => NOW + 29 * MIN).tryLead()).toMatchObject({
      leader: true,
      term: 3,
      renew: false,
      attempts: 0,
    });
    // 31 min in: 29 min left, less than half: still leads without a push, the caller's commit renews
    expect(await elector(store, 'myia-a', () => NOW + 31 * MIN).tryLead()).toMatchObject({ leader: true, renew: true });
    expect(store.writes).toHaveLength(0);
    // past its writer's expiry (the machine slept): the renewal is pushed before it leads again
    expect(await elector(store, 'myia-a', () => NOW + 61 * MIN).tryLead()).toMatchObject({
      leader: true,
      renew: false,
    });
    expect(store.writes).toHaveLength(1);
    expect(store.writes[0]!.renewals).toBe(1);
  });

  it('a machine that lost the race to a live holder is a follower at once, without a second write', async () => {
    class LosesOnce extends MemoryStore {
      override async write(r: LeaseRecord) {
        this.writes.push(r);
        this.current = ok(record({ holder: 'myia-b', term: 1 }));
        return 'lost' as const;
      }
    }
    const store = new LosesOnce({ kind: 'missing' });
    expect(await elector(store).tryLead()).toMatchObject({ leader: false, attempts: 2 });
    expect(store.writes).toHaveLength(1);
  });

  it('does not touch another’s live lease, and only the holder releases', async () => {
    const other = new MemoryStore(ok(record()));
    expect(await elector(other, 'myia-b').tryLead()).toMatchObject({ leader: false });
    expect(other.writes).toHaveLength(0);
    expect(await elector(other, 'myia-b').release()).toMatchObject({ released: false });
    expect(await elector(other, 'myia-a').release()).toMatchObject({ released: true });
    expect(other.current.kind === 'ok' && other.current.record.released).toBe(true);
    expect(acquired(other.current, 'myia-b', 4, NOW, 3600)).toMatchObject({
      term: 4,
      transitions: 4,
      holder: 'myia-b',
    });
  });
});

describe('same-machine exclusion and git hygiene', () => {
  it('a second run is busy at once; a lock left by a dead run is taken over', async () => {
    const dir = await tempDir('lock');
    const first = await acquireRunLock(dir, { wait: false, staleMs: 5000 });
    await expect(acquireRunLock(dir, { wait: false, staleMs: 5000 })).rejects.toBeInstanceOf(BusyError);
    await first.release();
    // a dead run's lock: present, but not refreshed for longer than the stale limit
    mkdirSync(path.join(dir, 'run.lock'));
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(path.join(dir, 'run.lock'), old, old);
    const taken = await acquireRunLock(dir, { wait: false, staleMs: 5000 });
    expect(taken.compromised()).toBeUndefined();
    await taken.release();
  });

  it('a lock removed under a running run is reported as compromised', async () => {
    const dir = await tempDir('lock2');
    const lock = await acquireRunLock(dir, { wait: false, staleMs: 5000 });
    rmSync(path.join(dir, 'run.lock'), { recursive: true });
    await new Promise((r) => setTimeout(r, 2500)); // one refresh interval of proper-lockfile
    expect(lock.compromised()).toBeInstanceOf(Error);
    await lock.release();
  });

  it('removes a stale .git/index.lock only when old and no git works there', async () => {
    const dir = await tempDir('idx');
    const lock = path.join(dir, 'index.lock');
    writeFileSync(lock, '');
    expect(recoverStaleIndexLock(dir, dir, Date.now())).toBe('fresh');
    expect(existsSync(lock)).toBe(true);
    expect(recoverStaleIndexLock(dir, dir, Date.now() + 11 * MIN)).toBe('removed');
    expect(existsSync(lock)).toBe(false);
    expect(recoverStaleIndexLock(dir, dir, Date.now())).toBe('none');
  });
});

describe('a lock whose owner died', () => {
  it('is taken over at once when its recorded owner process is gone, not when the lock is another one', async () => {
    const { spawnSync } = await import('node:child_process');
    const dir = await tempDir('deadlock');
    // a real process takes the lock and is killed while holding it
    const script = `import('${path.resolve(import.meta.dirname, '..', 'dist', 'coordinator', 'lock.js')}').then(async (m) => { await m.acquireRunLock(${JSON.stringify(dir)}, { wait: false, staleMs: 60000 }); process.kill(process.pid, 'SIGKILL'); });`;
    spawnSync(process.execPath, ['-e', script]);
    expect(existsSync(path.join(dir, 'run.lock'))).toBe(true);
    const taken = await acquireRunLock(dir, { wait: false, staleMs: 60000 });
    await taken.release();
    // the dead owner's record left behind, but the lock folder now is a live run's: busy
    const { writeFileSync: write, readFileSync: read } = await import('node:fs');
    const live = await acquireRunLock(dir, { wait: false, staleMs: 60000 });
    const owner = JSON.parse(read(path.join(dir, 'run.lock.owner'), 'utf8'));
    write(path.join(dir, 'run.lock.owner'), JSON.stringify({ ...owner, pid: 999_999, ino: owner.ino + 1 }));
    await expect(acquireRunLock(dir, { wait: false, staleMs: 60000 })).rejects.toBeInstanceOf(BusyError);
    await live.release();
  });
});
