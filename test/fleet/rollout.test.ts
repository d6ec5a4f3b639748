import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, makeFleet, remoteFile, startTick, T0, tick, type Fleet } from '../fleet.js';
import { cli, until } from '../helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

const BUILD = `const fs = require('fs');
fs.mkdirSync('build', { recursive: true });
fs.writeFileSync('build/out.txt', fs.readFileSync('VERSION', 'utf8'));
`;
/** A build that takes as long as ../hold exists (and says it started, with its pid): a run can be killed in it. */
const SLOW_BUILD = `const fs = require('fs');
fs.mkdirSync('build', { recursive: true });
fs.writeFileSync('build/pid', String(process.pid));
fs.writeFileSync('build/started', '');
const wait = () => fs.existsSync('../hold') ? setTimeout(wait, 50) : fs.writeFileSync('build/out.txt', fs.readFileSync('VERSION', 'utf8'));
wait();
`;
/** Verify: the build is of this commit, and the commit is not a bad one. */
const VERIFY = `const fs = require('fs');
const v = fs.readFileSync('VERSION', 'utf8');
if (fs.readFileSync('build/out.txt', 'utf8') !== v) { console.error('build is stale'); process.exit(1); }
if (v.includes('bad')) { console.error('verify: self-test failed for ' + v); process.exit(1); }
`;

/** A component repository (bare remote + author clone) with one commit per version; returns their ids. */
function componentRepo(fleet: Fleet) {
  const remote = path.join(fleet.base, 'app.git');
  const work = path.join(fleet.base, 'app-author');
  git(fleet.base, 'init', '-q', '--bare', '-b', 'main', remote);
  git(fleet.base, 'clone', '-q', remote, work);
  git(work, 'config', 'user.name', 'author');
  git(work, 'config', 'user.email', 'author@roosync-maint.invalid');
  const commit = (version: string, build = BUILD) => {
    writeFileSync(path.join(work, 'VERSION'), version);
    writeFileSync(path.join(work, 'build.js'), build);
    writeFileSync(path.join(work, 'verify.js'), VERIFY);
    writeFileSync(path.join(work, '.gitignore'), 'build/\n');
    git(work, 'add', '-A');
    git(work, 'commit', '-qm', `version ${version}`);
    git(work, 'push', '-q', 'origin', 'main');
    return git(work, 'rev-parse', 'HEAD').trim();
  };
  return { remote, commit };
}

/** Each machine: a checkout of the component at `at`, built, declared in its own machine config. */
function installComponent(fleet: Fleet, remote: string, at: string) {
  for (const m of fleet.machines) {
    const dir = path.join(fleet.base, `${m}-app`);
    git(fleet.base, 'clone', '-q', remote, dir);
    git(dir, '-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', at);
    const config = JSON.parse(readFileSync(fleet.machineConfig(m), 'utf8'));
    config.components = {
      app: { dir, build: ['node', 'build.js'], verify: ['node', 'verify.js'], timeoutMinutes: 2 },
    };
    writeFileSync(fleet.machineConfig(m), JSON.stringify(config, null, 2));
  }
}

const headOf = (fleet: Fleet, m: string) => git(path.join(fleet.base, `${m}-app`), 'rev-parse', 'HEAD').trim();
const builtOf = (fleet: Fleet, m: string) =>
  readFileSync(path.join(fleet.base, `${m}-app`, 'build', 'out.txt'), 'utf8');

