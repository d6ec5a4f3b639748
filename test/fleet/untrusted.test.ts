import { mkdirSync, readdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMessage } from '../../src/demo/messages.js';
import { git, makeFleet, remoteFile, tick, writeFleetClock } from '../fleet.js';
import { cli, snapshotTree, tempDir } from '../helpers.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const DEEP = 200_000;

/** A clone that is not running roosync-maint: a person or another program committing by hand. */
function commitAndPush(dir: string, message: string): void {
  git(dir, 'config', 'user.name', 'someone');
  git(dir, 'config', 'user.email', 'someone@example.invalid');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  git(dir, 'push', '-q', 'origin', 'main');
}

describe('files from other machines are untrusted input (a fleet on a real remote)', () => {
  it('malformed status files and a symlinked archive folder never stop the fleet or reach outside', async () => {
    const fleet = await makeFleet(3);
    const [m1, m2, other] = fleet.machines as [string, string, string];
    const tasks = ['inbox-hygiene', 'messages-archive', 'fleet-liveness'];
    // the third clone pushes damaged status files together with due messages
    const bad = fleet.dir(other);
    git(bad, 'pull', '-q');
    const machinesDir = path.join(bad, 'maintenance', 'machines');
    mkdirSync(machinesDir, { recursive: true });
    writeFileSync(path.join(machinesDir, 'myia-zz-01.json'), 'null');
    writeFileSync(
      path.join(machinesDir, 'myia-zz-02.json'),
      JSON.stringify({ version: '1', lastTickAt: new Date(T0).toISOString() }),
    );
    writeFileSync(path.join(machinesDir, 'myia-zz-03.json'), `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`);
    const due = [1, 2, 3].map((i) => makeMessage(T0, 40 + i, { to: m1, status: 'read' }));
    for (const m of due) writeFileSync(path.join(bad, 'messages', 'inbox', `${m.id}.json`), JSON.stringify(m, null, 2));
    writeFleetClock(bad, T0);
    commitAndPush(bad, 'damaged status files and due messages');

    const first = await tick(fleet, m1, T0, { tasks });
    expect(first.code, first.stderr).toBe(0);
    expect(first.doc!.leader.isLeader).toBe(true);
    const second = await tick(fleet, m2, T0 + 60_000, { tasks });
    expect(second.code, second.stderr).toBe(0);
    // the fleet's archive landed, and both status files
    for (const m of due) {
      expect(remoteFile(fleet, `messages/archive/${m.id}.json`)).toBeDefined();
      expect(remoteFile(fleet, `messages/inbox/${m.id}.json`)).toBeUndefined();
    }
    for (const m of [m1, m2]) expect(JSON.parse(remoteFile(fleet, `maintenance/machines/${m}.json`)!).machine).toBe(m);
    // the leader's digest (which reads every status file) went out too
    const inbox = git(fleet.remote, 'ls-tree', '--name-only', 'main', 'messages/inbox/').split('\n');
    expect(inbox.some((n) => n.endsWith('.json') && remoteFile(fleet, n)!.includes('[DIGEST]'))).toBe(true);
    // status runs, names each damaged file, and exits 1 (they need attention), never 2
    const status = await cli(['status', '--shared-state', fleet.dir(m2), '--machine', m2]);
    expect(status.code, status.stderr).toBe(1);
    for (const n of ['myia-zz-01', 'myia-zz-02', 'myia-zz-03'])
      expect(status.stdout).toContain(`maintenance/machines/${n}.json`);
    expect(status.stdout).toContain('nested deeper than 64 levels');

    // the third clone now commits messages/archive as a link to a folder outside the shared state
    const outside = await tempDir('outside');
    const victim = makeMessage(T0, 300, { status: 'archived', read_by: [m1] });
    writeFileSync(path.join(outside, `${victim.id}.json`), JSON.stringify(victim, null, 2));
    writeFileSync(path.join(outside, 'msg-20200101T000000-null00.json'), 'null');
    const before = await snapshotTree(outside);
    git(bad, 'pull', '-q');
    rmSync(path.join(bad, 'messages', 'archive'), { recursive: true, force: true });
    symlinkSync(outside, path.join(bad, 'messages', 'archive'));
    const oldInbox = makeMessage(T0, 45, { to: m1, status: 'read' });
    writeFileSync(path.join(bad, 'messages', 'inbox', `${oldInbox.id}.json`), JSON.stringify(oldInbox, null, 2));
    commitAndPush(bad, 'messages/archive is now a link');
    const third = await tick(fleet, m1, T0 + 2 * 60_000, {
      tasks: ['inbox-hygiene', 'messages-archive', 'messages-purge'],
    });
    expect(third.code).toBe(1); // a task failed, and said why
    const archive = third.doc!.tasks.find((t) => t.task === 'messages-archive') as {
      status: string;
      errors?: string[];
    };
    expect(archive.status).toBe('failed');
    expect(await snapshotTree(outside)).toEqual(before);
    expect(readdirSync(outside).sort()).toEqual([`${victim.id}.json`, 'msg-20200101T000000-null00.json'].sort());
    // the status file still landed, saying which task failed
    expect(JSON.parse(remoteFile(fleet, `maintenance/machines/${m1}.json`)!).failed).toContain('messages-archive');
  });
});
