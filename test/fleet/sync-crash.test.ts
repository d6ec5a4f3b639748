import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
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
} from '../fleet.js';

const MIN = 60_000;
const ARCHIVE = ARCHIVE_TASKS;
const KILLS = Number(process.env.ROOSYNC_TEST_KILLS ?? 50);

/** A small deterministic PRNG: the kill times are random but the run can be repeated (seed printed on failure). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function person(dir: string): void {
  git(dir, 'config', 'user.name', 'roosync on another machine');
  git(dir, 'config', 'user.email', 'roosync@example.invalid');
}

/** RooSync marking one inbox message read in a clone's work tree (uncommitted), as its markAsRead does. */
function markSomeRead(dir: string, reader: string, pick: number, at: number): string | undefined {
  const names = readdirSync(path.join(dir, 'messages', 'inbox'))
    .filter((n) => n.startsWith('msg-') && n.endsWith('.json'))
    .sort();
  const name = names[Math.floor(pick * names.length)];
  if (!name) return undefined;
  markRead(dir, name.slice(0, -5), reader, at);
  return name.slice(0, -5);
}

describe('invariant 4 in git mode: a leader SIGKILLed at random during archive, commit and push', () => {
  it(`${KILLS} kills, each followed by a takeover and a rerun: exit 0, converged, every message exactly once, no conflict markers`, async () => {
    const seed = Number(process.env.ROOSYNC_TEST_SEED ?? Date.now() % 100_000);
    const random = prng(seed);
    const fleet: Fleet = await makeFleet(3, (s) => {
      const cfg = JSON.parse(readFileSync(path.join(s, '.maintenance-config.json'), 'utf8'));
      writeFileSync(
        path.join(s, '.maintenance-config.json'),
        JSON.stringify({ ...cfg, election: { leaseSeconds: 120 }, schedule: { tickMinutes: 1 } }, null, 2),
      );
    });
    const [a, b, writer] = fleet.machines as [string, string, string];
    person(fleet.dir(writer));
    const ids: string[] = [];
    const marks: [string, string][] = [];
    let t = T0;
    expect((await tick(fleet, a, t, { tasks: ARCHIVE })).doc!.leader.isLeader).toBe(true);
    expect((await tick(fleet, b, t, { tasks: ARCHIVE })).code).toBe(0);
    let leader = a;
    let midRun = 0;
    let tickMs = 1000;
    for (let round = 0; round < KILLS; round++) {
      const other = leader === a ? b : a;
      // RooSync elsewhere sends 20 due and 2 recent messages; RooSync on both machines marks one read
      git(fleet.dir(writer), 'pull', '-q');
      for (let i = 0; i < 22; i++) {
        const m = makeMessage(t, i < 20 ? 40 + (i % 10) : 1, { status: i < 20 ? 'read' : 'unread', to: 'all' });
        writeFileSync(path.join(fleet.dir(writer), 'messages', 'inbox', `${m.id}.json`), JSON.stringify(m, null, 2));
        ids.push(m.id);
      }
      git(fleet.dir(writer), 'add', '-A');
      git(fleet.dir(writer), 'commit', '-q', '-m', `new messages, round ${round}`);
      git(fleet.dir(writer), 'push', '-q');
      for (const m of [leader, other]) {
        const id = markSomeRead(fleet.dir(m), m, random(), t);
        if (id) marks.push([id, m]);
      }
      // the leader's tick is killed at a random moment (start-up, sync, archive, commit or push)
      t += MIN;
      // a random moment within a whole tick's length, as the last full tick measured it
      const run = startTick(fleet, leader, t, { tasks: ARCHIVE });
      await new Promise((r) => setTimeout(r, 50 + random() * tickMs));
      if (run.child.exitCode === null) midRun++;
      run.child.kill('SIGKILL');
      await run.done;
      // the other machine sees the lease, then takes over once it ran out on both clocks
      expect((await tick(fleet, other, t + MIN, { tasks: ARCHIVE })).code).toBe(0);
      const started = Date.now();
      const takeover = await tick(fleet, other, t + 4 * MIN, { tasks: ARCHIVE });
      tickMs = Date.now() - started;
      expect(takeover.code, `round ${round}, seed ${seed}: ${takeover.stderr}`).toBe(0);
      // the killed machine runs again
      // --wait, as the daemon does: a kill between taking the run lock and recording its owner leaves a lock
      // only its stale period can free (5 s here, 60 s by default); without it this run would exit 3 (busy)
      const rerun = await tick(fleet, leader, t + 5 * MIN, { tasks: ARCHIVE, args: ['--wait'] });
      expect(rerun.code, `round ${round}, seed ${seed}: ${rerun.stderr}`).toBe(0);
      if (takeover.doc!.leader.isLeader) leader = other;
      t += 6 * MIN;
    }
    // everyone ticks until nothing is left to do
    for (const m of [leader, leader === a ? b : a, leader, leader === a ? b : a]) {
      t += MIN;
      expect((await tick(fleet, m, t, { tasks: ARCHIVE, args: ['--wait'] })).code, `seed ${seed}`).toBe(0);
    }
    const where = remoteMessages(fleet);
    for (const id of ids) expect(where.get(id), `${id}, seed ${seed}`).toHaveLength(1); // exactly once
    for (const m of [a, b]) {
      expect(convergedWithRemote(fleet, m), `${m}, seed ${seed}`).toEqual({ same: true, dirty: '' });
      expect(conflictMarkers(fleet.dir(m))).toEqual([]);
    }
    // every RooSync mark-as-read survived, wherever the message is now
    for (const [id, reader] of marks) {
      const folder = where.get(id)![0];
      const m = JSON.parse(remoteFile(fleet, `messages/${folder}/${id}.json`)!) as RooSyncMessage;
      expect(m.read_by, `${id} read by ${reader}, seed ${seed}`).toContain(reader);
    }
    expect(midRun).toBeGreaterThan(KILLS / 2); // most kills landed while the tick was running
  });
});
