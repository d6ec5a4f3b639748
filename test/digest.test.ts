import { scaled } from './helpers.js';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../src/roosync/message.js';
import { git, makeFleet, tick } from './fleet.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

describe('digests as RooSync messages', () => {
  it(
    'at most one per machine per day, valid for RooSync, the leader’s with the fleet KPIs',
    async () => {
      const fleet = await makeFleet(2);
      const [a, b] = fleet.machines as [string, string];
      const digests = () =>
        git(fleet.remote, 'ls-tree', '--name-only', 'main', 'messages/inbox/')
          .trim()
          .split('\n')
          .filter((f) => f.endsWith('.json'))
          .map((f) => {
            const parsed = parseMessage(
              git(fleet.remote, 'show', `main:${f}`),
              f.split('/').pop()!,
              Date.UTC(2026, 11, 1),
            );
            expect(parsed.ok, f).toBe(true);
            return parsed.ok ? parsed.message : undefined!;
          });
      for (const [i, hours] of [0, 1, 2, 25].entries()) {
        for (const m of [a, b]) expect((await tick(fleet, m, T0 + hours * HOUR)).code).toBe(0);
        expect(digests()).toHaveLength(i < 3 ? 2 : 4); // one each at 12:00, none more until 24 h later
      }
      const all = digests();
      for (const d of all)
        expect(d).toMatchObject({ priority: 'LOW', to: 'all', status: 'unread', tags: ['maintenance', 'report'] });
      const fromA = all.filter((d) => d.from === `${a}:maintenance`);
      expect(fromA).toHaveLength(2);
      expect(fromA[0]!.subject).toMatch(new RegExp(`^\\[DIGEST\\] ${a}: \\d+ cleaned, .+ freed`));
      expect(fromA[0]!.body).toContain('### KPI de la flotte'); // a leads
      expect(fromA[0]!.body).toContain('```json');
      expect(all.find((d) => d.from === `${b}:maintenance`)!.body).not.toContain('KPI de la flotte');
      // and the sent copies, as RooSync expects
      expect(git(fleet.remote, 'ls-tree', '--name-only', 'main', 'messages/sent/').trim().split('\n')).toHaveLength(4);
    },
    scaled(60_000),
  );
});
