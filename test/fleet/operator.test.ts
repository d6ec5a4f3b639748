import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/roosync/message.js';
import { chromiumMissing, launchChromium, openOffline } from '../browser.js';
import { git, makeFleet, remoteFile, T0, tick, type Fleet } from '../fleet.js';
import { cli, tempDir } from '../helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Hourly scheduled ticks (the default lease and heartbeat): a day is 25 rounds of 3 machines, 5 minutes apart. */
async function fleetOfThree(): Promise<Fleet> {
  return makeFleet(3, (seed) => {
    const file = path.join(seed, '.maintenance-config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    delete config.election;
    config.schedule = { tickMinutes: 60 };
    writeFileSync(file, JSON.stringify(config, null, 2));
  });
}

/** Every digest on the remote's main (RooSync's inbox), parsed as RooSync reads it. */
function digests(fleet: Fleet) {
  return git(fleet.remote, 'ls-tree', '--name-only', 'main', 'messages/inbox/')
    .split('\n')
    .filter((f) => f.endsWith('.json'))
    .map((f) => parseMessage(git(fleet.remote, 'show', `main:${f}`), f.split('/').pop()!, T0 + 2 * DAY))
    .flatMap((p) => (p.ok ? [p.message] : []))
    .filter((m) => m.subject.startsWith('[DIGEST]'));
}

describe('what an operator sees of a quiet day (three clones, real CLI processes, simulated clock)', () => {
  it('one fleet digest a day from the leader, a fleet page committed, a status that fails once the fleet is silent', async () => {
    const fleet = await fleetOfThree();
    const [a] = fleet.machines as [string, string, string];
    // a day of scheduled ticks, the first and the last a day apart
    for (let at = T0; at <= T0 + DAY; at += HOUR)
      for (const [i, m] of fleet.machines.entries()) {
        const r = await tick(fleet, m, at + i * 5 * MIN, { tasks: [] });
        expect(r.code, r.stderr).toBe(0);
      }

    // nothing was wrong: the leader's fleet digest at its first tick and a day later, no machine's own digest
    const sent = digests(fleet);
    expect(sent.length, sent.map((d) => d.subject).join('\n')).toBeLessThanOrEqual(2);
    expect(sent.map((d) => d.from)).toEqual([`${a}:maintenance`, `${a}:maintenance`]);
    const last = sent.sort((x, y) => x.timestamp.localeCompare(y.timestamp)).at(-1)!;
    expect(last.subject).toBe(`[DIGEST] flotte : 3 machines, leader ${a} — tout va bien`);
    expect(last.body).toContain('### KPI de la flotte');
    expect(last.body).not.toMatch(/\| task \||Nothing to report/); // one language per message

    // the page and its history are in the shared state, committed and pushed
    const page = remoteFile(fleet, 'maintenance/fleet.html');
    expect(page).toBeDefined();
    expect(JSON.parse(remoteFile(fleet, 'maintenance/fleet-history.json')!)).toHaveLength(2);
    expect(Buffer.byteLength(page!)).toBeLessThan(60 * 1024);

    // status: ok with a live fleet; exit 1 once every machine has been silent for a day, the reason first
    const status = (now: number) =>
      cli(['status', '--json', '--shared-state', fleet.dir(a), '--machine', a, '--no-sync'], { now });
    const fine = await status(T0 + DAY + 20 * MIN);
    expect(JSON.parse(fine.stdout)).toMatchObject({ ok: true, attention: [] });
    // how old the view is: a's last tick (quiet or not) fetched at T0 + 1 day, 20 minutes before
    expect(JSON.parse(fine.stdout).view).toMatchObject({ live: false, ageMinutes: 20 });
    expect(fine.code).toBe(0);
    const silent = await status(T0 + 2 * DAY + 20 * MIN);
    const doc = JSON.parse(silent.stdout);
    expect(silent.code).toBe(1);
    expect(doc.ok).toBe(false);
    expect(doc.attention[0]).toMatch(/^no live leader: /);
    for (const m of fleet.machines) expect(doc.attention.join('\n')).toContain(`${m} is silent`);
    expect(doc.leader.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const human = await cli(['status', '--shared-state', fleet.dir(a), '--machine', a], { now: T0 + 2 * DAY });
    expect(human.stdout.split('\n')[0]).toMatch(/^NEEDS ATTENTION \(\d+\):$/);

    // the page in a real browser, offline: every machine, the leader, a trend chart, and no request leaves the file
    const missing = chromiumMissing();
    if (missing) {
      console.warn(`SKIPPED the browser half of this test: ${missing}`);
      return;
    }
    const dir = await tempDir('page');
    const file = path.join(dir, 'fleet.html');
    writeFileSync(file, page!);
    const browser = await launchChromium();
    try {
      const { tab, outside } = await openOffline(browser, file);
      expect(
        await tab.locator('tr.machine').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-machine'))),
      ).toEqual(fleet.machines);
      expect(await tab.locator('#leader').textContent()).toContain(`${a} leads`);
      expect(await tab.locator('#verdict').textContent()).toMatch(/^All well/);
      expect(await tab.locator('figure.chart polyline').count()).toBeGreaterThanOrEqual(1);
      expect(outside).toEqual([]);
      // a phone shows it without sideways scrolling of the page itself
      await tab.setViewportSize({ width: 390, height: 844 });
      expect(await tab.locator('html').evaluate((e) => e.scrollWidth)).toBeLessThanOrEqual(390);
      await tab.setViewportSize({ width: 1000, height: 900 });
      const shots = path.resolve(import.meta.dirname, '..', 'output');
      mkdirSync(shots, { recursive: true });
      const shot = path.join(shots, 'fleet-page.png');
      await tab.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot of the fleet page: ${shot}`);
    } finally {
      await browser.close();
    }
  });
});
