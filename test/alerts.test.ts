import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deliverAlerts } from '../src/alerts/deliver.js';
import { readIncidents } from '../src/alerts/incidents.js';
import { evaluateAlerts } from '../src/alerts/engine.js';
import { kpisFromIncidents } from '../src/report/kpis.js';
import { checkDeps, checkDisk, checkTokens, mcpResult } from '../src/health/checks.js';
import { checkMcpServer } from '../src/health/mcp.js';
import type { CheckResult } from '../src/health/types.js';
import { configSchema } from '../src/config/schema.js';
import { parseMessage, type RooSyncMessage } from '../src/roosync/message.js';
import { silentLogger } from '../src/log.js';
import { NOW, tempDir, scaled } from './helpers.js';

const MIN = 60_000;
const FIX = path.resolve(import.meta.dirname, 'fixtures', 'mcp');
const HOUR = 60 * MIN;
const config = configSchema.parse({});
const down = (subject = 'github'): CheckResult =>
  mcpResult({
    server: subject,
    ok: false,
    failure: 'timed-out',
    detail: 'no answer within 20 s',
    durationMs: 20_000,
    stderrTail: '',
    attempts: 3,
  });
const up = (subject = 'github'): CheckResult =>
  mcpResult({
    server: subject,
    ok: true,
    detail: 'answers (initialize), 12 tools',
    protocol: 'initialize',
    tools: 12,
    durationMs: 300,
    stderrTail: '',
    attempts: 1,
  });
const asTask = (checks: CheckResult[]) => checks;

function inbox(shared: string): RooSyncMessage[] {
  const dir = path.join(shared, 'messages', 'inbox');
  return readdirSync(dir)
    .sort()
    .map((n) => {
      const p = parseMessage(readFileSync(path.join(dir, n), 'utf8'), n, Date.UTC(2026, 11, 1));
      expect(p.ok, n).toBe(true);
      return (p as { message: RooSyncMessage }).message;
    });
}

