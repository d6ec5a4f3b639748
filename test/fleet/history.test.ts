import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, leaseHistory, makeFleet, remoteFile, T0, tick, type Fleet } from '../fleet.js';
import { cli } from '../helpers.js';

const MIN = 60_000;
const TICK = 15 * MIN;
/** The defaults these guarantees are stated for (docs/sync-and-election.md, "How often a fleet commits"). */
const LEASE = 120 * MIN;
const HEARTBEAT = 240 * MIN;
const SILENT_AFTER = HEARTBEAT + 2 * TICK + 15 * MIN;

/** A fleet whose config leaves election and schedule at their defaults. */
function atDefaults(n: number): Promise<Fleet> {
  return makeFleet(n, (seed) => {
    const file = path.join(seed, '.maintenance-config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    delete config.election;
    writeFileSync(file, JSON.stringify(config, null, 2));
  });
}

const commitsOnMain = (fleet: Fleet) => Number(git(fleet.remote, 'rev-list', '--count', 'main').trim());

/** Scheduled ticks (no --task), each machine at its own offset in the interval, in time order. */
async function tickFleet(fleet: Fleet, machines: readonly string[], from: number, to: number) {
  const events = [];
  for (let k = 0; from + k * TICK < to; k++)
    for (const [i, m] of machines.entries()) events.push({ at: from + k * TICK + i * 5 * MIN, m });
  events.sort((a, b) => a.at - b.at);
  const runs = [];
  for (const e of events) {
    const r = await tick(fleet, e.m, e.at, { tasks: [] });
    expect(r.code, r.stderr).toBe(0);
    runs.push({ ...e, doc: r.doc! });
  }
  return runs;
}

describe('a quiet history at the default intervals (real CLI processes, simulated clock)', () => {
  it('3 machines ticking every 15 min for 6 h add at most 15 commits; failover and liveness still hold', async () => {
    const fleet = await atDefaults(3);
    const [a, b, c] = fleet.machines as [string, string, string];
    const before = commitsOnMain(fleet);
    const runs = await tickFleet(fleet, fleet.machines, T0, T0 + 6 * 60 * MIN);
    expect(runs).toHaveLength(72);
    const added = commitsOnMain(fleet) - before;
    expect(added).toBeLessThanOrEqual(15);
    expect(runs.filter((r) => r.doc.quiet).length).toBeGreaterThan(40); // most ticks had nothing to say
    for (const m of fleet.machines) expect(remoteFile(fleet, `maintenance/machines/${m}.json`)).toBeDefined();
    expect(new Set(leaseHistory(fleet).map((v) => v.term))).toEqual(new Set([1]));
    expect(JSON.parse(remoteFile(fleet, 'maintenance/leader.json')!).holder).toBe(a);

    // the leader dies: the others go on ticking; b or c takes over within one lease plus one tick of its last renewal
    const lastRenewal = Date.parse(JSON.parse(remoteFile(fleet, 'maintenance/leader.json')!).renewedAt);
    const deadStatus = Date.parse(JSON.parse(remoteFile(fleet, `maintenance/machines/${a}.json`)!).lastTickAt);
    const after = await tickFleet(fleet, [b, c], T0 + 6 * 60 * MIN, T0 + 12 * 60 * MIN);
    const takeover = after.find((r) => r.doc.leader.isLeader);
    expect(takeover, 'no machine took over').toBeDefined();
    expect(takeover!.at - lastRenewal).toBeLessThanOrEqual(LEASE + TICK);
    expect(takeover!.at - lastRenewal).toBeGreaterThanOrEqual(LEASE); // and never before the lease ran out

    // liveness: the dead machine is flagged once its heartbeat promise is broken, not before
    const status = async (now: number) =>
      JSON.parse((await cli(['status', '--json', '--shared-state', fleet.dir(b), '--machine', b], { now })).stdout);
    git(fleet.dir(b), 'pull', '-q');
    expect((await status(deadStatus + SILENT_AFTER - MIN)).silent).toEqual([]);
    expect((await status(deadStatus + SILENT_AFTER + MIN)).silent).toEqual([a]);
    // the live ones are never flagged, though they commit a status only every few hours
    expect((await status(T0 + 12 * 60 * MIN)).silent).toEqual([a]);
  });
});
