import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attemptAllowed } from '../src/health/remediation.js';
import { sdkServerSource } from '../src/demo/healthRound.js';
import { cli, NOW, tempDir } from './helpers.js';

const HOUR = 3_600_000;

describe('MCP remediation, bounded (real processes)', () => {
  it('counts attempts within the window only (pure)', () => {
    const h = { attempts: [NOW - 30 * HOUR, NOW - 2 * HOUR, NOW - HOUR] };
    expect(attemptAllowed(h, NOW, 3, 24 * HOUR)).toEqual({ allowed: true, inWindow: [NOW - 2 * HOUR, NOW - HOUR] });
    expect(attemptAllowed({ attempts: [...h.attempts, NOW - 10] }, NOW, 3, 24 * HOUR).allowed).toBe(false);
    expect(attemptAllowed(undefined, NOW, 3, 24 * HOUR).allowed).toBe(true);
  });

  it('rebuilds a server whose build is missing; stops after maxAttempts on one that cannot be fixed, and alerts', async () => {
    const base = await tempDir('remedy');
    const shared = path.join(base, 'shared');
    const fixable = path.join(base, 'fixable');
    const hopeless = path.join(base, 'hopeless');
    for (const d of [shared, path.join(fixable, 'src'), hopeless]) mkdirSync(d, { recursive: true });
    writeFileSync(path.join(fixable, 'src', 'index.mjs'), sdkServerSource('fixable', 't'));
    const settings = path.join(base, 'mcp_settings.json');
    writeFileSync(
      settings,
      JSON.stringify({
        mcpServers: {
          fixable: { command: process.execPath, args: ['build/index.mjs'], cwd: fixable },
          hopeless: {
            command: process.execPath,
            args: ['dist/never.mjs', '--api-key=sk-Remediati0nSecretValue0123456789'],
            cwd: hopeless,
          },
        },
      }),
    );
    const copyBuild = "require('fs').cpSync('src', 'build', { recursive: true })";
    // the build commands and folders are this machine's own config
    writeFileSync(
      path.join(base, 'machine.jsonc'),
      JSON.stringify({
        health: {
          mcpSettingsPath: settings,
          mcpRetries: 1,
          mcpTimeoutSeconds: 15,
          remediation: {
            servers: {
              fixable: { cwd: fixable, build: ['node', '-e', copyBuild] },
              hopeless: {
                cwd: hopeless,
                build: ['node', '-e', "require('fs').appendFileSync('builds', 'x'); console.log('built nothing')"],
              },
            },
            maxAttempts: 3,
            windowHours: 24,
          },
        },
      }),
    );
    const run = async (now: number) => {
      const r = await cli(
        ['run', '--no-sync', '--json', '--task', 'health', '--shared-state', shared, '--machine', 'myia-m1'],
        { now, env: { ROOSYNC_MAINT_MACHINE_CONFIG: path.join(base, 'machine.jsonc') } },
      );
      const task = JSON.parse(r.stdout).tasks[0];
      return {
        task,
        out: r.stdout,
        check: (s: string) =>
          task.checks.find((c: { check: string; subject: string }) => c.check === 'mcp' && c.subject === s),
      };
    };

    const first = await run(NOW);
    expect(existsSync(path.join(fixable, 'build', 'index.mjs'))).toBe(true);
    expect(first.check('fixable')).toMatchObject({ state: 'ok', summary: 'MCP rebuilt and restarted fixable: ok' });
    expect(first.task.warnings).toContain('MCP rebuilt and restarted fixable: ok');
    expect(first.check('hopeless').state).toBe('failing');

    for (let i = 1; i <= 4; i++) await run(NOW + i * HOUR);
    expect(readFileSync(path.join(hopeless, 'builds'), 'utf8')).toBe('xxx'); // three attempts, then no more
    const last = await run(NOW + 5 * HOUR);
    expect(last.check('hopeless').summary).toContain('remediation exhausted (3 attempts in 24 h)');
    expect(
      last.task.checks.some(
        (c: { check: string; state: string }) => c.check === 'mcp-remediation' && c.state === 'failing',
      ),
    ).toBe(true);
    expect(last.check('hopeless').data.lastOutput.join('\n')).toContain('built nothing');
    expect(last.out).not.toContain('sk-Remediati0nSecretValue');
    const inbox = path.join(shared, 'messages', 'inbox');
    const subjects = readdirSync(inbox).map((f) => JSON.parse(readFileSync(path.join(inbox, f), 'utf8')).subject);
    expect(subjects.some((s: string) => s.includes('hopeless: remediation exhausted'))).toBe(true);
    // outside the window, it may try again
    await run(NOW + 30 * HOUR);
    expect(readFileSync(path.join(hopeless, 'builds'), 'utf8')).toBe('xxxx');
  });
});
