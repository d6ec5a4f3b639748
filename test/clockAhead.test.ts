import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMessage } from '../src/demo/messages.js';
import { fleetClockCheck } from '../src/setup/doctor.js';
import { ageClockMargin, fleetAgeClock } from '../src/report/fleetClock.js';
import { DAY, NOW, cli, tempDir } from './helpers.js';

/** Issue 24: a leader whose clock runs far ahead judges ages by the fleet's clock, never its own. */

const MARGIN = ageClockMargin(240);

describe('the fleet clock for age decisions (pure)', () => {
  it('no evidence from another machine: this clock', () => {
    expect(fleetAgeClock(NOW, [], MARGIN)).toEqual({ now: NOW });
  });
  it('within a heartbeat and a day of the newest evidence: this clock', () => {
    expect(fleetAgeClock(NOW, [{ source: 'x', ms: NOW - DAY }], MARGIN)).toEqual({ now: NOW });
  });
  it('far ahead: capped at the newest evidence plus the margin, and the note says why', () => {
    const evidence = [
      { source: "myia-po-2023's last tick", ms: NOW - 3 * DAY },
      { source: 'message msg-1 from myia-po-2026', ms: NOW },
    ];
    const r = fleetAgeClock(NOW + 400 * DAY, evidence, MARGIN);
    expect(r.now).toBe(NOW + MARGIN);
    expect(r.capped).toContain('ahead of the fleet');
    expect(r.capped).toContain('message msg-1 from myia-po-2026');
  });
  it('a fleet back after a week with every machine off is still maintained, a margin late', () => {
    const r = fleetAgeClock(NOW, [{ source: 'x', ms: NOW - 7 * DAY }], MARGIN);
    expect(r.now).toBe(NOW - 7 * DAY + MARGIN);
    expect(r.now).toBeGreaterThan(NOW - 7 * DAY);
  });
});

describe('a leader 400 days ahead on a fleet of young messages (plain folder, real CLI)', () => {
  it('archives and purges nothing, and says why; doctor flags the clock', async () => {
    const shared = await tempDir('ahead');
    const dirs = { inbox: path.join(shared, 'messages', 'inbox'), archive: path.join(shared, 'messages', 'archive') };
    await mkdir(dirs.inbox, { recursive: true });
    await mkdir(dirs.archive, { recursive: true });
    const written: string[] = [];
    for (let i = 0; i < 200; i++) {
      const m = makeMessage(NOW, 1 + (i % 5), { from: `myia-po-${2023 + (i % 3)}:roo`, status: 'unread' });
      await writeFile(path.join(dirs.inbox, `${m.id}.json`), JSON.stringify(m, null, 2));
      written.push(`${m.id}.json`);
      const a = makeMessage(NOW, 10 + (i % 75), { status: 'archived', read_by: ['myia-po-2023'] });
      await writeFile(path.join(dirs.archive, `${a.id}.json`), JSON.stringify(a, null, 2));
    }
    const ahead = NOW + 400 * DAY;
    const args = ['run', '--no-sync', '--leader', '--json', '--shared-state', shared, '--machine', 'myia-ai-01'];
    const r = await cli([...args, '--task', 'messages-archive', '--task', 'messages-purge'], { now: ahead });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { tasks: { task: string; counts: { acted: number }; warnings: string[] }[] };
    for (const t of doc.tasks) {
      expect(t.counts.acted, t.task).toBe(0);
      expect(t.warnings.join(' '), t.task).toContain("ahead of the fleet's newest evidence");
    }
    expect(await readdir(dirs.inbox)).toEqual(expect.arrayContaining(written)); // (and this run's digest)
    expect(await readdir(dirs.archive)).toHaveLength(200);
    // the same run with a right clock archives nothing young either, and purges nothing under 90 days
    const right = await cli([...args, '--task', 'messages-archive'], { now: NOW });
    expect(JSON.parse(right.stdout).tasks[0].warnings.join(' ')).not.toContain('ahead');
    expect(fleetClockCheck(shared, 'myia-ai-01', ahead, 240)).toMatchObject({ state: 'fail' });
    expect(fleetClockCheck(shared, 'myia-ai-01', NOW, 240)).toMatchObject({ state: 'ok' });
  });
});
