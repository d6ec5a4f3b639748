import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSummary, runSuite } from '../src/testSuites/run.js';
import { startFakeGitHub, type FakeGitHub } from './fixtures/fakeGitHub.js';
import { cli, DAY, NOW, tempDir } from './helpers.js';

const REPO = 'myia/roo-extensions';
const TOKEN = 'gh-test-token-0123456789';

describe('a suite run (real processes)', () => {
  it('reads vitest and jest summaries', () => {
    expect(parseSummary(' Test Files  1 failed (3)\n      Tests  2 failed | 40 passed (42)\n')).toEqual({
      failed: 2,
      total: 42,
    });
    expect(parseSummary('      Tests  40 passed (40)\n')).toEqual({ failed: 0, total: 40 });
    expect(parseSummary('Tests:       1 failed, 5 passed, 6 total\n')).toEqual({ failed: 1, total: 6 });
    expect(parseSummary('ok\n')).toBeUndefined();
  });
  it('judges by the exit code, keeps the tail censored, and kills a suite past its timeout', async () => {
    const dir = await tempDir('suite');
    const failing = await runSuite({
      name: 'x',
      cwd: dir,
      command: [
        'node',
        '-e',
        `console.log('token=${TOKEN}'); console.log('      Tests  1 failed | 2 passed (3)'); process.exit(1)`,
      ],
      timeoutMinutes: 1,
    });
    expect(failing).toMatchObject({ passed: false, exitCode: 1, failedTests: 1, totalTests: 3, timedOut: false });
    expect(failing.tail.join('\n')).not.toContain(TOKEN);
    const slow = await runSuite({ name: 'y', cwd: dir, command: 'sleep 30', timeoutMinutes: 0.01 });
    expect(slow).toMatchObject({ passed: false, timedOut: true });
    expect(slow.durationMs).toBeLessThan(20_000);
  });
});

describe('tests task: failing suite → one GitHub issue, a comment a day, closed when it passes', () => {
  let gh: FakeGitHub;
  beforeAll(async () => {
    gh = await startFakeGitHub(REPO, TOKEN);
  });
  afterAll(async () => {
    await gh.close();
  });

  async function setUp(tokenEnv = 'TEST_GH_TOKEN') {
    const base = await tempDir('tests-task');
    const shared = path.join(base, 'shared');
    const project = path.join(base, 'project');
    mkdirSync(shared, { recursive: true });
    mkdirSync(project, { recursive: true });
    // the suite fails while a file named "fail" exists in its folder
    const script = `const fs=require('fs');if(fs.existsSync('fail')){console.log('      Tests  2 failed | 8 passed (10)');process.exit(1)}console.log('      Tests  10 passed (10)')`;
    // the suite's command, folder, token variable and host are this machine's own config
    writeFileSync(
      path.join(base, 'machine.jsonc'),
      JSON.stringify({
        trust: { tokenHosts: [gh.url] },
        tests: {
          suites: [
            {
              name: 'roo-state-manager',
              cwd: project,
              command: ['node', '-e', script],
              github: { repo: REPO, tokenEnv, apiUrl: gh.url, labels: ['tests'] },
            },
          ],
        },
      }),
    );
    const run = (now: number) =>
      cli(['run', '--no-sync', '--json', '--task', 'tests', '--shared-state', shared, '--machine', 'myia-m1'], {
        now,
        env: {
          TEST_GH_TOKEN: TOKEN,
          WRONG_GH_TOKEN: 'not-the-token',
          ROOSYNC_MAINT_MACHINE_CONFIG: path.join(base, 'machine.jsonc'),
        },
      }).then((r) => ({ code: r.code, doc: JSON.parse(r.stdout) }));
    const inbox = () => {
      const dir = path.join(shared, 'messages', 'inbox');
      return readdirSync(dir).map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
    };
    return { project, run, inbox, shared };
  }

  it('opens exactly one issue over two runs, comments at most once a day, closes it when the suite passes', async () => {
    gh.issues.length = 0;
    const t = await setUp();
    writeFileSync(path.join(t.project, 'fail'), '');
    const first = await t.run(NOW);
    expect(first.code).toBe(0);
    expect(gh.issues).toHaveLength(1);
    expect(gh.issues[0]).toMatchObject({
      title: 'roosync-maint: tests "roo-state-manager" failing on myia-m1',
      state: 'open',
    });
    expect(gh.issues[0]!.labels).toEqual(['roosync-maint', 'tests']);
    expect(gh.issues[0]!.body).toContain('2 failed of 10');
    const alert = t.inbox().find((m) => m.subject.includes('roo-state-manager'));
    expect(alert, 'a RooSync alert names the suite').toBeDefined();
    expect(alert.body).toContain('BUILD');
    await t.run(NOW + 3_600_000); // the same day: no second issue, no comment
    expect(gh.issues).toHaveLength(1);
    expect(gh.issues[0]!.comments).toHaveLength(0);
    await t.run(NOW + DAY + 1); // the next day: one comment
    expect(gh.issues).toHaveLength(1);
    expect(gh.issues[0]!.comments).toHaveLength(1);
    const listings = gh.requests.filter((r) => r.method === 'GET');
    expect(listings.every((r) => r.path === `/repos/${REPO}/issues`)).toBe(true); // never the search API
    // passes again: commented and closed, the alert resolved
    rmSync(path.join(t.project, 'fail'));
    const pass = await t.run(NOW + 2 * DAY);
    expect(pass.code).toBe(0);
    expect(gh.issues[0]!.state).toBe('closed');
    expect(gh.issues[0]!.comments.at(-1)).toContain('Passes again');
    expect(t.inbox().some((m) => m.subject.includes('[RESOLVED]') && m.subject.includes('roo-state-manager'))).toBe(
      true,
    );
  });

  it('a missing token, a refused token and a rate limit: reported (or deferred), never a crash or a loop', async () => {
    gh.issues.length = 0;
    const missing = await setUp('NOT_SET_ANYWHERE');
    writeFileSync(path.join(missing.project, 'fail'), '');
    const r = await missing.run(NOW);
    expect(r.code).toBe(0);
    const checks = r.doc.tasks[0].checks as { check: string; state: string; summary: string }[];
    expect(checks.find((c) => c.check === 'github')).toMatchObject({ state: 'failing' });
    expect(checks.find((c) => c.check === 'github')!.summary).toContain('NOT_SET_ANYWHERE is not set');
    expect(gh.issues).toHaveLength(0);
    const refused = await setUp('WRONG_GH_TOKEN');
    writeFileSync(path.join(refused.project, 'fail'), '');
    const bad = await refused.run(NOW);
    expect(bad.code).toBe(0);
    const badCheck = (bad.doc.tasks[0].checks as { check: string; state: string; summary: string }[]).find(
      (c) => c.check === 'github',
    )!;
    expect(badCheck).toMatchObject({ state: 'failing' });
    expect(badCheck.summary).toContain('GitHub 401');
    expect(refused.inbox().some((m) => m.subject.includes('GitHub 401'))).toBe(true); // reported as an alert
    expect(gh.issues).toHaveLength(0);
    const limited = await setUp();
    writeFileSync(path.join(limited.project, 'fail'), '');
    gh.rateLimited = true;
    const before = gh.requests.length;
    const rl = await limited.run(NOW);
    gh.rateLimited = false;
    expect(rl.code).toBe(0);
    expect(gh.requests.length - before).toBe(1); // one refused call, no retry loop
    const rlChecks = rl.doc.tasks[0].checks as { check: string; state: string }[];
    expect(rlChecks.find((c) => c.check === 'github')).toMatchObject({ state: 'skipped' });
  });
});
