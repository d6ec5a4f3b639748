import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText, resolveConfig } from '../src/config/load.js';
import { configSchema } from '../src/config/schema.js';
import { STARTER_CONFIG } from '../src/config/starter.js';
import { expandPath } from '../src/config/paths.js';
import { UsageError } from '../src/errors.js';
import { machineIdFromHostname, readSharedPathFromDotEnv, resolveIdentity } from '../src/sharedState/identity.js';
import { tempDir } from './helpers.js';

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err.problems.map((p) => `${p.where}: ${p.message}`);
    throw err;
  }
  throw new Error('expected a UsageError');
};

describe('config schema', () => {
  it('an empty or missing config means the original plan defaults', () => {
    const cfg = parseConfigText('{}', 'c.json');
    expect(cfg.rollback).toEqual({ retentionDays: 7, excludePatterns: ['CRITICAL_*'] });
    expect(cfg.messages).toEqual({
      archiveAfterDays: 30,
      archiveUnreadAfterDays: 90,
      deleteAfterDays: 90,
      attachmentsGraceDays: 7,
    });
    expect(cfg.backups.keepCount).toBe(5);
    expect(cfg.logs).toEqual({ retentionDays: 7, maxSizeMB: 100 });
    expect(cfg.election.leaseSeconds).toBe(7200);
    expect(cfg.schedule.heartbeatMinutes).toBe(240);
    expect(cfg.schedule.tasks).toMatchObject({ health: '1d', 'deps-audit': '30d' });
  });

  it('the starter written by config init parses to exactly the defaults', () => {
    expect(parseConfigText(STARTER_CONFIG, 'starter.json')).toEqual(configSchema.parse({}));
  });

  it('names the JSON path of every problem, one message each', () => {
    const problems = problemsOf(() =>
      parseConfigText(
        JSON.stringify({
          rollback: { retentionDays: -3, excludePattern: [] },
          logs: { maxSizeMB: 'big' },
          schedule: { tasks: { health: 'daily' } },
          rules: [{ name: 'x', root: 'a', match: ['*'] }],
          extra: 1,
        }),
        'cfg.json',
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'cfg.json: rollback.retentionDays: expected a number ≥ 1 (got -3)',
        'cfg.json: rollback.excludePattern: unknown key',
        'cfg.json: logs.maxSizeMB: expected a size in MB (got "big")',
        'cfg.json: schedule.tasks.health: expected a duration like 15m, 6h or 30d (got "daily")',
        'cfg.json: extra: unknown key',
      ]),
    );
    expect(problems.length).toBe(5);
  });

  it('refuses unsafe combinations', () => {
    expect(
      problemsOf(() => parseConfigText('{"election":{"leaseSeconds":600},"schedule":{"tickMinutes":15}}', 'c'))[0],
    ).toContain('election.leaseSeconds: expected at least 2 × schedule.tickMinutes = 1800 s');
    expect(
      problemsOf(() => parseConfigText('{"messages":{"archiveAfterDays":30,"deleteAfterDays":10}}', 'c'))[0],
    ).toContain('messages.deleteAfterDays');
    expect(problemsOf(() => parseConfigText('{"rules":[{"name":"r","root":"x","match":["*"]}]}', 'c'))[0]).toContain(
      'an empty policy would keep everything',
    );
  });

  it('reports invalid JSON with its exact line and column and what is missing', () => {
    expect(problemsOf(() => parseConfigText('{\n  "rollback": { "retentionDays": 7 "x": 1 }\n}', 'c.json'))[0]).toBe(
      "c.json: not valid JSON at line 2, column 36: expected ',', found '\"'",
    );
    expect(problemsOf(() => parseConfigText('{\n  "rollback": {\n', 'c.json'))[0]).toMatch(
      /^c\.json: not valid JSON at line 3, column 1: expected '\}', found the end of the file/,
    );
  });

  it('reads JSONC as VS Code does: comments, trailing commas and a BOM', () => {
    const text =
      '\uFEFF// hi\n{\n  "backups": { "keepCount": 3, /* c */ },\n  "rollback": { "retentionDays": 9, },\n}\n';
    const config = parseConfigText(text, 'c');
    expect(config.backups.keepCount).toBe(3);
    expect(config.rollback.retentionDays).toBe(9);
    const inString = parseConfigText('{"health": {"mcpSettingsPath": "//server/share/mcp.json"}}', 'c');
    expect(inString.health.mcpSettingsPath).toBe('//server/share/mcp.json'); // not a comment inside a string
  });
});

