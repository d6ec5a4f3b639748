import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMessage } from '../../src/demo/messages.js';
import type { RooSyncMessage } from '../../src/roosync/message.js';
import {
  ARCHIVE_TASKS,
  conflictMarkers,
  markRead,
  T0,
  convergedWithRemote,
  git,
  makeFleet,
  remoteFile,
  remoteMessages,
  startTick,
  tick,
  type Fleet,
  writeFleetClock,
} from '../fleet.js';
import { tempDir } from '../helpers.js';

const MIN = 60_000;
const ARCHIVE = ARCHIVE_TASKS;

const write = (dir: string, m: RooSyncMessage) =>
  writeFileSync(path.join(dir, 'messages', 'inbox', `${m.id}.json`), JSON.stringify(m, null, 2));
const inboxCount = (dir: string) =>
  readdirSync(path.join(dir, 'messages', 'inbox')).filter((n) => n.endsWith('.json')).length;

/** SIGKILLs a tick once its archive is under way (the inbox has shrunk), as a crash would. */
async function killMidArchive(fleet: Fleet, machine: string, now: number): Promise<boolean> {
  const before = inboxCount(fleet.dir(machine));
  const run = startTick(fleet, machine, now, { tasks: ARCHIVE });
  for (let i = 0; i < 5000 && run.child.exitCode === null; i++) {
    if (inboxCount(fleet.dir(machine)) < before - 5) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const killedMidway = run.child.exitCode === null;
  run.child.kill('SIGKILL');
  await run.done;
  return killedMidway;
}

function expectExactlyOnce(fleet: Fleet, ids: string[]): void {
  const where = remoteMessages(fleet);
  for (const id of ids) expect(where.get(id), id).toHaveLength(1);
}

describe('sync that never wedges (real remote, real clones, real processes)', () => {
  it('a leader killed mid-archive, RooSync’s uncommitted mark-as-read, a takeover: everyone converges, nothing lost', async () => {
    const due = Array.from({ length: 400 }, (_, i) =>
      makeMessage(T0, 40 + (i % 30), { status: 'read', to: 'myia-m1' }),
    );
    const marked = makeMessage(T0, 100, { to: 'all', status: 'unread' });
    const fleet = await makeFleet(3, (seed) => {
      for (const m of [...due, marked]) write(seed, m);
    });
    const [a, b, c] = fleet.machines as [string, string, string];
    expect((await tick(fleet, a, T0, { tasks: ['log-rotation'] })).doc!.leader.isLeader).toBe(true);
    for (const m of [b, c]) expect((await tick(fleet, m, T0, { tasks: ['log-rotation'] })).code).toBe(0);
    // the leader is killed half-way through its archive: its moves stay uncommitted in its clone
    expect(await killMidArchive(fleet, a, T0 + 15 * MIN)).toBe(true);
    expect(git(fleet.dir(a), 'status', '--porcelain', '--', 'messages').trim()).not.toBe('');
    // meanwhile RooSync on c marks a due message read, uncommitted
    git(fleet.dir(c), 'pull', '-q');
    markRead(fleet.dir(c), marked.id, c, T0 + 20 * MIN);
    // b takes over once the lease has run out on both clocks, and archives
    for (const t of [30, 60]) expect((await tick(fleet, b, T0 + t * MIN, { tasks: ['log-rotation'] })).code).toBe(0);
    const takeover = await tick(fleet, b, T0 + 95 * MIN, { tasks: ARCHIVE });
    expect(takeover.code, takeover.stderr).toBe(0);
    expect(takeover.doc!.leader.isLeader).toBe(true);
    // the old leader's and the editor's next ticks exit 0, then everyone converges
    for (const [m, t] of [
      [a, 96],
      [c, 97],
      [b, 110],
      [a, 111],
      [c, 112],
    ] as const) {
      const r = await tick(fleet, m, T0 + t * MIN, { tasks: ARCHIVE });
      expect(r.code, `${m}: ${r.stderr}`).toBe(0);
    }
    for (const m of fleet.machines) {
      const state = convergedWithRemote(fleet, m);
      expect(state, m).toEqual({ same: true, dirty: '' });
      expect(conflictMarkers(fleet.dir(m)), m).toEqual([]);
    }
    expectExactlyOnce(
      fleet,
      [...due, marked].map((m) => m.id),
    );
    for (const m of [...due, marked]) expect(remoteMessages(fleet).get(m.id), m.id).toEqual(['archive']);
    // the mark-as-read survived in the archived copy
    const archived = JSON.parse(remoteFile(fleet, `messages/archive/${marked.id}.json`)!) as RooSyncMessage;
    expect(archived.read_by).toContain(c);
    expect(archived.status).toBe('archived');
  });

  it('both sides edited the same message: merged as RooSync means it; an unmergeable edit is kept aside, never markers', async () => {
    const m = makeMessage(T0, 2, { to: 'all', status: 'unread' });
    const n = makeMessage(T0, 2, { to: 'all', status: 'unread', subject: 'original' });
    const fleet = await makeFleet(2, (seed) => {
      write(seed, m);
      write(seed, n);
    });
    const [a, b] = fleet.machines as [string, string];
    git(fleet.dir(a), 'pull', '-q');
    git(fleet.dir(b), 'pull', '-q');
    markRead(fleet.dir(a), m.id, a, T0);
    markRead(fleet.dir(b), m.id, b, T0 + MIN);
    writeFileSync(
      path.join(fleet.dir(a), 'messages', 'inbox', `${n.id}.json`),
      JSON.stringify({ ...n, subject: 'edited on a' }, null, 2),
    );
    writeFileSync(
      path.join(fleet.dir(b), 'messages', 'inbox', `${n.id}.json`),
      JSON.stringify({ ...n, subject: 'edited on b' }, null, 2),
    );
    expect((await tick(fleet, a, T0 + 2 * MIN, { tasks: ['log-rotation'] })).code).toBe(0);
    const rb = await tick(fleet, b, T0 + 3 * MIN, { tasks: ['log-rotation'] });
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.doc!.notes.join(' ')).toContain('could not be merged');
    const merged = JSON.parse(remoteFile(fleet, `messages/inbox/${m.id}.json`)!) as RooSyncMessage;
    expect([...(merged.read_by as string[])].sort()).toEqual([a, b].sort());
    expect(Object.keys(merged.acknowledged_at as object).sort()).toEqual([a, b].sort());
    expect(JSON.parse(remoteFile(fleet, `messages/inbox/${n.id}.json`)!).subject).toBe('edited on a'); // the remote's stays
    const quarantine = git(fleet.remote, 'ls-tree', '--name-only', 'main', 'messages/quarantine/');
    expect(quarantine).toContain(`${n.id}.json.local-${b}`);
    for (const x of fleet.machines) expect(conflictMarkers(fleet.dir(x))).toEqual([]);
  });

  it('a message RooSync is still writing when the remote’s edit of it arrives: left, then merged, both edits kept', async () => {
    const m = makeMessage(T0, 2, { to: 'all', status: 'unread' });
    const fleet = await makeFleet(2, (seed) => write(seed, m));
    const [a, b] = fleet.machines as [string, string];
    git(fleet.dir(a), 'pull', '-q');
    git(fleet.dir(b), 'pull', '-q');
    // b reads it; b's tick commits and pushes that
    markRead(fleet.dir(b), m.id, b, T0);
    expect((await tick(fleet, b, T0 + MIN, { tasks: ['log-rotation'] })).code).toBe(0);
    // on a, RooSync is half-way through writing its own mark-as-read (in place) when a ticks
    const file = path.join(fleet.dir(a), 'messages', 'inbox', `${m.id}.json`);
    const whole = JSON.stringify({ ...m, status: 'read', read_by: [a], acknowledged_at: { [a]: 'x' } }, null, 2);
    writeFileSync(file, whole.slice(0, 40));
    const first = await tick(fleet, a, T0 + 2 * MIN, { tasks: ['log-rotation'] });
    expect(first.code, first.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(whole.slice(0, 40)); // never overwritten while being written
    // RooSync finishes its write (derived from the version without b's mark); a moment later a ticks again
    writeFileSync(file, whole);
    const past = (T0 - 10_000) / 1000;
    utimesSync(file, past, past);
    const second = await tick(fleet, a, T0 + 3 * MIN, { tasks: ['log-rotation'] });
    expect(second.code, second.stderr).toBe(0);
    const merged = JSON.parse(remoteFile(fleet, `messages/inbox/${m.id}.json`)!) as RooSyncMessage;
    expect([...(merged.read_by as string[])].sort()).toEqual([a, b].sort());
    expect(Object.keys(merged.acknowledged_at as object).sort()).toEqual([a, b].sort());
    expect(convergedWithRemote(fleet, a)).toEqual({ same: true, dirty: '' });
  });

  it('another program’s unpushed commit that conflicts is merged at the message level, and kept on a branch when it cannot be', async () => {
    const m = makeMessage(T0, 40, { to: 'myia-m2', status: 'read', subject: 'original' });
    const fleet = await makeFleet(2, (seed) => {
      write(seed, m);
      writeFleetClock(seed, T0);
    });
    const [a, b] = fleet.machines as [string, string];
    expect((await tick(fleet, a, T0, { tasks: ARCHIVE })).doc!.leader.isLeader).toBe(true); // archives m
    // on the remote, someone retitles the archived copy
    const person = (dir: string) => {
      git(dir, 'config', 'user.name', 'someone');
      git(dir, 'config', 'user.email', 'someone@example.invalid');
    };
    person(fleet.dir(a));
    const archivedFile = path.join(fleet.dir(a), 'messages', 'archive', `${m.id}.json`);
    writeFileSync(
      archivedFile,
      JSON.stringify({ ...JSON.parse(readFileSync(archivedFile, 'utf8')), subject: 'retitled on the remote' }, null, 2),
    );
    git(fleet.dir(a), 'commit', '-q', '-am', 'retitled');
    git(fleet.dir(a), 'push', '-q');
    // on b, another program committed (unpushed) a read mark and a different title on the inbox copy
    const dir = fleet.dir(b);
    person(dir);
    markRead(dir, m.id, b, T0);
    const file = path.join(dir, 'messages', 'inbox', `${m.id}.json`);
    writeFileSync(
      file,
      JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), subject: 'retitled on b' }, null, 2),
    );
    git(dir, 'commit', '-q', '-am', 'an edit by another program');
    const r = await tick(fleet, b, T0 + MIN, { tasks: ['log-rotation'] });
    expect(r.code, r.stderr).toBe(0);
    expect(remoteMessages(fleet).get(m.id)).toEqual(['archive']);
    const archived = JSON.parse(remoteFile(fleet, `messages/archive/${m.id}.json`)!) as RooSyncMessage;
    expect(archived.read_by).toContain(b); // the mergeable part landed
    expect(archived.subject).toBe('retitled on the remote'); // the conflicting field: the remote's
    expect(git(fleet.remote, 'ls-tree', '--name-only', 'main', 'messages/quarantine/')).toContain(
      `${m.id}.json.local-${b}`,
    );
    const kept = git(dir, 'branch', '--list', 'roosync-maint/kept/*')
      .trim()
      .replace(/^[*\s]+/, '');
    expect(kept).not.toBe(''); // the commit itself is on a named branch, not only in the reflog
    expect(git(dir, 'log', '-1', '--format=%s', kept)).toContain('an edit by another program');
    expect(convergedWithRemote(fleet, b)).toEqual({ same: true, dirty: '' });
    expect(conflictMarkers(dir)).toEqual([]);
  });

  it('a clone checked out with CRLF line ends (core.autocrlf, Git for Windows’ default) still follows the remote', async () => {
    const fleet = await makeFleet(2, (seed) => writeFileSync(path.join(seed, 'notes.txt'), 'one\ntwo\n'));
    const [a, b] = fleet.machines as [string, string];
    const dir = fleet.dir(a);
    git(dir, 'config', 'core.autocrlf', 'true');
    rmSync(path.join(dir, 'notes.txt'));
    git(dir, 'checkout', '--', 'notes.txt');
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('one\r\ntwo\r\n');
    // someone changes the file on the remote
    git(fleet.dir(b), 'config', 'user.name', 'someone');
    git(fleet.dir(b), 'config', 'user.email', 'someone@example.invalid');
    writeFileSync(path.join(fleet.dir(b), 'notes.txt'), 'one\ntwo\nthree\n');
    git(fleet.dir(b), 'commit', '-qam', 'a third line');
    git(fleet.dir(b), 'push', '-q');
    const r = await tick(fleet, a, T0, { tasks: ['local-log-prune'] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc!.notes.join(' ')).not.toContain('were left as they are');
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8').replace(/\r\n/g, '\n')).toBe('one\ntwo\nthree\n');
    expect(git(dir, 'status', '--porcelain').trim()).toBe('');
  });

  it('a push that hangs: the tick ends at its deadline, says why, and leaves no process behind', async () => {
    const fleet = await makeFleet(1);
    const [a] = fleet.machines as [string];
    const dir = fleet.dir(a);
    // the remote's receive-pack never answers (a dead ssh link looks the same): a transport child that sleeps
    const hang = path.join(fleet.base, `hang-receive-pack-${process.pid}`);
    writeFileSync(hang, '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
    git(dir, 'config', 'remote.origin.receivepack', hang);
    const config = JSON.parse(readFileSync(path.join(dir, '.maintenance-config.json'), 'utf8'));
    writeFileSync(
      path.join(dir, '.maintenance-config.json'),
      JSON.stringify({ ...config, git: { timeoutSeconds: 5, pushBudgetSeconds: 10 } }, null, 2),
    );
    const r = await tick(fleet, a, T0, { tasks: ['local-log-prune'] });
    expect(r.doc, r.stderr).toBeDefined();
    expect(r.doc!.pushed).toBe(false);
    expect(r.doc!.offline).toBe(true);
    expect((r.doc as unknown as { offlineReason: string }).offlineReason).toContain('unreachable');
    // nothing of that push outlives the tick
    const leftovers = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return (
            readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('sleep') &&
            readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('600') &&
            readFileSync(`/proc/${p}/environ`, 'utf8').includes(fleet.base)
          );
        } catch {
          return false;
        }
      });
    expect(leftovers).toEqual([]);
  });

  it('odd clone states: a detached HEAD, a path through a symlink, a rebase someone left', async () => {
    const fleet = await makeFleet(2);
    const [a, b] = fleet.machines as [string, string];
    expect((await tick(fleet, a, T0, { tasks: ['log-rotation'] })).code).toBe(0);
    // detached HEAD with a commit of its own: back on main, the commit kept on a branch
    const dir = fleet.dir(b);
    git(dir, 'pull', '-q');
    git(dir, 'checkout', '-q', '--detach');
    git(dir, 'config', 'user.name', 'someone');
    git(dir, 'config', 'user.email', 'someone@example.invalid');
    writeFileSync(path.join(dir, 'notes.txt'), 'a note');
    git(dir, 'add', 'notes.txt');
    git(dir, 'commit', '-q', '-m', 'a commit on a detached HEAD');
    const back = await tick(fleet, b, T0 + MIN, { tasks: ['log-rotation'] });
    expect(back.code, back.stderr).toBe(0);
    expect(back.doc!.notes.join(' ')).toContain('back on main');
    expect(git(dir, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('main');
    expect(git(dir, 'branch', '--list', 'roosync-maint/kept/*').trim()).toContain('detached');
    expect(JSON.parse(remoteFile(fleet, `maintenance/machines/${b}.json`)!).lastTickAt).toBe(
      new Date(T0 + MIN).toISOString(),
    );
    // the shared state reached through a symlink
    const link = path.join(await tempDir('link'), '.shared-state');
    symlinkSync(fleet.dir(a), link);
    // an old log for the leader to rotate, so that this tick has fleet work to commit through the link
    mkdirSync(path.join(fleet.dir(a), 'logs'), { recursive: true });
    writeFileSync(path.join(fleet.dir(a), 'logs', 'sync-2026-01-01.log'), 'old');
    const viaLink = await tick(fleet, a, T0 + 2 * MIN, { tasks: ['log-rotation'], args: ['--shared-state', link] });
    expect(viaLink.code, viaLink.stderr).toBe(0);
    expect(viaLink.doc!.committed).toBe(true);
    expect(viaLink.doc!.pushed).toBe(true);
    // a rebase someone left: young, this tick does not sync (exit 1, says why); old, it is aborted and the tick goes on
    writeFileSync(path.join(fleet.dir(a), 'maintenance', 'machines', `${a}.json`), '{"conflict": 1}');
    git(fleet.dir(a), 'config', 'user.name', 'someone');
    git(fleet.dir(a), 'config', 'user.email', 'someone@example.invalid');
    git(fleet.dir(a), 'commit', '-q', '-am', 'a local edit');
    expect((await tick(fleet, b, T0 + 3 * MIN, { tasks: ['log-rotation'] })).code).toBe(0); // b rewrites its own file, a's moves on
    git(fleet.dir(a), 'fetch', '-q');
    git(fleet.dir(b), 'pull', '-q');
    writeFileSync(path.join(fleet.dir(b), 'maintenance', 'machines', `${a}.json`), '{"other": 2}');
    git(fleet.dir(b), 'config', 'user.name', 'someone');
    git(fleet.dir(b), 'config', 'user.email', 'someone@example.invalid');
    git(fleet.dir(b), 'commit', '-q', '-am', 'another edit');
    git(fleet.dir(b), 'push', '-q');
    git(fleet.dir(a), 'fetch', '-q');
    try {
      git(fleet.dir(a), 'rebase', 'origin/main');
    } catch {
      // left conflicted on purpose
    }
    const young = await tick(fleet, a, T0 + 4 * MIN, { tasks: ['log-rotation'] });
    expect(young.code).toBe(1);
    // --json: the error is in the one document (a person's stderr never gets it twice)
    expect(JSON.stringify(young.doc)).toContain('a rebase is in progress');
    const old = (Date.now() - 30 * MIN) / 1000;
    utimesSync(path.join(fleet.dir(a), '.git', 'rebase-merge'), old, old);
    const healed = await tick(fleet, a, T0 + 5 * MIN, { tasks: ['log-rotation'] });
    expect(healed.code, healed.stderr).toBe(0);
    expect(healed.doc!.notes.join(' ')).toContain('aborted a rebase');
    expect(conflictMarkers(fleet.dir(a))).toEqual([]);
    expect(convergedWithRemote(fleet, a).same).toBe(true);
  });
});
