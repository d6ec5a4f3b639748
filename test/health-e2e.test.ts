import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, makeFleet, tick } from './fleet.js';
import { cli, scaled } from './helpers.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const FIX = path.resolve(import.meta.dirname, 'fixtures', 'mcp');

describe('health through the tick, on a real clone', () => {
  it(
    'an MCP server that dies at once: alert on the third tick, [RESOLVED] once fixed, KPIs in status',
    async () => {
      const fleet = await makeFleet(1);
      const [m] = fleet.machines as [string];
      const settings = path.join(
        fleet.local(m),
        'globalStorage',
        'rooveterinaryinc.roo-cline',
        'settings',
        'mcp_settings.json',
      );
      mkdirSync(path.dirname(settings), { recursive: true });
      const serve = (file: string) =>
        writeFileSync(
          settings,
          JSON.stringify({
            mcpServers: {
              github: {
                command: process.execPath,
                args: [path.join(FIX, file)],
                env: { GITHUB_TOKEN: 'ghp_never_in_a_message' },
              },
            },
          }),
        );
      serve('exits.mjs');
      // a health task whose checks fail is a failed task: the run exits 1 and says which check and why
      for (const t of [0, 15, 30]) {
        const r = await tick(fleet, m, T0 + t * MIN, { tasks: ['health'] });
        expect(r.code).toBe(1);
        const health = (r.doc as { tasks: { task: string; status: string; reason?: string }[] }).tasks[0];
        expect(health).toMatchObject({ task: 'health', status: 'failed' });
        expect(health?.reason).toMatch(/^1 check failing: MCP github is down \(exited-early\)/);
      }
      serve('healthy.mjs');
      expect((await tick(fleet, m, T0 + 45 * MIN, { tasks: ['health'] })).code).toBe(0);
      const subjects = git(fleet.remote, 'ls-tree', '--name-only', 'main', 'messages/inbox/')
        .trim()
        .split('\n')
        .filter((f) => f.endsWith('.json'))
        .map((f) => JSON.parse(git(fleet.remote, 'show', `main:${f}`)) as { subject: string; body: string })
        .filter((msg) => !msg.subject.startsWith('[DIGEST]'));
      expect(subjects.map((s) => s.subject)).toEqual([
        `[ALERT][HIGH] ${m}: MCP github is down (exited-early): exited before answering (code 3)`,
        `[RESOLVED] ${m}: mcp github — back after 45 min`,
      ]);
      expect(subjects.map((s) => s.body).join('')).not.toContain('ghp_never_in_a_message');
      const status = JSON.parse(
        (await cli(['status', '--json', '--shared-state', fleet.dir(m), '--machine', m], { now: T0 + 50 * MIN }))
          .stdout,
      );
      expect(status.kpis.find((k: { name: string }) => k.name === 'MTTR')).toMatchObject({ value: 45, ok: false });
      expect(status.kpis.find((k: { name: string }) => k.name === 'MCP uptime').value).toBeGreaterThan(99);
    },
    scaled(90_000),
  );
});
