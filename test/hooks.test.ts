import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, makeFleet, remoteFile, tick } from './fleet.js';
import { cli, until, scaled } from './helpers.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

describe('git hooks', () => {
  it(
    'a pull fires a background tick; an existing hook is chained and restored on uninstall',
    async () => {
      const fleet = await makeFleet(2);
      const [m1, m2] = fleet.machines as [string, string];
      const hooks = path.join(fleet.dir(m1), '.git', 'hooks');
      mkdirSync(hooks, { recursive: true });
      const original = `#!/bin/sh\necho chained >> "${path.join(fleet.base, 'chained.txt')}"\n`;
      writeFileSync(path.join(hooks, 'post-merge'), original);
      chmodSync(path.join(hooks, 'post-merge'), 0o755);
      const args = ['--shared-state', fleet.dir(m1), '--machine', m1];
      const install = await cli(['hooks', 'install', ...args]);
      expect(install.code, install.stderr).toBe(0);
      expect(install.stdout).toContain('post-merge: existing hook kept, chained as post-merge.roosync-maint-chained');
      const status = JSON.parse((await cli(['hooks', 'status', '--json', ...args])).stdout);
      expect(status.hooks.map((h: { state: string }) => h.state)).toEqual(['ours', 'ours', 'ours']);

      expect((await tick(fleet, m2, T0)).code).toBe(0); // something to pull
      git(fleet.dir(m1), 'pull', '-q', '--no-rebase');
      expect(await until(() => existsSync(path.join(fleet.base, 'chained.txt')))).toBe(true);
      expect(await until(() => remoteFile(fleet, `maintenance/machines/${m1}.json`) !== undefined)).toBe(true);

      const un = await cli(['hooks', 'uninstall', ...args]);
      expect(un.stdout).toContain('post-merge: removed, the earlier hook restored');
      expect(readFileSync(path.join(hooks, 'post-merge'), 'utf8')).toBe(original);
      expect(existsSync(path.join(hooks, 'post-checkout'))).toBe(false);
    },
    scaled(60_000),
  );

  it('respects core.hooksPath outside the clone, refuses one inside it, and --dry-run installs nothing', async () => {
    const fleet = await makeFleet(1);
    const [m1] = fleet.machines as [string];
    const args = ['--shared-state', fleet.dir(m1), '--machine', m1];
    // in the work tree, any machine could push the hook (or the hook it chains): refused, nothing written
    git(fleet.dir(m1), 'config', 'core.hooksPath', '.githooks');
    const inTree = await cli(['hooks', 'install', ...args]);
    expect(inTree.code).toBe(2);
    expect(inTree.stderr).toContain('inside the work tree');
    expect(existsSync(path.join(fleet.dir(m1), '.githooks'))).toBe(false);
    const outside = path.join(fleet.local(m1), 'githooks');
    git(fleet.dir(m1), 'config', 'core.hooksPath', outside);
    expect((await cli(['hooks', 'install', '--dry-run', ...args])).stdout).toContain('would: post-merge: installed in');
    expect(existsSync(outside)).toBe(false);
    expect((await cli(['hooks', 'install', ...args])).code).toBe(0);
    expect(readFileSync(path.join(outside, 'post-rewrite'), 'utf8')).toContain('# roosync-maint hook:');
  });

  it('refuses outside a git clone, with what to do instead', async () => {
    const fleet = await makeFleet(1);
    const r = await cli(['hooks', 'install', '--shared-state', fleet.local('myia-m1'), '--machine', 'myia-m1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('schedule install');
  });
});
