import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, fleetAliveAt, NOW, snapshotTree, tempDir } from './helpers.js';

/**
 * Issue 28: RooSync's own liveness files, `listener-heartbeats/` and `worker-heartbeats/` (one timestamp per
 * machine, judged by mtime, stale after 2 h), are read as liveness evidence and never touched.
 */
describe("RooSync's heartbeat folders", () => {
  it('are byte-identical after any number of ticks, refuse rules, and a stale listener shows in status', async () => {
    const shared = path.join(await tempDir('heartbeats'), 'shared');
    const beat = (folder: string, machine: string, ageMinutes: number) => {
      const dir = path.join(shared, folder);
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${machine}.heartbeat`);
      const at = NOW - ageMinutes * 60_000;
      writeFileSync(file, new Date(at).toISOString().replace(/\.\d+Z$/, 'Z'));
      utimesSync(file, at / 1000, at / 1000);
    };
    beat('listener-heartbeats', 'myia-ai-01', 4);
    beat('listener-heartbeats', 'myia-po-2024', 3 * 60);
    beat('worker-heartbeats', 'myia-ai-01', 10);
    mkdirSync(path.join(shared, 'messages', 'inbox'), { recursive: true });
    fleetAliveAt(shared, NOW);
    const before = Object.fromEntries(
      Object.entries(await snapshotTree(shared)).filter(([k]) => k.includes('heartbeats')),
    );
    const args = ['--shared-state', shared, '--machine', 'myia-ai-01'];
    for (let i = 0; i < 3; i++) {
      const r = await cli(['run', '--no-sync', '--leader', '--task', 'all', ...args], { now: NOW + i * 86_400_000 });
      expect(r.code, r.stderr).toBeLessThanOrEqual(1);
    }
    const after = Object.fromEntries(
      Object.entries(await snapshotTree(shared)).filter(([k]) => k.includes('heartbeats')),
    );
    expect(after).toEqual(before);
    // status: the stale listener is named
    const status = await cli(['status', ...args], { now: NOW });
    expect(status.stdout).toMatch(/myia-po-2024 listener +3 h(ours)? ago +STALE/);
    expect(status.stdout).toMatch(/myia-ai-01 listener +4 min(utes)? ago\s*$/m);
    const doc = JSON.parse((await cli(['status', '--json', ...args], { now: NOW })).stdout);
    expect(doc.rooHeartbeats).toContainEqual(
      expect.objectContaining({ kind: 'worker', machine: 'myia-ai-01', stale: false }),
    );
    // fleet-liveness reports it as a check
    const live = JSON.parse(
      (await cli(['run', '--no-sync', '--leader', '--json', '--task', 'fleet-liveness', ...args], { now: NOW })).stdout,
    );
    const checks = live.tasks[0].checks as { subject: string; state: string }[];
    expect(checks).toContainEqual(expect.objectContaining({ subject: 'myia-po-2024 listener', state: 'failing' }));
    // a rule that names the folder is refused before anything runs
    writeFileSync(
      path.join(shared, '.maintenance-config.json'),
      JSON.stringify({ rules: [{ name: 'x', root: 'listener-heartbeats', match: ['*'], olderThanDays: 1 }] }),
    );
    const refused = await cli(['config', 'validate', ...args]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('never touched by maintenance');
  });
});