describe('paths resolved per machine', () => {
  const ctx = {
    env: { APPDATA: 'C:/Users/x/AppData/Roaming', HOME_DIR: '/h' },
    home: '/home/op',
    tmp: '/tmp',
    globalStorage: '/gs',
  };
  it('expands ~, $VAR, %VAR%, <tmp> and <vscode-global-storage>', () => {
    expect(expandPath('~/x', ctx)).toEqual({ ok: true, path: '/home/op/x' });
    expect(expandPath('$HOME_DIR/y', ctx)).toEqual({ ok: true, path: '/h/y' });
    expect(expandPath('%APPDATA%/Code', ctx)).toEqual({ ok: true, path: 'C:/Users/x/AppData/Roaming/Code' });
    expect(expandPath('<tmp>/roo-state-manager-logs', ctx)).toEqual({ ok: true, path: '/tmp/roo-state-manager-logs' });
    expect(expandPath('%NOPE%/x', ctx)).toEqual({ ok: false, missing: '%NOPE%' });
  });

  it('refuses rule roots escaping the shared state (by .. or by symlink), env/, and too-broad local folders', async () => {
    const base = await tempDir('cfgpaths');
    const shared = path.join(base, 'shared');
    await mkdir(shared);
    await mkdir(path.join(base, 'outside'));
    await symlink(path.join(base, 'outside'), path.join(shared, 'sneaky'));
    const cfg = configSchema.parse({
      rules: [
        { name: 'up', root: '../outside', match: ['*'], olderThanDays: 1 },
        { name: 'link', root: 'sneaky', match: ['*'], olderThanDays: 1 },
        { name: 'secrets', root: 'env', match: ['*'], olderThanDays: 1 },
      ],
      localLogs: { dirs: ['/', '~', '$UNSET_VAR/logs', path.join(base, 'logs')] },
      checkpoints: { roots: [base] },
    });
    const problems = problemsOf(() =>
      resolveConfig(cfg, 'c.json', true, shared, {
        env: {},
        home: path.join(base, 'home'),
        tmp: base,
        globalStorage: base,
      }),
    );
    expect(problems.find((p) => p.startsWith('c.json: rules[2].root'))).toContain('refused: env/ is never touched');
    expect(problems.map((p) => p.split(': refused')[0]).sort()).toEqual([
      'c.json: checkpoints.roots[0]',
      'c.json: localLogs.dirs[0]',
      'c.json: localLogs.dirs[1]',
      'c.json: rules[0].root',
      'c.json: rules[1].root',
      'c.json: rules[2].root',
    ]);
  });

  it('skips, with a note, a path using a variable this machine does not define', async () => {
    const shared = await tempDir('cfgskip');
    const cfg = configSchema.parse({ localLogs: { dirs: ['%APPDATA%/logs'] } });
    const r = resolveConfig(cfg, 'c.json', true, shared, {
      env: {},
      home: '/home/op',
      tmp: '/tmp',
      globalStorage: '/gs',
    });
    expect(r.localLogDirs).toEqual([]);
    expect(r.skipped[0]).toMatchObject({
      where: 'c.json: localLogs.dirs[0]',
      message: 'skipped on this machine: %APPDATA% is not set',
    });
  });
});

describe('root and identity (roosync-format §1)', () => {
  it('reads ROOSYNC_SHARED_PATH from a RooSync .env: comments ignored, one pair of quotes stripped', () => {
    expect(
      readSharedPathFromDotEnv(
        '# ROOSYNC_SHARED_PATH=/wrong\nOTHER=1\nROOSYNC_SHARED_PATH="G:/Mon Drive/.shared-state"\n',
      ),
    ).toBe('G:/Mon Drive/.shared-state');
    expect(readSharedPathFromDotEnv("ROOSYNC_SHARED_PATH='/a'")).toBe('/a');
    expect(readSharedPathFromDotEnv('ROOSYNC_SHARED_PATH=/b # note')).toBe('/b');
    expect(readSharedPathFromDotEnv('NOTHING=1')).toBeUndefined();
  });

  it('machine id: flag, then env (lowercased), then the hostname sanitised', () => {
    expect(machineIdFromHostname('MyIA-PO_2023.local')).toBe('myia-po-2023-local');
    expect(() => resolveIdentity({ machineFlag: 'bad/id', env: {}, cwd: '/', sharedStateFlag: '/' })).toThrow(
      UsageError,
    );
  });

  it('shared state: flag beats env beats .env beats ./.shared-state; the source is reported', async () => {
    const base = await tempDir('ident');
    const [a, b, c] = ['a', 'b', 'c'].map((n) => path.join(base, n));
    for (const d of [a!, b!, c!, path.join(base, '.shared-state')]) await mkdir(d);
    await writeFile(path.join(base, '.env'), `ROOSYNC_SHARED_PATH=${c}\n`);
    const id = (flag: string | undefined, env: NodeJS.ProcessEnv) =>
      resolveIdentity({ sharedStateFlag: flag, env: { ROOSYNC_MACHINE_ID: 'MYIA-AI-01', ...env }, cwd: base });
    expect(id(a, { ROOSYNC_SHARED_PATH: b })).toMatchObject({
      sharedState: { value: a, source: '--shared-state' },
      machineId: { value: 'myia-ai-01', source: 'env ROOSYNC_MACHINE_ID' },
    });
    expect(id(undefined, { ROOSYNC_SHARED_PATH: b }).sharedState).toEqual({
      value: b,
      source: 'env ROOSYNC_SHARED_PATH',
    });
    expect(id(undefined, {}).sharedState).toEqual({
      value: c,
      source: `ROOSYNC_SHARED_PATH in ${path.join(base, '.env')}`,
    });
    expect(id(undefined, {}).configPath.value).toBe(path.join(c!, '.maintenance-config.json'));
    const noEnvBase = path.join(base, 'a');
    await mkdir(path.join(noEnvBase, '.shared-state'));
    expect(resolveIdentity({ env: {}, cwd: noEnvBase }).sharedState.source).toBe('./.shared-state');
    // as git finds its repo: from a folder below, and from inside the shared state itself
    const below = path.join(noEnvBase, 'x', 'y');
    await mkdir(below, { recursive: true });
    expect(resolveIdentity({ env: {}, cwd: below }).sharedState).toEqual({
      value: path.join(noEnvBase, '.shared-state'),
      source: `.shared-state in ${noEnvBase}`,
    });
    const shared = path.join(noEnvBase, '.shared-state');
    await mkdir(path.join(shared, 'messages', 'inbox'), { recursive: true });
    await writeFile(path.join(shared, 'sync-config.json'), '{}');
    expect(resolveIdentity({ env: {}, cwd: path.join(shared, 'messages') }).sharedState.value).toBe(shared);
    const nowhere = await tempDir('ident-none');
    expect(() => resolveIdentity({ env: {}, cwd: nowhere })).toThrow(/no shared-state folder found/);
  });
});
