import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMessage } from '../../src/demo/messages.js';
import { ARCHIVE_TASKS, makeFleet, T0, tick } from '../fleet.js';
import { scaled, tempDir } from '../helpers.js';

/**
 * Issue 28: a plain folder (RooSync's Google Drive `.shared-state`, no git) elects its leader by itself: three
 * machines, each with its own local state, run their scheduled ticks 15 simulated minutes apart for hours, with
 * no `--leader` typed anywhere. A claim leads only once it still stands at a later tick (election/plainLease.ts).
 */
const MIN = 60_000;

describe('a plain shared folder elects one leader by itself', () => {
  it(
    'exactly one leads each round, due messages get archived, and a stopped leader is replaced after its lease',
    async () => {
      const fleet = await makeFleet(3);
      const machines = fleet.machines as [string, string, string];
      const folder = path.join(await tempDir('plain-election'), 'shared');
      mkdirSync(path.join(folder, 'messages', 'inbox'), { recursive: true });
      writeFileSync(
        path.join(folder, '.maintenance-config.json'),
        JSON.stringify({ election: { leaseSeconds: 3600, settleSeconds: 120 }, schedule: { tickMinutes: 15 } }),
      );
      const due = Array.from({ length: 30 }, (_, i) => makeMessage(T0, 40 + i, { status: 'read', to: machines[0] }));
      for (const m of due) writeFileSync(path.join(folder, 'messages', 'inbox', `${m.id}.json`), JSON.stringify(m));
      const inbox = () => readdirSync(path.join(folder, 'messages', 'inbox'));
      // each machine its own local state (observations, schedule): what separate computers have
      const env = (m: string) => ({ XDG_STATE_HOME: path.join(fleet.local(m), 'state') });
      const round = async (r: number, who: readonly string[]) => {
        const leaders: string[] = [];
        for (const [i, m] of who.entries()) {
          const at = T0 + r * 15 * MIN + i * 20_000;
          const run = await tick(fleet, m, at, {
            sharedState: folder,
            tasks: ARCHIVE_TASKS,
            args: ['--no-sync'],
            env: env(m),
          });
          expect(run.code, run.stderr).toBeLessThanOrEqual(1);
          if (run.doc?.leader.isLeader) leaders.push(m);
        }
        return leaders;
      };
      const history: string[][] = [];
      for (let r = 0; r < 16; r++) history.push(await round(r, machines));
      // never two in one round; one from the second round on (the first claim must settle)
      for (const leaders of history) expect(leaders.length).toBeLessThanOrEqual(1);
      for (const leaders of history.slice(1)) expect(leaders).toHaveLength(1);
      const first = history[1]![0]!;
      expect(history.slice(1).every((l) => l[0] === first)).toBe(true);
      // the due messages were archived by the leader
      expect(inbox().filter((n) => due.some((m) => n === `${m.id}.json`))).toEqual([]);
      // the leader's schedule stops: after its lease (60 min) and a settle, another machine leads
      const others = machines.filter((m) => m !== first);
      const after: string[][] = [];
      for (let r = 16; r < 16 + 10; r++) after.push(await round(r, others));
      for (const leaders of after) expect(leaders.length).toBeLessThanOrEqual(1);
      const takeover = after.findIndex((l) => l.length === 1);
      expect(takeover, JSON.stringify(after)).toBeGreaterThanOrEqual(0);
      // one lease (4 rounds) plus the settle round, with a round of slack for the observation to start
      expect(takeover).toBeLessThanOrEqual(6);
      const second = after[takeover]![0]!;
      expect(second).not.toBe(first);
      expect(after.slice(takeover).every((l) => l.length === 1 && l[0] === second)).toBe(true);
      const lease = JSON.parse(readFileSync(path.join(folder, 'maintenance', 'leader.json'), 'utf8'));
      expect(lease).toMatchObject({ holder: second, term: 2 });
    },
    scaled(600_000),
  );
});
