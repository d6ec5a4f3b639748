import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { T0, git, makeFleet, remoteFile, tick } from '../fleet.js';
import { cli } from '../helpers.js';

/**
 * Issue 25: one bad config pushed by any machine must not stop the fleet. The other machine syncs first,
 * then validates: it reports the problem (note, status file, one alert naming the commit and its author),
 * keeps running on its last valid config, and takes the pushed fix at its next tick with no git by hand.
 */
const MIN = 60_000;

describe('a broken config pushed by one clone, then its fix', () => {
  it('the other machine keeps syncing and working, says what is wrong, and is back on main with exit 0 after the fix', async () => {
    const fleet = await makeFleet(2);
    const [a, b] = fleet.machines as [string, string];
    const tasks = { tasks: ['local-log-prune'] };
    expect((await tick(fleet, a, T0, tasks)).code).toBe(0);
    expect((await tick(fleet, b, T0 + MIN, tasks)).code).toBe(0);

    // someone on a pushes a config no machine can accept
    const dirA = fleet.dir(a);
    git(dirA, 'pull', '-q');
    git(dirA, 'config', 'user.name', 'careless operator');
    git(dirA, 'config', 'user.email', 'op@example.invalid');
    const file = path.join(dirA, '.maintenance-config.json');
    const good = JSON.parse(git(dirA, 'show', 'HEAD:.maintenance-config.json'));
    writeFileSync(file, JSON.stringify({ ...good, logs: { retentionDays: -1 } }, null, 2));
    git(dirA, 'commit', '-qam', 'tighten the log retention');
    git(dirA, 'push', '-q');
    const bad = git(dirA, 'rev-parse', '--short', 'HEAD').trim();

    // b: syncs (gets the bad commit), goes on with its last valid config, and says so; exit 1
    const r1 = await tick(fleet, b, T0 + 2 * MIN, tasks);
    expect(r1.code, r1.stderr).toBe(1);
    const note = r1.doc!.notes.join(' ');
    expect(note).toContain('logs.retentionDays');
    expect(note).toContain(`by careless operator in ${bad}`);
    expect(note).toContain('keeps running with its last valid config');
    expect(r1.doc!.tasks.find((t) => t.task === 'local-log-prune')?.status).toBe('ok');
    git(fleet.dir(b), 'fetch', '-q');
    expect(git(fleet.dir(b), 'rev-list', '--count', 'HEAD..origin/main').trim()).toBe('0');
    // its status file says it; one alert in the inbox
    const status = JSON.parse(remoteFile(fleet, `maintenance/machines/${b}.json`)!);
    expect(JSON.stringify(status.health)).toContain('is invalid');
    const alerts = () =>
      git(fleet.remote, 'ls-tree', '--name-only', 'main', 'messages/inbox/')
        .split('\n')
        .filter((f) => f.endsWith('.json'))
        .map((f) => JSON.parse(git(fleet.remote, 'show', `main:${f}`)) as { subject: string; body: string })
        .filter((m) => m.subject.includes(`${b}: maintenance config is invalid`) || m.subject.includes('[RESOLVED]'));
    expect(alerts().map((m) => m.subject)).toEqual([`[ALERT][MEDIUM] ${b}: maintenance config is invalid`]);
    expect(alerts()[0]!.body).toContain(bad);
    // status still runs, says it first, and exits 1: the fleet needs attention
    const st = await cli(['status', '--shared-state', fleet.dir(b), '--machine', b], { now: T0 + 2 * MIN });
    expect(st.code, st.stderr).toBe(1);
    expect(st.stdout.split('\n')[0]).toContain('is invalid');

    // a second tick on the bad config: still working, no second alert
    expect((await tick(fleet, b, T0 + 20 * MIN, tasks)).code).toBe(1);
    expect(alerts()).toHaveLength(1);

    // the fix is pushed; b takes it at its next tick, with no git by hand
    git(dirA, 'pull', '-q');
    writeFileSync(file, JSON.stringify({ ...good, logs: { retentionDays: 3 } }, null, 2));
    git(dirA, 'commit', '-qam', 'fix the log retention');
    git(dirA, 'push', '-q');
    const r2 = await tick(fleet, b, T0 + 40 * MIN, tasks);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.doc!.notes.join(' ')).toContain('the pull brought a new config: applied');
    git(fleet.dir(b), 'fetch', '-q');
    expect(git(fleet.dir(b), 'rev-parse', 'HEAD')).toBe(git(fleet.dir(b), 'rev-parse', 'origin/main'));
    expect(alerts().some((m) => m.subject.startsWith('[RESOLVED]'))).toBe(true);
  });
});
