import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { redactConfig, secretMarker } from '../src/configBackup/redact.js';
import { familyOf, planSnapshots, snapshotsOf } from '../src/configBackup/snapshots.js';
import { createFleet, git } from '../src/demo/fleet.js';
import { cli, DAY, isolatedEnv, machineConfig, NOW, tempDir } from './helpers.js';

const TOKEN = 'ghp_R3alL00kingT0kenValue1234567890abcd';
const PASSWORD = 'correct horse battery staple';

const mcpSettings = (extra: Record<string, unknown> = {}) =>
  JSON.stringify(
    {
      mcpServers: {
        github: {
          command: 'node',
          args: ['/opt/github-mcp/index.js', `--token=${TOKEN}`],
          env: { GITHUB_TOKEN: TOKEN, LOG_LEVEL: 'info' },
          disabled: false,
          alwaysAllow: ['list_issues'],
        },
        search: { command: 'searx', args: [], apiKey: 'k-123456', timeout: 60, ...extra },
      },
    },
    null,
    2,
  );

describe('redaction: the copy that leaves the machine', () => {
  it('replaces secret-named keys, every MCP env value and token-shaped strings; keeps the rest', () => {
    const out = redactConfig(mcpSettings()).text;
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain('k-123456');
    const parsed = JSON.parse(out);
    expect(parsed.mcpServers.github.env.GITHUB_TOKEN).toBe(secretMarker(TOKEN));
    expect(parsed.mcpServers.github.env.LOG_LEVEL).toBe(secretMarker('info')); // env values are all secret
    expect(parsed.mcpServers.github.args[0]).toBe('/opt/github-mcp/index.js');
    expect(parsed.mcpServers.github.args[1]).toBe(secretMarker(`--token=${TOKEN}`));
    expect(parsed.mcpServers.search).toMatchObject({ command: 'searx', apiKey: secretMarker('k-123456'), timeout: 60 });
    expect(parsed.mcpServers.github.alwaysAllow).toEqual(['list_issues']);
  });
  it('the same secret on two machines gives the same marker; a .env keeps names and comments, no value', () => {
    expect(redactConfig(mcpSettings()).text).toBe(redactConfig(mcpSettings()).text);
    const env = `# RooSync\nROOSYNC_SHARED_PATH="C:/dev/.shared-state"\nGITHUB_TOKEN=${TOKEN}\nDB_PASSWORD='${PASSWORD}'\n`;
    const out = redactConfig(env);
    expect(out.format).toBe('lines');
    expect(out.text).toBe(
      `# RooSync\nROOSYNC_SHARED_PATH=${secretMarker('C:/dev/.shared-state')}\nGITHUB_TOKEN=${secretMarker(TOKEN)}\n` +
        `DB_PASSWORD=${secretMarker(PASSWORD)}\n`,
    );
    // an allow-list: a value whose name says nothing (SMTP_PASS, a path) leaves as a marker all the same
    expect(redactConfig('SMTP_PASS=hunter2hunter2\nAPI=https://u:p@h/\n').text).not.toMatch(/hunter2|u:p@/);
    // a JSONC comment does not turn the file into lines: env values are still all markers
    const jsonc = redactConfig(`// settings\n${mcpSettings()}`);
    expect(jsonc.format).toBe('json');
    expect(jsonc.text).not.toContain(TOKEN);
  });
});

describe('snapshots (pure)', () => {
  const names = ['20261101T000000Z-aaaaaaaaaaaaaaaa.json', '20261102T000000Z-bbbbbbbbbbbbbbbb.json', 'origin.json'];
  it('an unchanged file takes nothing and keeps everything; a change takes one and rotates to keepCount', () => {
    const existing = snapshotsOf(names);
    expect(existing.map((s) => s.hash[0])).toEqual(['b', 'a']); // newest first, foreign names ignored
    expect(planSnapshots(existing, 'bbbbbbbbbbbbbbbb', 1)).toMatchObject({
      take: false,
      remove: [{ hash: 'aaaaaaaaaaaaaaaa' }],
    });
    expect(planSnapshots(existing, 'bbbbbbbbbbbbbbbb', 5)).toMatchObject({ take: false, remove: [] });
    const changed = planSnapshots(existing, 'cccccccccccccccc', 2);
    expect(changed.take).toBe(true);
    expect(changed.remove.map((s) => s.hash[0])).toEqual(['a']);
    expect(planSnapshots([], 'cccccccccccccccc', 5)).toMatchObject({
      take: true,
      remove: [],
      reason: 'no snapshot yet',
    });
  });
});

