import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepOf, updatable } from '../src/deps/npm.js';
import { useRegistry } from './fixtures/registry.js';
import { cli, machineConfig, NOW, scaled } from './helpers.js';

interface Check {
  check: string;
  state: string;
  summary: string;
  data: { outdated?: unknown };
}

describe('update steps (pure)', () => {
  it('patch moves only patch steps; minor moves patch and minor; never a major', () => {
    expect(stepOf('1.0.0', '1.0.1')).toBe('patch');
    expect(stepOf('1.0.0', '1.2.0')).toBe('minor');
    expect(stepOf('1.0.0', '2.0.0')).toBe('major');
    expect(stepOf('1.0.0', '1.0.0')).toBe('none');
    const entries = [
      { package: 'a', current: '1.0.0', wanted: '1.0.3', latest: '1.0.3' },
      { package: 'b', current: '1.0.0', wanted: '1.4.0', latest: '2.0.0' },
      { package: 'c', current: '1.0.0', wanted: '1.0.0', latest: '2.0.0' },
    ];
    expect(updatable(entries, 'patch').map((e) => e.package)).toEqual(['a']);
    expect(updatable(entries, 'minor').map((e) => e.package)).toEqual(['a', 'b']);
  });
});

describe('outdated packages and a safe update, against a real local registry (verdaccio)', () => {
  const { state, npm, git, publish, project: makeProject } = useRegistry('registry');

  it(
    'reports package, current, wanted, latest; keeps an update whose tests pass; undoes one whose tests fail',
    async (ctx) => {
      const { registry, skip, base } = state;
      if (!registry) return ctx.skip(`no local registry: ${skip}`);
      publish('1.0.0', 'ok');
      const project = makeProject("process.exit(require('rmaint-dep')() === 'ok' ? 0 : 1)");
      publish('1.0.1', 'ok');

      const shared = path.join(base, 'shared');
      mkdirSync(shared, { recursive: true });
      // the folders and the test command are this machine's own config
      const own = machineConfig(base, {
        health: { depsDirs: [project] },
        deps: { update: 'patch', testCommand: ['npm', 'test'] },
      });
      const run = async () => {
        const r = await cli(
          ['run', '--no-sync', '--json', '--task', 'deps-update', '--shared-state', shared, '--machine', 'myia-m1'],
          { now: NOW, env: { ...registry!.env, ...own } },
        );
        return { code: r.code, doc: JSON.parse(r.stdout) };
      };
      const lockVersion = () =>
        JSON.parse(readFileSync(path.join(project, 'package-lock.json'), 'utf8')).packages['node_modules/rmaint-dep']
          .version;

      // 1.0.1 passes the tests: kept
      const kept = await run();
      expect(kept.code).toBe(0);
      const checks = kept.doc.tasks[0].checks as Check[];
      expect(checks.find((c) => c.check === 'deps-outdated')!.data.outdated).toEqual([
        { package: 'rmaint-dep', current: '1.0.0', wanted: '1.0.1', latest: '1.0.1' },
      ]);
      // what npm installed, read back from the lock
      expect(checks.find((c) => c.check === 'deps-update')).toMatchObject({
        state: 'ok',
        data: { changed: [{ package: 'rmaint-dep', from: '1.0.0', to: '1.0.1' }] },
      });
      expect(lockVersion()).toBe('1.0.1');
      git(project, 'commit', '-qam', 'update');

      // uncommitted changes to package.json: never touched
      writeFileSync(
        path.join(project, 'package.json'),
        readFileSync(path.join(project, 'package.json'), 'utf8') + '\n',
      );
      publish('1.0.2', 'broken');
      const dirty = await run();
      expect((dirty.doc.tasks[0].checks as Check[]).find((c) => c.check === 'deps-update')!.summary).toContain(
        'uncommitted changes',
      );
      git(project, 'checkout', '--', 'package.json');

      // 1.0.2 breaks the tests: undone, byte for byte, and alerted
      const before = ['package.json', 'package-lock.json'].map((f) => readFileSync(path.join(project, f), 'utf8'));
      const undone = await run();
      const failing = (undone.doc.tasks[0].checks as Check[]).find((c) => c.check === 'deps-update');
      expect(failing).toMatchObject({ state: 'failing' });
      expect(failing!.summary).toContain('was undone: tests failed');
      expect(['package.json', 'package-lock.json'].map((f) => readFileSync(path.join(project, f), 'utf8'))).toEqual(
        before,
      );
      expect(npm(project, 'ls', 'rmaint-dep', '--json')).toContain('"version": "1.0.1"');
      expect(git(project, 'status', '--porcelain').trim()).toBe('');
    },
    scaled(180_000),
  );
});
