import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareViews, flatten, ignored } from '../src/configBackup/drift.js';
import { cli, DAY, machineConfig, NOW, tempDir } from './helpers.js';

describe('drift (pure)', () => {
  it('flattens to key paths, honours ignore patterns, and names who holds what', () => {
    const a = flatten({ mcpServers: { gh: { args: ['x', '--port=1'], cwd: '/home/a' } } });
    const b = flatten({ mcpServers: { gh: { args: ['x', '--port=2'], cwd: '/home/b' }, extra: { command: 'y' } } });
    expect([...a.keys()]).toEqual(['mcpServers.gh.args[0]', 'mcpServers.gh.args[1]', 'mcpServers.gh.cwd']);
    expect(ignored('mcpServers.gh.cwd', ['mcpServers.*.cwd'])).toBe(true);
    expect(ignored('mcpServers.gh.args[1]', ['mcpServers.*.cwd'])).toBe(false);
    const drifts = compareViews(
      new Map([
        ['m1', a],
        ['m2', b],
      ]),
      ['mcpServers.*.cwd'],
    );
    expect(drifts.map((d) => d.keyPath)).toEqual(['mcpServers.extra.command', 'mcpServers.gh.args[1]']);
    expect(drifts[1]!.values).toEqual([
      { value: '"--port=1"', machines: ['m1'] },
      { value: '"--port=2"', machines: ['m2'] },
    ]);
    expect(drifts[0]!.values[0]).toEqual({ value: '(absent)', machines: ['m1'] });
  });
});

describe('config-drift on the leader (real snapshots from config-backup, the CLI in-process)', () => {
  it('reports drift by key path (secrets only as "differs"), skips a damaged snapshot, reads RooSync inventories, resolves', async () => {
    const base = await tempDir('drift');
    const shared = path.join(base, 'shared');
    mkdirSync(shared, { recursive: true });
    const settings = (m: string, port: number, token: string) => {
      const file = path.join(base, m, 'mcp_settings.json');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(
        file,
        JSON.stringify({
          mcpServers: {
            github: {
              command: 'node',
              args: ['gh.js', `--port=${port}`],
              cwd: `/home/${m}`,
              env: { GITHUB_TOKEN: token },
            },
          },
        }),
      );
      return file;
    };
    const backUp = async (m: string, file: string, now: number) => {
      const own = machineConfig(path.join(shared, '..', `${m}-local`), { configBackup: { files: [file] } });
      const r = await cli(['run', '--no-sync', '--task', 'config-backup', '--shared-state', shared, '--machine', m], {
        now,
        env: own,
      });
      expect(r.code).toBe(0);
    };
    await backUp('myia-m1', settings('myia-m1', 1, 'ghp_SameSecretValue0123456789abcdef1234'), NOW);
    await backUp('myia-m2', settings('myia-m2', 2, 'ghp_OtherSecretValue0123456789abcdef123'), NOW);
    // a third machine's snapshot is garbage: named and skipped
    const bad = path.join(shared, 'maintenance', 'configs', 'myia-zz', 'mcp_settings.json-00000000');
    mkdirSync(bad, { recursive: true });
    writeFileSync(path.join(bad, '20261101T000000Z-0000000000000000.json'), '{ not json');
    // RooSync's own inventories, two machines
    mkdirSync(path.join(shared, 'inventories'));
    const inventory = (m: string, servers: string[]) =>
      writeFileSync(
        path.join(shared, 'inventories', `${m}-2026-11-23T10-00-00.json`),
        JSON.stringify({
          machineId: m,
          timestamp: '2026-11-23T10:00:00Z',
          system: { hostname: m },
          roo: { mcpServers: servers.map((name) => ({ name, enabled: true })), modes: [{ slug: 'code' }] },
          software: { node: 'v20.20.2' },
        }),
      );
    inventory('myia-m1', ['github', 'roo-state-manager']);
    inventory('myia-m2', ['github']);

    const drift = async (now: number) => {
      writeFileSync(path.join(shared, '.maintenance-config.json'), '{}');
      const r = await cli(
        [
          'run',
          '--no-sync',
          '--leader',
          '--json',
          '--task',
          'config-drift',
          '--shared-state',
          shared,
          '--machine',
          'myia-m1',
        ],
        { now },
      );
      return JSON.parse(r.stdout).tasks[0] as {
        checks: { subject: string; state: string; summary: string; data: { drifts: { keyPath: string }[] } }[];
        warnings: string[];
      };
    };
    const t = await drift(NOW + 1000);
    const mcp = t.checks.find((c) => c.subject === 'mcp_settings.json')!;
    expect(mcp.state).toBe('failing');
    expect(mcp.data.drifts.map((d) => d.keyPath)).toEqual([
      'mcpServers.github.args[1]',
      'mcpServers.github.env.GITHUB_TOKEN',
    ]);
    expect(t.warnings.join('\n')).toContain(
      'mcpServers.github.args[1] differs (myia-m1: "--port=1"; myia-m2: "--port=2")',
    );
    expect(t.warnings.join('\n')).toContain(
      'mcpServers.github.env.GITHUB_TOKEN differs (myia-m1: a secret; myia-m2: a secret)',
    );
    expect(t.warnings.join('\n')).toContain('skipped maintenance/configs/myia-zz/');
    const inv = t.checks.find((c) => c.subject === 'RooSync inventory')!;
    expect(inv.summary).toContain('RooSync inventories');
    expect(inv.data.drifts.map((d) => d.keyPath)).toEqual(['mcpServers.roo-state-manager.enabled']);
    const all = JSON.stringify(t);
    expect(all).not.toContain('ghp_');
    const inbox = path.join(shared, 'messages', 'inbox');
    expect(
      readdirSync(inbox).some((f) => readFileSync(path.join(inbox, f), 'utf8').includes('mcp_settings.json differs')),
    ).toBe(true);

    // aligned: the drift is gone and its alert resolved
    await backUp('myia-m2', settings('myia-m2', 1, 'ghp_SameSecretValue0123456789abcdef1234'), NOW + DAY);
    inventory('myia-m2', ['github', 'roo-state-manager']);
    const after = await drift(NOW + DAY + 1000);
    expect(after.checks.find((c) => c.subject === 'mcp_settings.json')!.state).toBe('ok');
    expect(after.checks.find((c) => c.subject === 'RooSync inventory')!.state).toBe('ok');
    expect(
      readdirSync(inbox).some((f) => {
        const m = JSON.parse(readFileSync(path.join(inbox, f), 'utf8'));
        return m.subject.includes('[RESOLVED]') && m.subject.includes('mcp_settings.json');
      }),
    ).toBe(true);
  });
});
