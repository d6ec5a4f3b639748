// Fleet benchmarks: many machines against one bare remote, and failover after the leader dies.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createFleet, git, leaseHistory, remoteFile } from '../dist/demo/fleet.js';
import { phaseOffsetMs } from '../dist/coordinator/phase.js';

const ROOT = path.join(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'dist', 'cli', 'main.js');
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

function spawnAndWait(cmd, args, opts) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, opts);
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

/** One tick of the real CLI: `tasks` named (default log-rotation), or `[]` for a scheduled tick. */
function tickOf(fleet, machine, now, tasks = ['log-rotation']) {
  return spawnAndWait(
    process.execPath,
    [
      BIN,
      'run',
      '--json',
      ...tasks.flatMap((t) => ['--task', t]),
      '--shared-state',
      fleet.dir(machine),
      '--machine',
      machine,
      '--log-level',
      'warn',
    ],
    {
      env: { PATH: process.env.PATH, HOME: fleet.base, RM_LOCAL: fleet.local(machine), ROOSYNC_MAINT_NOW: String(now) },
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  ).then((r) => ({ ...r, doc: JSON.parse(r.out) }));
}

/** 20 machines tick at the same instant; baseline: 20 plain `commit; until push; do pull --rebase; done` loops. */
export async function manyMachines(base, n = 20) {
  const ours = await createFleet(path.join(base, 'many-ours'), n);
  const plain = await createFleet(path.join(base, 'many-plain'), n);
  let t = performance.now();
  const runs = await Promise.all(ours.machines.map((m) => tickOf(ours, m, T0)));
  let oursMs = performance.now() - t;
  const landedFirst = ours.machines.filter((m) => remoteFile(ours, `maintenance/machines/${m}.json`)).length;
  let rounds = 1;
  // pushes that lost every retry are carried by the next tick: time until every status file is on the remote
  while (ours.machines.some((m) => !remoteFile(ours, `maintenance/machines/${m}.json`)) && rounds < 5) {
    t = performance.now();
    await Promise.all(ours.machines.map((m) => tickOf(ours, m, T0 + rounds * 15 * MIN)));
    oursMs += performance.now() - t;
    rounds++;
  }
  const landed = ours.machines.filter((m) => remoteFile(ours, `maintenance/machines/${m}.json`)).length;
  const retries = runs.reduce((s, r) => s + r.doc.pushRetries, 0);
  const leaders = runs.filter((r) => r.doc.leader.isLeader).length;
  const script =
    'mkdir -p maintenance/machines && echo "{}" > maintenance/machines/$M.json && git add -A && git commit -qm "$M" && n=0; until git push -q 2>/dev/null; do n=$((n+1)); git pull -q --rebase 2>/dev/null; done; echo $n';
  t = performance.now();
  const base_ = await Promise.all(
    plain.machines.map((m) =>
      spawnAndWait('sh', ['-c', script], {
        cwd: plain.dir(m),
        env: {
          PATH: process.env.PATH,
          HOME: plain.base,
          M: m,
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_AUTHOR_NAME: m,
          GIT_AUTHOR_EMAIL: `${m}@x.invalid`,
          GIT_COMMITTER_NAME: m,
          GIT_COMMITTER_EMAIL: `${m}@x.invalid`,
        },
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ),
  );
  const plainMs = performance.now() - t;
  const plainRetries = base_.reduce((s, r) => s + Number(r.out.trim() || 0), 0);
  return {
    name: `${n} machines tick at once against one bare remote`,
    oursMs,
    plainMs,
    ratio: oursMs / plainMs,
    landed,
    landedFirst,
    n,
    rounds,
    retries,
    plainRetries,
    leaders,
    terms: new Set(leaseHistory(ours).map((v) => v.term)).size,
  };
}

/** A fleet whose config leaves the lease and the schedule at their defaults (lease 2 h, heartbeat 4 h, tick 15 min). */
async function fleetAtDefaults(dir, n, extra = {}) {
  return createFleet(dir, n, (seed) => {
    const file = path.join(seed, '.maintenance-config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    delete config.election;
    writeFileSync(file, JSON.stringify({ ...config, ...extra }, null, 2));
  });
}

/** Each machine's scheduled ticks at its own phase (a hash of its id, as `schedule install` and the daemon use). */
function scheduledEvents(machines, from, to) {
  const events = [];
  for (const m of machines) {
    const offset = phaseOffsetMs(m, 15 * MIN);
    for (let at = from + offset; at < to; at += 15 * MIN) events.push({ at, m });
  }
  return events.sort((a, b) => a.at - b.at);
}

const commitsOnMain = (fleet) => Number(git(fleet.remote, 'rev-list', '--count', 'main').trim());

/**
 * Failover on the simulated clock, at the defaults: 5 machines tick on their own phases every 15 minutes;
 * the leader dies at 14:00; failover = time from its last renewal on the remote to the first tick at which
 * another machine holds a new term (design bound: one lease + one tick).
 */
export async function failover(base) {
  const fleet = await fleetAtDefaults(path.join(base, 'failover'), 5);
  const tickMs = 15 * MIN;
  const leaseMs = 120 * MIN;
  const deathAt = T0 + 120 * MIN;
  let leader;
  for (const e of scheduledEvents(fleet.machines, T0, T0 + 8 * 60 * MIN)) {
    if (e.m === leader && e.at >= deathAt) continue; // dead
    const r = await tickOf(fleet, e.m, e.at, []);
    if (!r.doc.leader.isLeader) continue;
    if (leader && e.m !== leader) {
      const ms = e.at - lastRenewalOf(fleet, leader);
      return {
        name: 'failover after the leader dies (simulated clock, 5 machines at the defaults: lease 2 h, tick 15 min)',
        failoverMin: Math.round(ms / MIN),
        lease: ms / leaseMs,
        bound: (leaseMs + tickMs) / leaseMs,
        newLeader: e.m,
        term: r.doc.leader.term,
      };
    }
    leader = e.m;
  }
  throw new Error('no failover happened within the simulated window');
}

/** The dead leader's last renewal that reached the remote. */
function lastRenewalOf(fleet, holder) {
  const mine = leaseHistory(fleet).filter((v) => v.holder === holder);
  const last = mine[mine.length - 1];
  return Date.parse(JSON.parse(git(fleet.remote, 'show', `${last.commit}:maintenance/leader.json`)).renewedAt);
}

/**
 * History: a 6-machine fleet at the defaults ticking every 15 minutes on their phases for one simulated day
 * (scheduled ticks, as a timer runs them), against the same fleet writing its status every tick as before
 * (`heartbeatMinutes` = `tickMinutes`), measured over 6 h and scaled to a day.
 */
export async function historyDay(base) {
  const ours = await fleetAtDefaults(path.join(base, 'day-ours'), 6);
  const before = commitsOnMain(ours);
  let quiet = 0;
  const runs = scheduledEvents(ours.machines, T0, T0 + 24 * 60 * MIN);
  for (const e of runs) {
    const r = await tickOf(ours, e.m, e.at, []);
    if (r.code !== 0) throw new Error(`a tick of ${e.m} exited ${r.code}`);
    if (r.doc.quiet) quiet++;
  }
  const perDay = commitsOnMain(ours) - before;
  const old = await fleetAtDefaults(path.join(base, 'day-old'), 6, { schedule: { heartbeatMinutes: 15 } });
  const oldBefore = commitsOnMain(old);
  for (const e of scheduledEvents(old.machines, T0, T0 + 6 * 60 * MIN)) await tickOf(old, e.m, e.at, []);
  return { perDay, ticks: runs.length, quiet, oldPerDay: (commitsOnMain(old) - oldBefore) * 4 };
}

/**
 * 100 machines, each ticking once at its phase of the interval on a simulated clock, four processes at a
 * time in phase order (real git, one bare remote): how many rounds until every status file has landed.
 */
export async function hundredMachines(base, n = 100) {
  const fleet = await createFleet(path.join(base, 'hundred'), n);
  const t = performance.now();
  let rounds = 0;
  const landed = () => fleet.machines.filter((m) => remoteFile(fleet, `maintenance/machines/${m}.json`)).length;
  while (landed() < n && rounds < 3) {
    const events = scheduledEvents(fleet.machines, T0 + rounds * 15 * MIN, T0 + (rounds + 1) * 15 * MIN);
    for (let i = 0; i < events.length; i += 4)
      await Promise.all(events.slice(i, i + 4).map((e) => tickOf(fleet, e.m, e.at)));
    rounds++;
  }
  return { n, rounds, landed: landed(), ms: performance.now() - t };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timedRun(cmd, args, opts) {
  const t = performance.now();
  const r = await spawnAndWait(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'], ...opts });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}`);
  return performance.now() - t;
}

/**
 * CPU seconds (user + system) of one command and every process it waited for, from bash's `times`
 * (getrusage of the children, to the microsecond; GNU time rounds to 10 ms).
 */
/** CPU (user + system, children included) of one command, from bash's `times`: to the millisecond. */
export function cpuOf(cmd, args, opts) {
  const r = spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1 || exit 99; times', 'bash', cmd, ...args], {
    encoding: 'utf8',
    ...opts,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const seconds = (t) => {
    const [, min, sec] = /(\d+)m([\d.]+)s/.exec(t);
    return Number(min) * 60 + Number(sec);
  };
  const [user, sys] = r.stdout.trim().split('\n').pop().split(' ');
  return seconds(user) + seconds(sys);
}

/** Where a CPU profile spends its self time, by package (or by our own module), biggest first. */
function profileSummary(dir) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const dt = (profile.endTime - profile.startTime) / profile.samples.length / 1000; // ms per sample
  const hits = new Map(profile.nodes.map((n) => [n.id, 0]));
  for (const id of profile.samples) hits.set(id, hits.get(id) + 1);
  const by = new Map();
  for (const n of profile.nodes) {
    const url = n.callFrame.url;
    const where = !url
      ? `(${n.callFrame.functionName || 'vm'})`
      : url.includes('node_modules/')
        ? url.split('node_modules/').pop().split('/')[0]
        : url.startsWith('node:')
          ? 'node internals'
          : url.includes('/dist/')
            ? `ours: ${url.split('/dist/').pop()}`
            : url;
    by.set(where, (by.get(where) ?? 0) + hits.get(n.id) * dt);
  }
  const total = [...by.values()].reduce((x, y) => x + y, 0);
  const top = [...by.entries()].sort((x, y) => y[1] - x[1]).slice(0, 5);
  return { totalMs: total, top: top.map(([w, ms]) => `${w} ${ms.toFixed(0)} ms`).join(', ') };
}

/**
 * A scheduled tick with nothing due, in CPU (user + system, git children included), against the floor of
 * `node -e 0` + `git fetch` + `git status` on an identical clone; the same tick forced to run in full (its
 * quiet record removed); a CPU profile of each. Then the post-merge hook's return time.
 */
/**
 * The same CLI as tsc alone builds it (ES modules, one file per module, dependencies from node_modules), beside the
 * bundle `npm run build` makes: the reference for what bundling buys (scripts/build.mjs).
 */
export function unbundledCli(base) {
  const pkg = path.join(base, 'unbundled');
  mkdirSync(pkg, { recursive: true });
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.json'), '--outDir', path.join(pkg, 'dist')]);
  copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
  return path.join(pkg, 'dist', 'cli', 'main.js');
}

/**
 * The git calls a full tick that commits makes (the list a GIT_TRACE of one shows), run by a shell on a clone:
 * open, look at RooSync's in-place writes, fetch, compare with the upstream, stage, check, commit, push.
 */
const FULL_TICK_GIT = `set -e
f=maintenance/machines/floor.json
mkdir -p maintenance/machines; date +%s%N > "$f"
git rev-parse --show-toplevel --absolute-git-dir >/dev/null
git status --porcelain -z --untracked-files=all -- messages >/dev/null
git fetch --prune --quiet
git rev-parse --abbrev-ref --symbolic-full-name @{u} >/dev/null
git rev-list --left-right --count origin/main...HEAD >/dev/null
git rev-parse origin/main >/dev/null
git add -A -- "$f"
git diff --cached --name-only -z --diff-filter=AM -- "$f" >/dev/null
echo ":$f" | git cat-file --batch-check >/dev/null
git diff --cached --name-only >/dev/null
git -c user.name=floor -c user.email=floor@invalid commit -q --no-verify -m floor
git push -q
git rev-parse HEAD @{u} >/dev/null
`;

/**
 * What no full tick can go below: node with the four packages the project must use (bundled as the CLI is, each
 * used once) plus the git calls of a tick that commits, each measured alone in CPU.
 */
async function partsFloor(dir, env, rounds) {
  const { build } = await import('rolldown');
  const bundle = path.join(path.dirname(dir), 'fixed-packages.cjs');
  const input = path.join(import.meta.dirname, 'fixedPackages.mjs');
  const external = [/^node:/];
  const resolve = { mainFields: ['module', 'main'] };
  const output = { file: bundle, format: 'cjs', codeSplitting: false };
  await build({ input, platform: 'node', resolve, external, logLevel: 'silent', output });
  const script = path.join(path.dirname(dir), 'full-tick-git.sh');
  writeFileSync(script, FULL_TICK_GIT);
  const packages = [];
  const git = [];
  for (let i = 0; i < rounds; i++) {
    packages.push(cpuOf(process.execPath, [bundle], { cwd: dir, env }));
    // level with the remote first (not timed): the other machine's ticks pushed
    spawnSync('git', ['pull', '-q', '--rebase'], { cwd: dir, env, stdio: 'ignore' });
    git.push(cpuOf('bash', [script], { cwd: dir, env }));
  }
  return { packagesCpu: median(packages), gitCpu: median(git) };
}

export async function idleTickAndHook(base, rounds = 5) {
  const fleet = await createFleet(path.join(base, 'idle'), 2);
  const [m, other] = fleet.machines;
  const env = (now) => ({
    PATH: process.env.PATH,
    HOME: fleet.base,
    RM_LOCAL: fleet.local(m),
    ROOSYNC_MAINT_NOW: String(now),
  });
  const runArgs = [BIN, 'run', '--shared-state', fleet.dir(m), '--machine', m, '--log-level', 'warn'];
  const record = path.join(fleet.dir(m), '.git', 'roosync-maint', 'quiet.json');
  await timedRun(process.execPath, runArgs, { env: env(T0) }); // everything due once; the record of a clean tick
  const gitEnv = { PATH: process.env.PATH, HOME: fleet.base, GIT_CONFIG_GLOBAL: '/dev/null' };
  const quiet = [];
  const full = [];
  const floor = [];
  const wall = [];
  for (let i = 1; i <= rounds; i++) {
    const t = performance.now();
    quiet.push(cpuOf(process.execPath, runArgs, { env: env(T0 + i * MIN) }));
    wall.push(performance.now() - t);
    floor.push(
      cpuOf('sh', ['-c', 'node -e 0; git fetch -q; git status --porcelain >/dev/null'], {
        cwd: fleet.dir(other),
        env: gitEnv,
      }),
    );
  }
  for (let i = 1; i <= rounds; i++) {
    rmSync(record, { force: true });
    full.push(cpuOf(process.execPath, runArgs, { env: env(T0 + (rounds + i) * MIN) }));
  }
  // the same ticks from the unbundled build, alternating with the bundle (a full tick first: it writes the record)
  const plainArgs = [unbundledCli(fleet.base), ...runArgs.slice(1)];
  const plain = { quiet: [], full: [] };
  for (let i = 1; i <= rounds; i++) {
    const at = T0 + (2 * rounds + 2 * i) * MIN;
    rmSync(record, { force: true });
    plain.full.push(cpuOf(process.execPath, plainArgs, { env: env(at) }));
    plain.quiet.push(cpuOf(process.execPath, plainArgs, { env: env(at + MIN) }));
  }
  const profile = (name, now, before = () => undefined) => {
    const dir = path.join(fleet.base, `prof-${name}`);
    before();
    spawnSync(process.execPath, [`--cpu-prof`, `--cpu-prof-dir=${dir}`, ...runArgs], { env: env(now) });
    return profileSummary(dir);
  };
  const quietProfile = profile('quiet', T0 + (4 * rounds + 2) * MIN);
  const fullProfile = profile('full', T0 + (4 * rounds + 3) * MIN, () => rmSync(record, { force: true }));
  await spawnAndWait(
    process.execPath,
    [BIN, 'hooks', 'install', '--shared-state', fleet.dir(m), '--machine', m, '--log-level', 'warn'],
    { env: env(T0), stdio: 'ignore' },
  );
  const hook = path.join(fleet.dir(m), '.git', 'hooks', 'post-merge');
  const empty = path.join(fleet.base, 'empty-hook');
  writeFileSync(empty, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const hookMs = [];
  const emptyMs = [];
  for (let i = 0; i < rounds; i++) {
    hookMs.push(
      await timedRun('sh', [hook, '0'], {
        cwd: fleet.dir(m),
        env: { PATH: process.env.PATH, HOME: fleet.base, RM_LOCAL: fleet.local(m) },
      }),
    );
    emptyMs.push(await timedRun('sh', [empty, '0'], { cwd: fleet.dir(m) }));
    await new Promise((r) => setTimeout(r, 1500)); // let the background tick finish before the next measurement
  }
  const parts = await partsFloor(fleet.dir(other), gitEnv, rounds);
  return {
    ...parts,
    quietCpu: median(quiet),
    fullCpu: median(full),
    plainQuietCpu: median(plain.quiet),
    plainFullCpu: median(plain.full),
    plainBin: plainArgs[0],
    floorCpu: median(floor),
    quietWallMs: median(wall),
    quietProfile,
    fullProfile,
    hookMs: median(hookMs),
    emptyHookMs: median(emptyMs),
    rounds,
  };
}

/**
 * simple-git waits 50 ms after a git process that printed nothing; GIT_TRACE=1 (what GitRepo sets) makes every
 * git process print a trace line on stderr. The same silent call (`git status --porcelain` on a clean clone),
 * 20 times each way.
 */
export async function silentGitCall(base, calls = 20) {
  const { simpleGit } = await import('simple-git');
  const fleet = await createFleet(path.join(base, 'silent'), 1);
  const dir = fleet.dir(fleet.machines[0]);
  const time = async (trace) => {
    const git = simpleGit({ baseDir: dir, allowEnvironment: ['GIT_TRACE'] }).env({
      PATH: process.env.PATH,
      HOME: fleet.base,
      ...(trace && { GIT_TRACE: '1' }),
    });
    const t = performance.now();
    for (let i = 0; i < calls; i++) await git.raw(['status', '--porcelain']);
    return (performance.now() - t) / calls;
  };
  const plainMs = await time(false);
  const traceMs = await time(true);
  return { plainMs, traceMs, calls };
}
