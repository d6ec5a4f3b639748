import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, leaseHistory, makeFleet, remoteFile, tick } from '../fleet.js';
import { acquireRunLock } from '../../src/coordinator/lock.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

describe('a simulated fleet on a real git remote (each machine a real CLI process)', () => {
  it('1. five machines tick at the same instant for 20 rounds: one holder per term, every status file lands', async () => {
    const fleet = await makeFleet(5);
    let retries = 0;
    for (let round = 0; round < 20; round++) {
      const now = T0 + round * 15 * MIN;
      const runs = await Promise.all(fleet.machines.map((m) => tick(fleet, m, now)));
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      const leaders = runs.filter((r) => r.doc!.leader.isLeader);
      expect(leaders.length).toBeLessThanOrEqual(1);
      retries += runs.reduce((s, r) => s + r.doc!.pushRetries, 0);
    }
    const terms = new Map<number, Set<string>>();
    for (const v of leaseHistory(fleet)) terms.set(v.term, (terms.get(v.term) ?? new Set()).add(v.holder));
    for (const holders of terms.values()) expect(holders.size).toBe(1);
    // a push that lost every retry in the last round is pushed by the next tick: nothing is lost for good
    const last = T0 + 20 * 15 * MIN;
    for (const m of fleet.machines) expect((await tick(fleet, m, last)).code).toBe(0);
    for (const m of fleet.machines) {
      // each status is on the remote, no older than the heartbeat (4 h) allows
      const status = JSON.parse(remoteFile(fleet, `maintenance/machines/${m}.json`)!);
      expect(last - Date.parse(status.lastTickAt)).toBeLessThanOrEqual(4 * 60 * MIN);
      git(fleet.dir(m), 'fetch', '-q');
      expect(git(fleet.dir(m), 'rev-list', '--count', 'origin/main..HEAD').trim()).toBe('0');
    }
    expect(retries).toBeGreaterThan(0); // they really raced
  });

  it('2. the leader killed mid-tick: no takeover before the lease runs out; the old leader never pushes its old-term fleet work', async () => {
    const fleet = await makeFleet(2, (seed) => {
      mkdirSync(path.join(seed, '.rollback', 'old_2026-01-01T00-00-00Z'), { recursive: true });
      writeFileSync(path.join(seed, '.rollback', 'old_2026-01-01T00-00-00Z', 'f'), 'x');
    });
    const [a, b] = fleet.machines as [string, string];
    expect((await tick(fleet, a, T0, { tasks: ['log-rotation'] })).doc!.leader).toMatchObject({
      isLeader: true,
      term: 1,
    });
    expect((await tick(fleet, b, T0, { tasks: ['log-rotation'] })).doc!.leader.isLeader).toBe(false);
    // at 12:15 a removes the old rollback folder and commits it with a renewal of its lease, then is killed
    // before its push: the remote keeps the 12:00 lease
    const killed = await tick(fleet, a, T0 + 15 * MIN, { env: { ROOSYNC_MAINT_FAULT: 'kill-before-push' } });
    expect(killed.code).toBe(null);
    // b has seen the 12:00 record since 12:00; it runs out at 13:00 by a's clock and a full lease of b's
    // (b runs another fleet task, so whatever happens to .rollback/ is a's doing)
    for (const t of [30, 45, 60])
      expect((await tick(fleet, b, T0 + t * MIN, { tasks: ['log-rotation'] })).doc!.leader.isLeader).toBe(false);
    const takeover = await tick(fleet, b, T0 + 76 * MIN, { tasks: ['log-rotation'] });
    expect(takeover.doc!.leader).toMatchObject({ isLeader: true, term: 2 });
    // a comes back: the lock its killed run left is taken over at once (its owner process is gone)
    const back = await tick(fleet, a, T0 + 92 * MIN);
    expect(back.code).toBe(0);
    expect(back.doc!.leader.isLeader).toBe(false);
    expect(back.doc!.notes.join(' ')).toContain('fenced: unpushed fleet work of term 1 dropped');
    // on the remote: the folder a removed under term 1 is still there, and no commit of a after term 2 touches .rollback
    expect(remoteFile(fleet, '.rollback/old_2026-01-01T00-00-00Z/f')).toBe('x');
    expect(git(fleet.remote, 'log', '--format=%an', 'main', '--', '.rollback').trim().split('\n')).toEqual(['seed']);
    const history = leaseHistory(fleet).map((v) => `${v.holder}:${v.term}`);
    expect(history.slice(history.indexOf(`${b}:2`))).not.toContain(`${a}:1`); // no lease write of a's old term after b's
    expect(JSON.parse(remoteFile(fleet, 'maintenance/leader.json')!)).toMatchObject({ holder: b, term: 2 });
  });

  it('3. clocks an hour fast or slow never steal a live lease', async () => {
    const fleet = await makeFleet(3);
    const [a, fast, slow] = fleet.machines as [string, string, string];
    for (let round = 0; round < 8; round++) {
      const now = T0 + round * 15 * MIN;
      expect((await tick(fleet, a, now)).doc!.leader.isLeader).toBe(true);
      expect((await tick(fleet, fast, now + 60 * MIN)).doc!.leader.isLeader).toBe(false);
      expect((await tick(fleet, slow, now - 60 * MIN)).doc!.leader.isLeader).toBe(false);
    }
    // a stops; the slow machine sees the last record for 61 min of its clock, yet by a's clock it is not expired for it
    const lastRenew = T0 + 7 * 15 * MIN;
    const slowRun = await tick(fleet, slow, lastRenew - 60 * MIN + 61 * MIN);
    expect(slowRun.doc!.leader.isLeader).toBe(false);
    expect(new Set(leaseHistory(fleet).map((v) => v.holder))).toEqual(new Set([a]));
  });

  it('3b. a leader that dies after renewing with its clock a day ahead is replaced within lease + tick; a follower whose clock jumps a day does not take a live lease', async () => {
    const fleet = await makeFleet(3);
    const [ahead, b, c] = fleet.machines as [string, string, string];
    const DAY = 24 * 60 * MIN;
    // the leader's clock runs a day ahead: its lease says renewed a day in everyone else's future
    expect((await tick(fleet, ahead, T0 + DAY)).doc!.leader.isLeader).toBe(true);
    // it dies; b, with a right clock, ticks every 15 minutes (the fleet's lease is 60 minutes)
    let at = T0;
    let led = false;
    while (!led && at <= T0 + 3 * 60 * MIN) {
      const r = await tick(fleet, b, at);
      expect(r.code, r.stderr).toBe(0);
      led = r.doc!.leader.isLeader;
      if (!led) at += 15 * MIN;
    }
    expect(led).toBe(true);
    expect(at - T0).toBeLessThanOrEqual(60 * MIN + 15 * MIN); // one lease and one tick after b first saw it
    // b now leads and renews; c watches, then its clock jumps a day forward: it must not take b's live lease
    expect((await tick(fleet, c, at + 1 * MIN)).doc!.leader.isLeader).toBe(false);
    expect((await tick(fleet, b, at + 15 * MIN)).doc!.leader.isLeader).toBe(true);
    const jumped = await tick(fleet, c, at + 16 * MIN + DAY);
    expect(jumped.code, jumped.stderr).toBe(0);
    expect(jumped.doc!.leader.isLeader).toBe(false);
    expect(jumped.doc!.leader.reason).toContain('seen unchanged');
    expect(leaseHistory(fleet).map((v) => v.holder)).not.toContain(c);
  });

  it('4. a machine whose remote is unreachable runs its local tasks, skips fleet tasks, and catches up later', async () => {
    const fleet = await makeFleet(2);
    const [a, c] = fleet.machines as [string, string];
    await tick(fleet, a, T0);
    git(fleet.dir(c), 'remote', 'set-url', 'origin', path.join(fleet.base, 'moved-away.git'));
    const off = await tick(fleet, c, T0 + 15 * MIN, { tasks: ['rollback-cleanup', 'local-log-prune'] });
    expect(off.code).toBe(0);
    expect(off.doc!.offline).toBe(true);
    expect(off.doc!.tasks.find((t) => t.task === 'rollback-cleanup')).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('unreachable'),
    });
    expect(off.doc!.tasks.find((t) => t.task === 'local-log-prune')!.status).toBe('ok');
    expect(remoteFile(fleet, `maintenance/machines/${c}.json`)).toBeUndefined();
    git(fleet.dir(c), 'remote', 'set-url', 'origin', fleet.remote);
    const back = await tick(fleet, c, T0 + 30 * MIN);
    expect(back.doc).toMatchObject({ offline: false, pushed: true });
    expect(JSON.parse(remoteFile(fleet, `maintenance/machines/${c}.json`)!).lastTickAt).toBe(
      new Date(T0 + 30 * MIN).toISOString(),
    );
    expect(
      git(fleet.remote, 'log', '--format=%s', 'main')
        .split('\n')
        .filter((s) => s.includes(`${c} tick`)),
    ).toHaveLength(2); // the offline commit landed too
  });

  it('5. a corrupt or hand-edited lease is treated by the rules, never a crash', async () => {
    for (const garbage of ['{"holder": "myia-m9", "term": ', '{"holder": "myia-m9"}', 'null']) {
      const fleet = await makeFleet(2, (seed) => {
        mkdirSync(path.join(seed, 'maintenance'), { recursive: true });
        writeFileSync(path.join(seed, 'maintenance', 'leader.json'), garbage);
      });
      const [a] = fleet.machines as [string];
      const first = await tick(fleet, a, T0);
      expect(first.code, first.stderr).toBe(0);
      expect(first.doc!.leader).toMatchObject({ isLeader: false, reason: expect.stringContaining('unreadable lease') });
      // watched on its schedule (a look adds at most two ticks), it is taken after a full lease
      let later = first;
      for (let at = T0 + 15 * MIN; at <= T0 + 75 * MIN && !later.doc!.leader.isLeader; at += 15 * MIN)
        later = await tick(fleet, a, at);
      expect(later.doc!.leader).toMatchObject({ isLeader: true, term: 1 });
    }
    const released = await makeFleet(1, (seed) => {
      mkdirSync(path.join(seed, 'maintenance'), { recursive: true });
      writeFileSync(
        path.join(seed, 'maintenance', 'leader.json'),
        JSON.stringify({
          holder: 'myia-m9',
          term: 4,
          acquiredAt: new Date(T0).toISOString(),
          renewedAt: new Date(T0).toISOString(),
          leaseSeconds: 3600,
          transitions: 4,
          released: true,
        }),
      );
    });
    expect((await tick(released, 'myia-m1', T0)).doc!.leader).toMatchObject({ isLeader: true, term: 5 });
  });

  it('leader status / release, and a busy machine exits 3 (or waits with --wait)', async () => {
    const fleet = await makeFleet(2);
    const [a, b] = fleet.machines as [string, string];
    await tick(fleet, a, T0);
    const { spawnSync } = await import('node:child_process');
    const { BIN } = await import('../fleet.js');
    const cliRun = (m: string, ...args: string[]) =>
      spawnSync(
        process.execPath,
        [BIN, ...args, '--shared-state', fleet.dir(m), '--machine', m, '--log-level', 'silent'],
        { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: fleet.base, ROOSYNC_MAINT_NOW: String(T0 + MIN) } },
      );
    const status = cliRun(b, 'leader', 'status', '--json');
    expect(JSON.parse(status.stdout)).toMatchObject({
      lease: { kind: 'ok', record: { holder: a, term: 1 } },
      judgement: { state: 'held' },
    });
    expect(cliRun(b, 'leader', 'release').status).toBe(1); // only the holder can
    expect(cliRun(a, 'leader', 'release').status).toBe(0);
    expect((await tick(fleet, b, T0 + 2 * MIN)).doc!.leader).toMatchObject({ isLeader: true, term: 2 });

    const lock = await acquireRunLock(path.join(fleet.dir(a), '.git', 'roosync-maint'), { wait: false, staleMs: 5000 });
    expect((await tick(fleet, a, T0 + 3 * MIN)).code).toBe(3);
    const waiting = tick(fleet, a, T0 + 3 * MIN, { args: ['--wait'] });
    await new Promise((r) => setTimeout(r, 1500));
    await lock.release();
    expect((await waiting).code).toBe(0);
  });
});
