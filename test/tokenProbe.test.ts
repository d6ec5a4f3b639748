import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenChecks } from '../src/health/tokens.js';
import { cli, machineConfig, NOW, tempDir } from './helpers.js';

const GOOD = 'ghp_G00dT0kenValue0123456789abcdefABCD';
const REVOKED = 'ghp_Rev0kedT0kenValue0123456789abcdefAB';
const DAY = 86_400_000;

/** GitHub's `GET /user` on 127.0.0.1: 200 with the expiration header for GOOD, 401 for anything else. */
describe('online token probes against a real local HTTP server', () => {
  let server: Server;
  let api: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url !== '/user') return res.writeHead(404).end('{}');
      if (req.headers.authorization !== `token ${GOOD}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ message: 'Bad credentials' }));
      }
      // GitHub's own format: "2026-11-26 12:00:00 UTC"
      const expires = new Date(NOW + 3 * DAY)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC');
      res.writeHead(200, { 'content-type': 'application/json', 'github-authentication-token-expiration': expires });
      res.end(JSON.stringify({ login: 'octo-fleet' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const tokens = () => [
    { name: 'github-pat', env: 'FLEET_GH', probe: { kind: 'github' as const, apiUrl: api } },
    { name: 'old-pat', env: 'OLD_GH', probe: { kind: 'github' as const, apiUrl: api } },
    { name: 'elsewhere', env: 'NOT_HERE', probe: { kind: 'github' as const, apiUrl: api } },
  ];

  it('a rejected token is HIGH; the expiry header gives the date; an unset variable is skipped', async () => {
    const checks = await tokenChecks(tokens(), { FLEET_GH: GOOD, OLD_GH: REVOKED }, NOW, [api]);
    expect(checks.map((c) => [c.subject, c.state, c.severity])).toEqual([
      ['github-pat', 'failing', 'MEDIUM'],
      ['old-pat', 'failing', 'HIGH'],
      ['elsewhere', 'skipped', 'LOW'],
    ]);
    expect(checks[0]!.summary).toMatch(/expires in 3 days/);
    expect(checks[1]!.summary).toContain('rejected by GitHub (401)');
    expect(JSON.stringify(checks)).not.toMatch(/ghp_/);
    expect(seen.filter((s) => s === 'GET /user')).toHaveLength(2); // one call each, no retry
  });

  it('through health and a tick: both alerted, no value anywhere in the output or the shared state', async () => {
    const base = await tempDir('tokens');
    const shared = path.join(base, 'shared');
    mkdirSync(shared, { recursive: true });
    // the tokens' env names and the stand-in's host are this machine's own settings
    const own = machineConfig(base, {
      health: { tokens: tokens().slice(0, 2), mcpSettingsPath: path.join(base, 'none.json') },
      trust: { tokenHosts: [api] },
    });
    const args = ['--shared-state', shared, '--machine', 'myia-m1'];
    const env = { FLEET_GH: GOOD, OLD_GH: REVOKED, ...own };
    const health = await cli(['health', '--json', ...args], { now: NOW, env });
    expect(health.stdout).not.toMatch(/ghp_/);
    const tick = await cli(['run', '--no-sync', '--json', '--task', 'health', ...args], { now: NOW, env });
    expect(tick.stdout).not.toMatch(/ghp_/);
    const { execFileSync } = await import('node:child_process');
    const leaked = (() => {
      try {
        return execFileSync('grep', ['-rl', 'ghp_', shared], { encoding: 'utf8' });
      } catch {
        return '';
      }
    })();
    expect(leaked).toBe('');
    const subjects = execFileSync('grep', ['-rh', '"subject"', path.join(shared, 'messages', 'inbox')], {
      encoding: 'utf8',
    });
    expect(subjects).toContain('old-pat was rejected by GitHub');
    expect(subjects).toContain('github-pat expires in 3 days');
  });
});
