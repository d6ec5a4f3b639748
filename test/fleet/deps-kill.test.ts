import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRegistry } from '../fixtures/registry.js';
import { BIN } from '../fleet.js';
import { machineConfig, NOW, scaled, until } from '../helpers.js';

/**
 * Issue 24: deps-update is all-or-nothing across a kill too. The whole process tree of a run (the CLI and
 * npm under it) is SIGKILLed at four points — the intent just written, npm done rewriting the lock, the
 * tests running, the rollback's npm ci running — and a normal run follows each: package.json, the lock
 * and node_modules agree, and the version kept is one whose tests passed.
 */
describe('deps-update killed at any point, then run again (real npm against a local verdaccio)', () => {
  const { state, npm, git, publish, project: makeProject } = useRegistry('deps-kill');

  it(
    'each kill is followed by a run that leaves package.json, the lock and node_modules agreeing on a tested version',
    async (ctx) => {
      const { registry, skip, base } = state;
      if (!registry) return ctx.skip(`no local registry: ${skip}`);
      publish('1.0.0', 'ok');
      // the test announces itself, then takes a moment: a kill can land while it runs
      const project = makeProject(
        "require('fs').writeFileSync('testing', ''); " +
          "setTimeout(() => process.exit(require('rmaint-dep')() === 'ok' ? 0 : 1), 1500)",
        ['testing'],
      );
      const shared = path.join(base, 'shared');
      mkdirSync(shared, { recursive: true });
      // the folder, the update and the test command are this machine's own config
      const own = machineConfig(base, {
        health: { depsDirs: [project] },
        deps: { update: 'patch', testCommand: ['npm', 'test'] },
      });
      const stateHome = path.join(base, 'state');
      const env = { ...registry.env, ...own, XDG_STATE_HOME: stateHome, ROOSYNC_MAINT_NOW: String(NOW) };
      const args = [BIN, 'run', '--no-sync', '--json', '--task', 'deps-update', '--shared-state', shared];
      const intents = () => {
        const found: string[] = [];
        const walk = (d: string) => {
          for (const e of existsSync(d) ? readdirSync(d, { withFileTypes: true }) : []) {
            if (e.isDirectory()) walk(path.join(d, e.name));
            else if (path.basename(d) === 'deps-update') found.push(path.join(d, e.name));
          }
        };
        walk(stateHome);
        return found;
      };
      const lockText = () => readFileSync(path.join(project, 'package-lock.json'), 'utf8');
      const locked = () => JSON.parse(lockText()).packages['node_modules/rmaint-dep'].version as string;
      const installed = () =>
        JSON.parse(readFileSync(path.join(project, 'node_modules', 'rmaint-dep', 'package.json'), 'utf8'))
          .version as string;

      const runToEnd = () =>
        new Promise<{ code: number | null; doc: { tasks: { checks?: { summary: string }[] }[] } }>((resolve) => {
          const child = spawn(process.execPath, [...args, '--machine', 'myia-m1'], { env, cwd: project });
          let out = '';
          child.stdout.on('data', (d) => (out += d));
          child.on('exit', (code) => resolve({ code, doc: JSON.parse(out) }));
        });
      /** Starts a run in its own process group and SIGKILLs the whole group once `at` holds. */
      const killWhen = async (at: () => boolean) => {
        rmSync(path.join(project, 'testing'), { force: true });
        const child = spawn(process.execPath, [...args, '--machine', 'myia-m1'], { env, cwd: project, detached: true });
        const exited = new Promise((r) => child.on('exit', r));
        const hit = await until(() => at() || child.exitCode !== null, scaled(60_000));
        const killedMidway = child.exitCode === null;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
        await exited;
        return hit && killedMidway;
      };
      /** package.json, the lock and node_modules agree, and the kept version's tests pass. */
      const expectConsistent = (versions: string[], when: string) => {
        expect(versions, when).toContain(locked());
        expect(installed(), when).toBe(locked());
        npm(project, 'ls', 'rmaint-dep'); // throws when node_modules and the lock disagree
        npm(project, 'test');
        expect(intents(), when).toEqual([]);
      };

      publish('1.0.1', 'ok');
      const original = lockText();
      const points: [string, () => boolean][] = [
        ['the intent just written', () => intents().length > 0],
        [
          'npm has rewritten the lock',
          () => existsSync(path.join(project, 'package-lock.json')) && lockText() !== original,
        ],
        ['the tests are running', () => existsSync(path.join(project, 'testing'))],
      ];
      for (const [what, at] of points) {
        expect(await killWhen(at), `killed while ${what}`).toBe(true);
        const after = await runToEnd();
        expect(after.code, what).toBe(0);
        // 1.0.0 when the update was undone; 1.0.1 only if the kill came after it was tested and kept
        expectConsistent(['1.0.0', '1.0.1'], what);
        git(project, 'checkout', '--', 'package.json', 'package-lock.json');
        npm(project, 'ci');
      }
      // left alone, the update goes through and is kept (its tests passed)
      const kept = await runToEnd();
      expect(kept.code).toBe(0);
      expectConsistent(['1.0.1'], 'left alone');
      git(project, 'commit', '-qam', 'update');

      // 1.0.2 breaks the tests: killed during the rollback's npm ci, the next run finishes the rollback
      publish('1.0.2', 'broken');
      const rollingBack = () => intents().some((f) => readFileSync(f, 'utf8').includes('"rolling-back"'));
      expect(await killWhen(rollingBack), 'killed while rolling back').toBe(true);
      const recovered = await runToEnd();
      expect(recovered.code).toBe(0);
      expect(JSON.stringify(recovered.doc.tasks[0]!.checks)).toContain('was interrupted (rolling-back');
      expectConsistent(['1.0.1'], 'after the rollback was killed');
    },
    scaled(240_000),
  );
});