describe('alerts, driven by an injected clock', () => {
  it('threshold → alert, silence, reminder, resolution: exactly these messages, valid for RooSync', async () => {
    const shared = await tempDir('alerts');
    const stateDir = await tempDir('alertstate');
    const tickAt = (at: number, c: CheckResult) =>
      deliverAlerts(
        { sharedState: shared, machineId: 'myia-ai-01', config, now: at, stateDir, log: silentLogger },
        asTask([c]),
      );
    expect(tickAt(NOW, down()).paths).toEqual([]); // 1st failure
    expect(tickAt(NOW + 15 * MIN, down()).paths).toEqual([]); // 2nd
    expect(tickAt(NOW + 30 * MIN, down()).paths).toHaveLength(2); // 3rd: the alert (inbox + sent)
    for (let t = 45; t < 24 * 60 + 30; t += 60) tickAt(NOW + t * MIN, down()); // a day of failures: no new message
    tickAt(NOW + 24 * HOUR + 30 * MIN, down()); // reminder, escalated (open > 24 h; already HIGH)
    const resolved = tickAt(NOW + 25 * HOUR, up());
    expect(resolved.paths).toContain('maintenance/history/myia-ai-01/incidents.json');
    const msgs = inbox(shared);
    expect(msgs.map((m) => m.subject)).toEqual([
      '[ALERT][HIGH] myia-ai-01: MCP github is down (timed-out): no answer within 20 s',
      '[ALERT][HIGH] myia-ai-01: MCP github is down (timed-out): no answer within 20 s (reminder)',
      '[RESOLVED] myia-ai-01: mcp github — back after 25 h 0 min',
    ]);
    expect(msgs[0]).toMatchObject({
      from: 'myia-ai-01:maintenance',
      to: 'all',
      priority: 'URGENT',
      tags: ['maintenance', 'alert'],
    });
    expect(msgs[0]!.body).toContain('## Alert Maintenance - MYIA-AI-01');
    expect(msgs[0]!.body).toMatch(/\*\*Type:\*\* HEALTH\n\*\*Sévérité:\*\* HIGH/);
    expect(msgs[0]!.body).toContain('**Action Requise:**\n- [ ] ');
    // the RooSync call that closes the loop, with RooSync's current tool, action and parameter names (issue 28)
    expect(msgs[0]!.body).toContain(
      `\`roosync_messages\` with \`{"action": "mark_read", "message_id": "${(msgs[0] as { id: string }).id}"}\``,
    );
    expect(msgs[0]!.body).toContain('```json');
    const incidents = readIncidents(shared, 'myia-ai-01');
    expect(incidents).toHaveLength(1);
    expect(kpisFromIncidents(incidents, NOW + 25 * HOUR)).toEqual({ mcpUptimePercent: 96.53, mttrMinutes: 1500 });
  });

  it('a token expiring in 3 days gives one MEDIUM alert, not one per tick; the last day escalates at once', async () => {
    const shared = await tempDir('tokens');
    const stateDir = await tempDir('tokstate');
    const tokens = [{ name: 'GITHUB_TOKEN (github MCP)', expiresAt: new Date(NOW + 3 * 86_400_000).toISOString() }];
    for (let t = 0; t < 8; t++)
      deliverAlerts(
        { sharedState: shared, machineId: 'myia-ai-01', config, now: NOW + t * 15 * MIN, stateDir, log: silentLogger },
        asTask(checkTokens(tokens, NOW + t * 15 * MIN)),
      );
    expect(inbox(shared).map((m) => m.subject)).toEqual([
      '[ALERT][MEDIUM] myia-ai-01: GITHUB_TOKEN (github MCP) expires in 3 days (' + tokens[0]!.expiresAt + ')',
    ]);
    const lastDay = NOW + 2.5 * 86_400_000;
    deliverAlerts(
      { sharedState: shared, machineId: 'myia-ai-01', config, now: lastDay, stateDir, log: silentLogger },
      asTask(checkTokens(tokens, lastDay)),
    );
    expect(inbox(shared).map((m) => m.subject)[1]).toMatch(/^\[ALERT\]\[HIGH\] .* expires today .*\(reminder\)$/);
    const expired = checkTokens(tokens, NOW + 4 * 86_400_000)[0]!;
    expect(expired).toMatchObject({ state: 'failing', severity: 'HIGH', priority: 'URGENT' });
  });

  it('token expiry is counted in whole calendar days, whatever the hour (02:00 and 14:00 UTC alike)', () => {
    const day = Date.UTC(2026, 11, 3);
    for (const hour of [0, 2, 10, 14, 23.99]) {
      const now = day + hour * 3_600_000;
      const [dateOnly, stamped] = checkTokens(
        [
          { name: 'pat', expiresAt: '2026-12-06' },
          { name: 'pat', expiresAt: '2026-12-06T01:00:00Z' },
        ],
        now,
      );
      expect(dateOnly!.summary, `at ${hour} h`).toBe('pat expires in 3 days (2026-12-06)');
      expect(stamped!.summary, `at ${hour} h`).toBe('pat expires in 3 days (2026-12-06T01:00:00Z)');
    }
    expect(checkTokens([{ name: 'pat', expiresAt: '2026-12-03' }], day + 23 * 3_600_000)[0]!.summary).toBe(
      'pat expires today (2026-12-03)',
    );
    expect(checkTokens([{ name: 'pat', expiresAt: '2026-12-02' }], day)[0]!.priority).toBe('URGENT');
  });

  it('remote unreachable mutes "git out of sync" on the same machine', () => {
    const remote: CheckResult = {
      check: 'git',
      subject: 'remote',
      state: 'failing',
      type: 'HEALTH',
      severity: 'MEDIUM',
      summary: 'unreachable',
      actions: [],
      data: {},
      inhibits: { check: 'git', subjectPrefix: 'sync' },
    };
    const sync: CheckResult = {
      check: 'git',
      subject: 'sync',
      state: 'failing',
      type: 'HEALTH',
      severity: 'MEDIUM',
      summary: '3 local commits not pushed',
      actions: [],
      data: {},
    };
    let state = {};
    const kinds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = evaluateAlerts('myia-ai-01', [remote, sync], state, NOW + i * 15 * MIN, {
        failureThreshold: 3,
        reminderHours: 24,
      });
      state = r.state;
      kinds.push(...r.events.map((e) => `${e.kind}:${e.result.subject}`));
    }
    expect(kinds).toEqual(['alert:remote']);
  });

  it('never puts a secret in a message, a result or --json: env values, args and stderr are censored', async () => {
    const shared = await tempDir('secret');
    const stateDir = await tempDir('secretstate');
    const token = 'ghp_Zx9SecretValueOf36CharactersAbCdEf1';
    const apiSecret = 'plain-looking-secret-42';
    const argSecret = 'arg-secret-value-7';
    const server = {
      name: 'leaky',
      command: process.execPath,
      args: [path.join(FIX, 'leaky.mjs'), `--api-key=${argSecret}`],
      env: { GITHUB_TOKEN: token, API_SECRET_VALUE: apiSecret },
    };
    const probe = await checkMcpServer(server, { timeoutMs: 5_000, retries: 1, version: 'test' });
    expect(probe.ok).toBe(false);
    expect(probe.stderrTail).toContain('[redacted]'); // it did print them; they were replaced
    const c = mcpResult(probe);
    for (let i = 0; i < 3; i++)
      deliverAlerts(
        { sharedState: shared, machineId: 'myia-ai-01', config, now: NOW + i * MIN, stateDir, log: silentLogger },
        asTask([c]),
      );
    const messages = readdirSync(path.join(shared, 'messages', 'inbox')).map((n) =>
      readFileSync(path.join(shared, 'messages', 'inbox', n), 'utf8'),
    );
    expect(messages).toHaveLength(1);
    for (const text of [messages.join('\n'), JSON.stringify(probe), JSON.stringify(c)]) {
      for (const secret of [token, apiSecret, argSecret]) expect(text).not.toContain(secret);
    }
  });
});

describe('checks on this machine', () => {
  it('disk: under the minimum names the biggest consumers', async () => {
    const root = await tempDir('disk');
    mkdirSync(path.join(root, 'big'));
    writeFileSync(path.join(root, 'big', 'f'), Buffer.alloc(2 * 1024 * 1024));
    writeFileSync(path.join(root, 'small'), 'x');
    const [low] = checkDisk([root], Number.MAX_SAFE_INTEGER);
    expect(low).toMatchObject({ state: 'failing', type: 'DISK' });
    expect((low!.data.biggest as { path: string }[])[0]!.path).toBe(path.join(root, 'big'));
    expect(checkDisk([root], 1)[0]!.state).toBe('ok');
    expect(checkDisk([root], 1, 100)[0]!.state).toBe('failing'); // a share of the volume, too
  });

  it(
    'deps: npm audit that cannot reach a registry or find a lock file is skipped, not failed',
    async () => {
      const dir = await tempDir('deps');
      writeFileSync(path.join(dir, 'package.json'), '{"name":"x","version":"1.0.0"}');
      expect((await checkDeps(dir, 60_000)).state).toBe('skipped');
    },
    scaled(90_000),
  );
});