describe('config-backup and backups list/restore (real files, the CLI in-process)', () => {
  async function setUp() {
    const base = await tempDir('cfgb');
    const shared = path.join(base, 'shared');
    const local = path.join(base, 'local');
    mkdirSync(shared, { recursive: true });
    mkdirSync(local, { recursive: true });
    const settings = path.join(local, 'mcp_settings.json');
    const dotenv = path.join(local, '.env');
    const huge = path.join(local, 'huge.json');
    writeFileSync(settings, mcpSettings());
    writeFileSync(dotenv, `GITHUB_TOKEN=${TOKEN}\n`);
    writeFileSync(huge, Buffer.alloc(11 * 1024 * 1024, 32));
    const files = [settings, dotenv, path.join(local, 'missing.json'), huge];
    // which local files are backed up is this machine's own config
    const own = machineConfig(base, { configBackup: { files, keepCount: 2 } }).ROOSYNC_MAINT_MACHINE_CONFIG;
    const args = ['--shared-state', shared, '--machine', 'myia-m1', '--machine-config', own];
    const run = (now: number) =>
      cli(['run', '--no-sync', '--json', '--task', 'config-backup', ...args], { now }).then((r) => ({
        code: r.code,
        doc: JSON.parse(r.stdout),
      }));
    const env = await isolatedEnv();
    const store = path.join(env.XDG_STATE_HOME!, 'roosync-maint');
    return { base, shared, local, settings, dotenv, args, run, store };
  }
  const sharedCopies = (shared: string) => {
    const root = path.join(shared, 'maintenance', 'configs', 'myia-m1');
    return existsSync(root)
      ? readdirSync(root).flatMap((f) => readdirSync(path.join(root, f)).map((n) => path.join(root, f, n)))
      : [];
  };

  it('snapshots what changed, both copies rotated to keepCount, the secret never in the shared state', async () => {
    const t = await setUp();
    const first = await t.run(NOW);
    expect(first.code).toBe(0);
    const task = first.doc.tasks[0];
    expect(task.counts.acted).toBe(4); // two files, two copies each
    const reasons = task.rules.flatMap((r: { actions: { verdict: string; reason: string }[] }) =>
      r.actions.filter((a) => a.verdict === 'skip').map((a) => a.reason),
    );
    expect(reasons).toEqual([
      'not on this machine',
      expect.stringMatching(/^too large for a config \(11 MB > 10 MB\)$/),
    ]);
    // unchanged: no new snapshot
    expect((await t.run(NOW + DAY)).doc.tasks[0].counts.acted).toBe(0);
    // three changes: two snapshots of each kept, in each copy
    for (let i = 1; i <= 3; i++) {
      writeFileSync(t.settings, mcpSettings({ timeout: 60 + i }));
      expect((await t.run(NOW + (1 + i) * DAY)).code).toBe(0);
    }
    const family = familyOf(t.settings);
    const localDir = readdirSync(t.store)
      .map((d) => path.join(t.store, d, 'config-backups', family))
      .find(existsSync)!;
    const localSnaps = readdirSync(localDir).filter((n) => n !== 'origin.json');
    expect(localSnaps).toHaveLength(2);
    for (const n of localSnaps) expect(statSync(path.join(localDir, n)).mode & 0o777).toBe(0o600);
    const shared = sharedCopies(t.shared).filter((p) => p.includes(family) && !p.endsWith('origin.json'));
    expect(shared).toHaveLength(2);
    for (const p of sharedCopies(t.shared)) expect(readFileSync(p, 'utf8')).not.toContain(TOKEN);
    expect(readFileSync(path.join(localDir, localSnaps.sort().at(-1)!), 'utf8')).toContain(TOKEN); // the whole copy
  });

  it('backups list and restore: newest or --at, the current file kept aside, dry run changes nothing', async () => {
    const t = await setUp();
    await t.run(NOW);
    writeFileSync(t.settings, mcpSettings({ timeout: 99 }));
    await t.run(NOW + DAY);
    writeFileSync(t.settings, 'broken by hand');
    const list = JSON.parse((await cli(['backups', 'list', '--json', t.settings, ...t.args], { now: NOW })).stdout);
    expect(list.files[0].snapshots).toHaveLength(2);
    const dry = await cli(['backups', 'restore', t.settings, '--dry-run', ...t.args], { now: NOW + 2 * DAY });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would restore');
    expect(readFileSync(t.settings, 'utf8')).toBe('broken by hand');
    const r = await cli(['backups', 'restore', t.settings, '--json', ...t.args], { now: NOW + 2 * DAY });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(readFileSync(t.settings, 'utf8')).toBe(mcpSettings({ timeout: 99 }));
    expect(readFileSync(doc.keptAs, 'utf8')).toBe('broken by hand');
    const at = await cli(['backups', 'restore', t.settings, '--at', new Date(NOW + 1000).toISOString(), ...t.args], {
      now: NOW + 3 * DAY,
    });
    expect(at.code).toBe(0);
    expect(readFileSync(t.settings, 'utf8')).toBe(mcpSettings());
    // bad input: an unknown file, a bad time, a missing parent folder
    expect((await cli(['backups', 'restore', '/nowhere/x.json', ...t.args])).code).toBe(2);
    expect((await cli(['backups', 'restore', t.settings, '--at', 'yesterday-ish', ...t.args])).code).toBe(2);
    const gone = path.join(t.base, 'gone', 'mcp_settings.json');
    machineConfig(t.base, { configBackup: { files: [gone] } });
    mkdirSync(path.dirname(gone));
    writeFileSync(gone, '{}');
    await t.run(NOW + 4 * DAY);
    rmSync(path.dirname(gone), { recursive: true });
    const noParent = await cli(['backups', 'restore', gone, ...t.args]);
    expect(noParent.code).toBe(2);
    expect(noParent.stderr).toContain('does not exist');
  });

  it('snapshots taken within one second (or one millisecond) sort by when they were taken, never by hash', async () => {
    const t = await setUp();
    const versions = Array.from({ length: 6 }, (_, i) => mcpSettings({ timeout: 10 + i }));
    for (const v of versions) {
      writeFileSync(t.settings, v);
      expect((await t.run(NOW)).code).toBe(0); // the same clock every time: one second, one millisecond
    }
    writeFileSync(t.settings, 'broken by hand');
    const r = await cli(['backups', 'restore', t.settings, ...t.args], { now: NOW + 1000 });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(t.settings, 'utf8')).toBe(versions.at(-1));
  });

  it('in a clone: the redacted copies are committed with the tick; an unchanged file makes no commit', async () => {
    const fleet = await createFleet(await tempDir('cfgb-fleet'), 1);
    const m = fleet.machines[0]!;
    const settings = path.join(fleet.local(m), 'globalStorage', 'rooveterinaryinc.roo-cline', 'settings');
    mkdirSync(settings, { recursive: true });
    writeFileSync(path.join(settings, 'mcp_settings.json'), mcpSettings());
    const tick = (now: number) =>
      cli(['run', '--json', '--task', 'config-backup', '--shared-state', fleet.dir(m), '--machine', m], {
        now,
        env: fleet.localEnv(m),
      });
    const commits = () => Number(git(fleet.remote, 'rev-list', '--count', 'main').trim());
    expect((await tick(NOW)).code).toBe(0);
    const tree = git(fleet.remote, 'ls-tree', '-r', '--name-only', 'main', `maintenance/configs/${m}/`);
    expect(tree).toContain('mcp_settings.json-');
    const leaked = (() => {
      try {
        return git(fleet.remote, 'grep', '-l', TOKEN, 'main', '--', 'maintenance/');
      } catch {
        return ''; // git grep exits 1 when nothing matches
      }
    })();
    expect(leaked).toBe('');
    const before = commits();
    expect((await tick(NOW + 20 * 60_000)).code).toBe(0);
    expect(commits()).toBe(before);
  });
});
