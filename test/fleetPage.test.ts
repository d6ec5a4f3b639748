import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Incident } from '../src/alerts/engine.js';
import type { FleetStatus } from '../src/report/fleetStatus.js';
import { renderFleetPage } from '../src/report/fleetPage.js';
import type { HistoryEntry } from '../src/report/history.js';
import { chromiumMissing, launchChromium, openOffline } from './browser.js';
import { NOW, tempDir } from './helpers.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const iso = (t: number) => new Date(t).toISOString();
const HOSTILE = 'evil<script>window.pwned=1</script>';

/** Six machines over a month: one silent, one behind on its version, one with a failing check, a hostile name. */
function month(): { fleet: FleetStatus; history: HistoryEntry[]; incidents: Incident[] } {
  const names = ['myia-ai-01', 'myia-po-2023', 'myia-po-2024', 'myia-po-2025', 'myia-po-2026', 'myia-web1'];
  const machines = names.map((m, i) => ({
    machine: m,
    version: i === 4 ? '0.0.9' : '0.1.0',
    lastTickAt: iso(NOW - (i === 5 ? 2 * DAY : (i + 1) * 7 * MIN)),
    lastSuccessAt: iso(NOW - 10 * MIN),
    offline: false,
    leader: { isLeader: i === 1, term: 4, reason: '' },
    tasks: [],
    failed: i === 3 ? ['health'] : [],
    health: { failing: i === 3 ? [`MCP github is down: ${HOSTILE}`] : [] },
    silent: i === 5,
    sinceMinutes: i === 5 ? 2880 : (i + 1) * 7,
  }));
  const fleet: FleetStatus = {
    at: iso(NOW),
    leader: {
      holder: 'myia-po-2023',
      term: 4,
      acquiredAt: iso(NOW - 9 * DAY),
      renewedAt: iso(NOW - 20 * MIN),
      expiresAt: iso(NOW + 100 * MIN),
      ageMinutes: 20,
      released: false,
      live: true,
    },
    machines,
    silent: ['myia-web1'],
    malformed: [],
    kpis: [],
    rooHeartbeats: [],
    versions: [
      { version: '0.1.0', machines: names.filter((_, i) => i !== 4) },
      { version: '0.0.9', machines: ['myia-po-2026'] },
    ],
    components: [
      {
        component: 'roo-extensions',
        commits: [
          { commit: 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2', machines: names.slice(0, 2) },
          { commit: '0f9e8d7c6b5a0f9e8d7c6b5a0f9e8d7c6b5a0f9e', machines: names.slice(2) },
        ],
      },
    ],
  };
  const history = Array.from({ length: 30 }, (_, d) => ({
    at: iso(NOW - (29 - d) * DAY),
    leader: d < 21 ? 'myia-ai-01' : 'myia-po-2023',
    term: d < 21 ? 3 : 4,
    machines: 6,
    silent: d > 27 ? 1 : 0,
    inbox: 400 - d * 11 + (d % 3) * 9,
    rollbackDirs: Math.max(2, 25 - d),
    freedBytes: (3 + (d % 5)) * 1024 * 1024,
    mcpUptimePercent: d === 12 ? 97.5 : 99.9,
    mttrMinutes: d < 12 ? null : 42 - d,
    attention: d > 27 ? 2 : 0,
  }));
  const incidents = [
    {
      key: 'k',
      check: 'mcp',
      subject: 'github',
      machine: 'myia-po-2025',
      start: iso(NOW - 5 * DAY),
      end: iso(NOW - 5 * DAY + 40 * MIN),
    },
  ];
  return { fleet, history, incidents };
}

describe('the fleet page', () => {
  it('is one small self-contained file: every name escaped, no script, no external reference', () => {
    const page = renderFleetPage({ ...month(), now: NOW, writer: 'myia-po-2023', version: '0.1.0' });
    expect(Buffer.byteLength(page)).toBeLessThan(60 * 1024);
    expect(page).not.toContain('<script');
    expect(page).toContain('evil&lt;script&gt;');
    expect(page).not.toMatch(/\b(src|href)=|url\(|@import|https?:\/\//);
    expect(page).toContain("default-src 'none'");
  });

  const missing = chromiumMissing();
  it.skipIf(missing !== undefined)(
    `in Chromium, offline: machines, leader, five trend charts, version skew, phone width${missing ? ` — SKIPPED: ${missing}` : ''}`,
    async () => {
      const dir = await tempDir('page');
      const file = path.join(dir, 'fleet.html');
      writeFileSync(file, renderFleetPage({ ...month(), now: NOW, writer: 'myia-po-2023', version: '0.1.0' }));
      const browser = await launchChromium();
      try {
        const { tab, outside } = await openOffline(browser, file, 1100);
        expect(await tab.locator('tr.machine').count()).toBe(6);
        expect(await tab.locator('#leader').textContent()).toContain('myia-po-2023 leads, term 4');
        expect(await tab.locator('#leaders tr').count()).toBe(3); // header + two terms
        expect(await tab.locator('figure.chart polyline').count()).toBe(5);
        expect(await tab.locator('#skew').textContent()).toContain('0.0.9 on myia-po-2026');
        expect(await tab.locator('#components').textContent()).toMatch(/roo-extensions skew.*a1b2c3d4e5f6 × 2/);
        expect(await tab.locator('#verdict').textContent()).toContain('myia-web1 is silent');
        expect(await tab.locator('#verdict').textContent()).toContain(HOSTILE); // shown as text, not run
        expect(await tab.locator('html').evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
        expect(outside).toEqual([]);
        const shots = path.resolve(import.meta.dirname, 'output');
        mkdirSync(shots, { recursive: true });
        await tab.screenshot({ path: path.join(shots, 'fleet-page-month.png'), fullPage: true });
        await tab.setViewportSize({ width: 390, height: 844 });
        expect(await tab.locator('html').evaluate((e) => e.scrollWidth)).toBeLessThanOrEqual(390);
        await tab.screenshot({ path: path.join(shots, 'fleet-page-phone.png'), fullPage: true });
        console.log(`screenshots of the fleet page: ${shots}/fleet-page-{month,phone}.png`);
      } finally {
        await browser.close();
      }
    },
  );
});
