// Fleet benchmarks: many machines against one bare remote, and failover after the leader dies.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createFleet, leaseHistory, remoteFile } from '../dist/demo/fleet.js';

const BIN = path.join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
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

function tickOf(fleet, machine, now) {
  return spawnAndWait(
    process.execPath,
    [
      BIN,
      'run',
      '--json',
      '--task',
      'log-rotation',
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
    n,
    rounds,
    retries,
    plainRetries,
    leaders,
    terms: new Set(leaseHistory(ours).map((v) => v.term)).size,
  };
}

/**
 * Failover on the simulated clock: 5 machines tick every 15 minutes at staggered phases; the
 * leader dies right after a renewal; the others go on ticking. Failover = time from its last
 * renewal to the first tick at which another machine holds a new term (design bound: one lease + one tick).
 */
export async function failover(base) {
  const fleet = await createFleet(path.join(base, 'failover'), 5);
  const tickMs = 15 * MIN;
  const leaseMs = 3600 * 1000;
  const phase = (i) => i * 3 * MIN;
  const events = [];
  for (let k = 0; k < 12; k++)
    for (const [i, m] of fleet.machines.entries()) events.push({ at: T0 + k * tickMs + phase(i), m });
  events.sort((a, b) => a.at - b.at);
  let leader;
  let lastRenewal;
  let deadAt;
  for (const e of events) {
    if (e.m === leader && e.at >= T0 + 30 * MIN) {
      deadAt ??= e.at;
      continue; // the leader is dead from its first tick past 12:30 on
    }
    const r = await tickOf(fleet, e.m, e.at);
    if (r.doc.leader.isLeader) {
      if (leader && e.m !== leader && deadAt) {
        const ms = e.at - lastRenewal;
        return {
          name: 'failover after the leader dies (simulated clock, 5 machines, lease 60 min, tick 15 min)',
          failoverMin: ms / MIN,
          lease: ms / leaseMs,
          bound: (leaseMs + tickMs) / leaseMs,
          newLeader: e.m,
          term: r.doc.leader.term,
        };
      }
      leader = e.m;
      lastRenewal = e.at;
    }
  }
  throw new Error('no failover happened within the simulated window');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timedRun(cmd, args, opts) {
  const t = performance.now();
  const r = await spawnAndWait(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'], ...opts });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}`);
  return performance.now() - t;
}

/** A tick with nothing due (process start to exit) vs `git pull --rebase`; the hook's return vs an empty hook. */
export async function idleTickAndHook(base, rounds = 5) {
  const fleet = await createFleet(path.join(base, 'idle'), 2);
  const [m, other] = fleet.machines;
  const env = (now) => ({
    PATH: process.env.PATH,
    HOME: fleet.base,
    RM_LOCAL: fleet.local(m),
    ROOSYNC_MAINT_NOW: String(now),
  });
  const runIdle = (now) =>
    timedRun(process.execPath, [BIN, 'run', '--shared-state', fleet.dir(m), '--machine', m, '--log-level', 'warn'], {
      env: env(now),
    });
  await runIdle(T0); // everything due once; afterwards only the every-tick tasks
  const idle = [];
  const pull = [];
  for (let i = 1; i <= rounds; i++) {
    idle.push(await runIdle(T0 + i * MIN));
    pull.push(
      await timedRun('git', ['pull', '-q', '--rebase'], {
        cwd: fleet.dir(other),
        env: { PATH: process.env.PATH, HOME: fleet.base, GIT_CONFIG_GLOBAL: '/dev/null' },
      }),
    );
  }
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
  return { idleMs: median(idle), pullMs: median(pull), hookMs: median(hookMs), emptyHookMs: median(emptyMs), rounds };
}
