import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeSkew, SKEW_TOLERANCE_MS } from '../src/setup/doctor.js';
import { makeFleet, git } from './fleet.js';
import { cli, NOW, tempDir } from './helpers.js';

interface Doc {
  ok: boolean;
  checks: { check: string; state: string; detail: string; fix?: string }[];
}
const states = (doc: Doc) => Object.fromEntries(doc.checks.map((c) => [c.check, c.state]));

describe('doctor', () => {
  it('a set-up clone: every check ok but automation, until hooks are installed; exit 0', async () => {
    const fleet = await makeFleet(1);
    const [m] = fleet.machines as [string];
    const args = ['--shared-state', fleet.dir(m), '--machine', m];
    const env = fleet.localEnv(m);
    const first = await cli(['doctor', '--json', ...args], { env, now: Date.now() });
    expect(first.code, first.stderr).toBe(0);
    const doc = JSON.parse(first.stdout) as Doc;
    expect(states(doc)).toMatchObject({
      'shared state': 'ok',
      'machine id': 'ok',
      config: 'ok',
      'git clone': 'ok',
      remote: 'ok',
      writable: 'ok',
      automation: 'warn',
      clock: 'ok',
    });
    expect(doc.checks.find((c) => c.check === 'automation')?.fix).toContain('roosync-maint schedule install');
    expect((await cli(['hooks', 'install', ...args], { env })).code).toBe(0);
    const after = await cli(['doctor', ...args], { env, now: Date.now() });
    expect(after.stdout).toMatch(/^ok {4}automation +.*hooks post-merge/m);
  });

  it('names each problem with its fix and goes on past it: bad config, unreachable remote, a clock behind', async () => {
    const fleet = await makeFleet(1);
    const [m] = fleet.machines as [string];
    const args = ['--shared-state', fleet.dir(m), '--machine', m];
    writeFileSync(path.join(fleet.dir(m), '.maintenance-config.json'), '{ "rollback": { "retentionDays": -1 } }');
    renameSync(fleet.remote, `${fleet.remote}.away`);
    // the remote's commits were made today; a clock at NOW (a week earlier) is behind them
    const r = await cli(['doctor', ...args], { env: fleet.localEnv(m), now: NOW });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}config +.*rollback\.retentionDays/m);
    expect(r.stdout).toMatch(/^FAIL {2}remote +git fetch failed: /m);
    expect(r.stdout).toMatch(/^FAIL {2}clock +the remote's newest commit is .* in this machine's future/m);
    expect(r.stdout).toContain('      fix: roosync-maint config validate');
    expect(r.stdout).toContain('      fix: turn on time sync');
    expect(r.stdout).toMatch(/^ok {4}writable/m); // the checks after a failure still ran
    expect(r.stdout.trim().split('\n').at(-1)).toBe('3 to fix before roosync-maint can do its job');
    renameSync(`${fleet.remote}.away`, fleet.remote);
    expect(git(fleet.dir(m), 'status', '--porcelain')).toContain('.maintenance-config.json'); // doctor changed nothing else
  });

  it('a clone stuck mid-rebase: named, with the right commands, not a missing upstream', async () => {
    const fleet = await makeFleet(2);
    const [a, b] = fleet.machines as [string, string];
    for (const [m, text] of [
      [b, 'from b'],
      [a, 'from a'],
    ] as const) {
      git(fleet.dir(m), 'config', 'user.name', m);
      git(fleet.dir(m), 'config', 'user.email', `${m}@example.invalid`);
      writeFileSync(path.join(fleet.dir(m), 'notes.txt'), text);
      git(fleet.dir(m), 'add', 'notes.txt');
      git(fleet.dir(m), 'commit', '-qm', text);
    }
    git(fleet.dir(b), 'push', '-q');
    git(fleet.dir(a), 'fetch', '-q');
    try {
      git(fleet.dir(a), 'rebase', 'origin/main');
    } catch {
      // the conflict stops the rebase half-way: what a person may leave behind
    }
    const r = await cli(['doctor', '--json', '--shared-state', fleet.dir(a), '--machine', a], {
      env: fleet.localEnv(a),
      now: NOW,
    });
    const doc = JSON.parse(r.stdout) as Doc;
    const stuck = doc.checks.find((c) => c.check === 'clone state')!;
    expect(stuck).toMatchObject({ state: 'fail' });
    expect(stuck.detail).toContain('a rebase is in progress');
    expect(stuck.fix).toContain('rebase --continue');
    expect(stuck.fix).toContain('rebase --abort');
    expect(JSON.stringify(doc)).not.toContain('--set-upstream-to');
    expect(r.code).toBe(1);
  });

  it('no shared state: one failing line and its fix, exit 1', async () => {
    const dir = await tempDir('doc');
    const r = await cli(['doctor', '--shared-state', path.join(dir, 'missing')]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/^FAIL {2}shared state +--shared-state: .*missing is not a directory$/);
    expect(r.stdout).toContain('fix: run from inside the clone, or pass --shared-state <dir>');
  });

  it('clock skew (pure): a newest remote commit from our future beyond the tolerance means this clock is behind', () => {
    expect(judgeSkew(NOW + SKEW_TOLERANCE_MS + 60_000, NOW).state).toBe('fail');
    expect(judgeSkew(NOW + SKEW_TOLERANCE_MS - 1, NOW).state).toBe('ok');
    expect(judgeSkew(NOW - 3_600_000, NOW).detail).toContain('60 min old');
    expect(judgeSkew(undefined, NOW).state).toBe('skip');
  });
});
