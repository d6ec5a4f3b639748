import { scaled } from './helpers.js';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../src/roosync/message.js';
import { git, makeFleet, tick, type Fleet } from './fleet.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

/** The digests on the remote's main, as RooSync reads them (each must parse). */
function digests(fleet: Fleet) {
  return git(fleet.remote, 'ls-tree', '--name-only', 'main', 'messages/inbox/')
    .trim()
    .split('\n')
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const parsed = parseMessage(git(fleet.remote, 'show', `main:${f}`), f.split('/').pop()!, Date.UTC(2026, 11, 1));
      expect(parsed.ok, f).toBe(true);
      return parsed.ok ? parsed.message : undefined!;
    })
    .filter((m) => m.subject.startsWith('[DIGEST]'));
}

describe('digests as RooSync messages', () => {
  it(
    'one fleet digest a day from the leader, with the KPIs; a follower with nothing to say sends none',
    async () => {
      const fleet = await makeFleet(2);
      const [a, b] = fleet.machines as [string, string];
      for (const [i, hours] of [0, 1, 2, 25].entries()) {
        for (const m of [a, b]) expect((await tick(fleet, m, T0 + hours * HOUR)).code).toBe(0);
        expect(digests(fleet)).toHaveLength(i < 3 ? 1 : 2); // at 12:00, none more until 24 h later
      }
      const all = digests(fleet);
      for (const d of all) {
        expect(d).toMatchObject({ to: 'all', status: 'unread', tags: ['maintenance', 'report', 'fleet'] });
        expect(d.from).toBe(`${a}:maintenance`);
        expect(d.body).toContain('### KPI de la flotte');
        expect(d.body).toContain('```json');
      }
      // and the sent copies, as RooSync expects
      expect(git(fleet.remote, 'ls-tree', '--name-only', 'main', 'messages/sent/').trim().split('\n')).toHaveLength(2);
    },
    scaled(60_000),
  );

  it(
    'a follower whose task fails sends its own digest, in the configured language; the leader’s lists it',
    async () => {
      const fleet = await makeFleet(2, (seed) => {
        const file = path.join(seed, '.maintenance-config.json');
        const config = JSON.parse(readFileSync(file, 'utf8'));
        // a token that has expired: the health task fails on every machine
        config.health = { tokens: [{ name: 'github-pat', expiresAt: '2026-11-01' }] };
        config.reports = { language: 'en' };
        writeFileSync(file, JSON.stringify(config, null, 2));
      });
      const [a, b] = fleet.machines as [string, string];
      for (const m of [a, b]) await tick(fleet, m, T0, { tasks: ['health'] });
      await tick(fleet, a, T0 + HOUR, { tasks: ['health'] }); // the leader sees b's failure in its status
      for (const m of [a, b]) await tick(fleet, m, T0 + 25 * HOUR, { tasks: ['health'] });
      const all = digests(fleet);
      const own = all.filter((d) => d.from === `${b}:maintenance`);
      expect(own.length).toBeGreaterThanOrEqual(1);
      expect(own[0]!.subject).toMatch(new RegExp(`^\\[DIGEST\\] ${b}: \\d+ cleaned, .+ freed, FAILED: health$`));
      expect(own[0]!.body).toContain('| task | runs |');
      expect(own[0]!.body).not.toMatch(/Période|passages/);
      const fleetDigest = all.filter((d) => d.from === `${a}:maintenance`).at(-1)!;
      expect(fleetDigest.subject).toMatch(/^\[DIGEST\] fleet: 2 machines, leader myia-m1 — \d+ needs? attention$/);
      expect(fleetDigest.body).toContain(`- ${b}: failed health`);
      expect(fleetDigest.priority).toBe('MEDIUM');
    },
    scaled(60_000),
  );
});