describe('batch deployment: a component rolled out in waves (three clones, a real component repository)', () => {
  it('a good rollout, a failed verify that halts, and a kill mid-update', async () => {
    const fleet = await makeFleet(3);
    const [m1, m2, m3] = fleet.machines as [string, string, string];
    const app = componentRepo(fleet);
    const v1 = app.commit('1');
    installComponent(fleet, app.remote, v1);
    const v2 = app.commit('2');
    let now = T0;
    const round = async (at: number, who = fleet.machines) => {
      const out = [];
      for (const m of who) out.push(await tick(fleet, m, at, { tasks: [] }));
      return out;
    };
    const rollout = (args: string[], at: number) =>
      cli(['rollout', ...args, '--shared-state', fleet.dir(m1), '--machine', m1], {
        now: at,
        env: fleet.localEnv(m1),
      });
    await round(now); // m1 leads; every machine reports its component
    for (const m of fleet.machines) expect(headOf(fleet, m)).toBe(v1);

    // 1. a good rollout: the canary first, the rest after the soak
    const started = await rollout(['start', 'app', 'main', '--waves', m2, '--waves', '*', '--soak', '2h'], now + MIN);
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(remoteFile(fleet, 'maintenance/rollouts/app.json')!)).toMatchObject({
      target: v2,
      state: 'active',
    });
    git(fleet.dir(m2), 'pull', '-q'); // a dry run does not fetch: the canary sees the plan as its clone has it
    const dry = await cli(['run', '--dry-run', '--task', 'rollout', '--shared-state', fleet.dir(m2), '--machine', m2], {
      now: now + 2 * MIN,
      env: fleet.localEnv(m2),
    });
    expect(dry.stdout).toMatch(/app: would update app from \w{12} to \w{12}, then build and verify/);
    expect(headOf(fleet, m2)).toBe(v1); // a dry run moved nothing
    now += 15 * MIN;
    await round(now);
    expect(fleet.machines.map((m) => headOf(fleet, m))).toEqual([v1, v2, v1]); // only the canary
    expect(builtOf(fleet, m2)).toBe('2');
    now += HOUR;
    await round(now);
    expect(fleet.machines.map((m) => headOf(fleet, m))).toEqual([v1, v2, v1]); // soaking
    now += 90 * MIN;
    await round(now); // the leader opens wave 2 at its tick, then updates itself; the others follow
    await round(now + 15 * MIN);
    expect(fleet.machines.map((m) => headOf(fleet, m))).toEqual([v2, v2, v2]);
    now += 15 * MIN + 2 * HOUR + MIN;
    await round(now);
    const status = await rollout(['status', '--json'], now + MIN);
    const doc = JSON.parse(status.stdout);
    expect(doc.rollouts[0]).toMatchObject({ state: 'done', target: v2 });
    expect(doc.components).toEqual([{ component: 'app', commits: [{ commit: v2, machines: [m1, m2, m3] }] }]);

    // 2. a commit whose verify fails: the canary goes back, the rollout halts, nobody else moves
    const bad = app.commit('3-bad');
    now += HOUR;
    expect((await rollout(['start', 'app', bad, '--waves', m2, '--waves', '*', '--soak', '1h'], now)).code).toBe(0);
    now += 15 * MIN;
    const [, canary] = await round(now, [m1, m2]);
    expect(canary!.code).toBe(1);
    expect(headOf(fleet, m2)).toBe(v2); // rolled back, rebuilt
    expect(builtOf(fleet, m2)).toBe('2');
    for (let k = 1; k <= 4; k++) await round(now + k * HOUR); // well past the soak
    expect(fleet.machines.map((m) => headOf(fleet, m))).toEqual([v2, v2, v2]);
    const halted = await rollout(['status', '--json'], now + 5 * HOUR);
    expect(halted.code).toBe(1);
    const h = JSON.parse(halted.stdout).rollouts[0];
    expect(h.state).toBe('halted');
    expect(h.reason).toMatch(
      new RegExp(`^${m2}: verify \\(node verify.js\\) exited 1; rolled back to ${v2.slice(0, 12)}`),
    );
    const inbox = git(fleet.remote, 'ls-tree', '--name-only', 'main', 'messages/inbox/')
      .split('\n')
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(git(fleet.remote, 'show', `main:${f}`)) as { subject: string; body: string });
    const alerts = inbox.filter((m) => m.subject.startsWith('[ALERT]') && m.subject.includes('app'));
    expect(alerts.map((a) => a.subject).join('\n')).toMatch(/rollout of app to \w{12} is halted/);
    expect(alerts.map((a) => a.body).join('\n')).toContain('verify: self-test failed for 3-bad');

    // 3. a kill in the middle of an update: the next tick ends at the target or the previous commit, built
    expect((await rollout(['abort', 'app'], now + 5 * HOUR)).code).toBe(0);
    const v4 = app.commit('4', SLOW_BUILD);
    now += 6 * HOUR;
    expect((await rollout(['start', 'app', 'main', '--waves', m2, '--waves', '*', '--soak', '0'], now)).code).toBe(0);
    writeFileSync(path.join(fleet.base, 'hold'), '');
    const run = startTick(fleet, m2, now + MIN, { tasks: [] });
    const started4 = path.join(fleet.base, `${m2}-app`, 'build', 'started');
    expect(await until(() => existsSync(started4))).toBe(true);
    run.child.kill('SIGKILL');
    await run.done;
    // the machine dies with it: its build too
    const pid = Number(readFileSync(path.join(fleet.base, `${m2}-app`, 'build', 'pid'), 'utf8'));
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(path.join(fleet.base, 'hold'));
    const head = headOf(fleet, m2);
    expect([v2, v4]).toContain(head); // checked out, not built: the journal says so
    const journal = path.join(fleet.dir(m2), '.git', 'roosync-maint', 'rollout-app.json');
    expect(JSON.parse(readFileSync(journal, 'utf8'))).toMatchObject({ previous: v2, target: v4 });
    expect(existsSync(path.join(fleet.base, `${m2}-app`, 'build', 'out.txt')) && builtOf(fleet, m2)).not.toBe('4');
    const after = await tick(fleet, m2, now + 16 * MIN, { tasks: [] });
    expect(after.code, after.stderr).toBe(0);
    const said = (after.doc?.tasks.find((t) => t.task === 'rollout') as { said?: string[] } | undefined)?.said ?? [];
    expect(said.join('\n')).toContain('resumed an update a killed run left');
    expect(headOf(fleet, m2)).toBe(v4);
    expect(builtOf(fleet, m2)).toBe('4');
    expect(existsSync(path.join(fleet.dir(m2), '.git', 'roosync-maint', 'rollout-app.json'))).toBe(false);
    const report = JSON.parse(remoteFile(fleet, `maintenance/machines/${m2}.json`)!).components.app;
    expect(report).toMatchObject({ commit: v4, target: v4, state: 'ok' });
  });
});
