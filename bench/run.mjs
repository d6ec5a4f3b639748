// npm run bench — every figure is compared with a baseline measured in the same run, on an identical copy.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, utimesSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { failover, historyDay, hundredMachines, idleTickAndHook, manyMachines, silentGitCall } from './fleet.mjs';
import { buildInbox, helpAndStart, memoryRows } from './memory.mjs';
import { runMeasured } from './peakRss.mjs';

const HERE = import.meta.dirname;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ONLY = process.env.BENCH_ONLY; // a substring of a scenario name
const DAY = 86_400_000;
const NOW = Date.now();

const isoDashed = (ms) => new Date(ms).toISOString().replace(/[:.]/g, '-');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const count = (dir) => readdirSync(dir).length;

/** Times one command; its peak RSS from GNU time (peakRss.mjs says why not from the process itself). */
function timed(cmd, args, { env } = {}) {
  const t0 = performance.now();
  const r = runMeasured(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env && { env }) });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, rssKB: r.rssKB, stdout: r.stdout };
}

const ourCli = (shared, task) => [
  process.execPath,
  [
    path.join(HERE, '..', 'dist', 'cli', 'main.js'),
    'run',
    '--no-sync',
    '--leader',
    '--json',
    '--task',
    task,
    '--shared-state',
    shared,
    '--machine',
    'bench',
    '--log-level',
    'warn',
  ],
];

/**
 * One scenario, ROUNDS times: build a tree, copy it (`cp -a`), flush both to disk (`sync`, so
 * writeback of the new files lands on neither command), run ours on one and the baseline on the
 * other (alternating which goes first, with a sync between), check both ended alike.
 */
async function scenario(base, s) {
  const ours = [];
  const baseline = [];
  let rss = 0;
  let baseRss = 0;
  let extra;
  for (let round = 0; round < ROUNDS; round++) {
    const a = path.join(base, `ours-${round}`);
    const b = path.join(base, `base-${round}`);
    process.stderr.write(`  ${s.name}: round ${round + 1}/${ROUNDS}\n`);
    s.build(a);
    execFileSync('cp', ['-a', a, b]);
    execFileSync('sync');
    // our runs keep their local state (schedule, digest totals) in the bench's temp dir, not in ~/.local/state
    const runOurs = () =>
      timed(...ourCli(a, s.task), { env: { ...process.env, XDG_STATE_HOME: path.join(base, 'state') } });
    const runBase = () => timed(...s.baseline(b));
    let o, f;
    if (round % 2 === 0) {
      o = runOurs();
      execFileSync('sync');
      f = runBase();
    } else {
      f = runBase();
      execFileSync('sync');
      o = runOurs();
    }
    ours.push(o.ms);
    baseline.push(f.ms);
    rss = Math.max(rss, o.rssKB);
    baseRss = Math.max(baseRss, f.rssKB ?? 0);
    extra = s.check(a, b, JSON.parse(o.stdout));
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
  const o = median(ours);
  const f = median(baseline);
  return {
    ...s,
    ours: o,
    base: f,
    ratio: o / f,
    rssMB: rss / 1024,
    baseRssMB: baseRss / 1024,
    runs: { ours, baseline },
    extra,
  };
}

function equalCounts(dirsA, dirsB) {
  for (const [x, y] of dirsA.map((d, i) => [d, dirsB[i]]))
    if (count(x) !== count(y)) throw new Error(`unequal results: ${x} has ${count(x)}, ${y} has ${count(y)}`);
}

/** 10,000 rollback-style folders of 10 files each; every other one 30 days old (name and mtimes), the rest 1 day. */
function buildRollbackTree(shared) {
  const root = path.join(shared, '.rollback');
  mkdirSync(root, { recursive: true });
  for (let i = 0; i < 10_000; i++) {
    const t = NOW - (i % 2 ? 30 : 1) * DAY;
    const dir = path.join(root, `decision-${i}_${isoDashed(t)}`);
    mkdirSync(dir);
    for (let f = 0; f < 10; f++) {
      const file = path.join(dir, `f${f}.json`);
      writeFileSync(file, JSON.stringify({ decisionId: i, f }));
      utimesSync(file, t / 1000, t / 1000);
    }
    utimesSync(dir, t / 1000, t / 1000);
  }
}

/** The 100,000- and 20,000-message inboxes of the timing rows (bench/memory.mjs builds them). */
const inboxOf = (total, due) => (shared) => buildInbox(shared, total, due, 20, NOW);

const naiveArchive = (shared) => [process.execPath, [path.join(HERE, 'naiveArchive.mjs'), shared]];
const opened = (doc) => doc.tasks[0].rules.find((r) => r.rule === 'messages-archive').actions.length;

const NOTE_MESSAGES =
  "The message rows compare with the floor of any archiver that writes RooSync's format: a naive script that reads each due message, rewrites it into archive/ with `status: \"archived\"` and unlinks it (`mv` would be faster but cannot write the status RooSync reads). Ours also checks each file against RooSync's read rules, writes through a temporary file and a rename, updates the sent copy, and makes each file and folder durable (fsync) before the inbox copy goes; the naive script does none of that. On the 100,000-message inbox most of both runs is listing the folder and Node's start-up.";

/** Archiving RooSync's way against moving the due files with find + mv; also checks only the due files were opened. */
function archiveScenario(total, due, target) {
  const fmt = (n) => n.toLocaleString('en-US');
  return {
    name: `messages-archive: ${fmt(total)}-message inbox, ${(100 * due) / total} % due`,
    task: 'messages-archive',
    build: inboxOf(total, due),
    baseline: naiveArchive,
    baselineText: 'a naive node script: read each due message, rewrite it into archive/ as archived, unlink it',
    check: (a, b, doc) => {
      const folders = (root) => [path.join(root, 'messages', 'inbox'), path.join(root, 'messages', 'archive')];
      // our run also sends its digest (inbox + sent copy); the bench store has no sent/ of its own
      const ours = (dir) => (existsSync(dir) ? count(dir) : 0);
      const inboxA = count(folders(a)[0]) - ours(path.join(a, 'messages', 'sent'));
      if (inboxA !== count(folders(b)[0]))
        throw new Error(`unequal inboxes: ours ${inboxA}, baseline ${count(folders(b)[0])}`);
      equalCounts([folders(a)[1]], [folders(b)[1]]);
      if (opened(doc) !== due) throw new Error(`opened ${opened(doc)} files, expected the ${fmt(due)} due`);
      return `files opened: ${fmt(opened(doc))} (due: ${fmt(due)}; undatable: 0)`;
    },
    target,
  };
}

const SCENARIOS = [
  {
    name: 'rollback-cleanup: 100,000 files in 10,000 folders, half expired',
    task: 'rollback-cleanup',
    build: buildRollbackTree,
    baseline: (shared) => [
      'find',
      [
        path.join(shared, '.rollback'),
        '-mindepth',
        '1',
        '-maxdepth',
        '1',
        '-mtime',
        '+7',
        '-exec',
        'rm',
        '-rf',
        '{}',
        '+',
      ],
    ],
    baselineText: 'find -mindepth 1 -maxdepth 1 -mtime +7 -exec rm -rf {} +',
    check: (a, b) => equalCounts([path.join(a, '.rollback')], [path.join(b, '.rollback')]),
    target: 1.5,
    rssTarget: 200,
  },
  archiveScenario(100_000, 1_000, 2),
  archiveScenario(20_000, 10_000, 1.1),
];

const base = await mkdtemp(path.join(os.tmpdir(), 'roosync-maint-bench-'));
try {
  process.stderr.write(`bench in ${base} (${ROUNDS} rounds; BENCH_ROUNDS and BENCH_ONLY to change)\n`);
  const results = [];
  for (const s of SCENARIOS.filter((x) => !ONLY || x.name.includes(ONLY))) results.push(await scenario(base, s));
  const fleetRows = [];
  const profiles = [];
  let plainBin;
  const verdict = (ok) => (ok ? 'ok' : 'MISSED');
  if (!ONLY || 'fleet'.includes(ONLY)) {
    process.stderr.write('  fleet: 20 machines at once\n');
    const many = await manyMachines(base);
    fleetRows.push(
      `| ${many.name} | ${many.landedFirst}/${many.n} status files landed in the first round (target: all) ${verdict(many.landedFirst === many.n)}; ${(many.oursMs / 1000).toFixed(1)} s until all ${many.landed} landed (${many.rounds} round${many.rounds > 1 ? 's' : ''}; ${many.retries} push retries; ${many.leaders} leader, ${many.terms} term) | ${(many.plainMs / 1000).toFixed(1)} s: 20 × \`commit; until push; do pull --rebase; done\` (${many.plainRetries} retries) | ${many.ratio.toFixed(2)}× (target ≤ 3×) ${verdict(many.ratio <= 3)} |`,
    );
    process.stderr.write('  fleet: 100 machines on their phases\n');
    const hundred = await hundredMachines(base);
    fleetRows.push(
      `| 100 machines, each ticking once at its phase of the interval (simulated clock, 4 processes at a time, real git) | ${hundred.landed}/${hundred.n} status files landed in ${hundred.rounds} round${hundred.rounds > 1 ? 's' : ''} (target: ≤ 2) ${verdict(hundred.landed === hundred.n && hundred.rounds <= 2)}; ${(hundred.ms / 1000).toFixed(0)} s | — | — |`,
    );
    process.stderr.write('  fleet: a day of a 6-machine fleet\n');
    const day = await historyDay(base);
    fleetRows.push(
      `| commits added to main by 6 machines at the defaults in one simulated day (${day.ticks} scheduled ticks, ${day.quiet} of them quiet) | ${day.perDay} commits (target ≤ 60) ${verdict(day.perDay <= 60)} | ${day.oldPerDay} commits/day: the same fleet committing its status every tick as before (6 h measured, × 4) | ${(day.perDay / day.oldPerDay).toFixed(2)}× |`,
    );
    process.stderr.write('  fleet: failover, idle tick, hook\n');
    const f = await failover(base);
    const idle = await idleTickAndHook(base);
    fleetRows.push(
      `| a scheduled tick with nothing due, in CPU (user + system, git included; median of ${idle.rounds}) | ${(idle.quietCpu * 1000).toFixed(0)} ms (quiet tick; ${idle.quietWallMs.toFixed(0)} ms wall) | ${(idle.floorCpu * 1000).toFixed(0)} ms: \`node -e 0; git fetch; git status\` on an identical clone | ${(idle.quietCpu / idle.floorCpu).toFixed(2)}× (target ≤ 1.5×) ${verdict(idle.quietCpu <= 1.5 * idle.floorCpu)} |`,
    );
    fleetRows.push(
      `| the same tick forced to run in full (its quiet record removed), in CPU | ${(idle.fullCpu * 1000).toFixed(0)} ms | ${(idle.floorCpu * 1000).toFixed(0)} ms: the same floor | ${(idle.fullCpu / idle.floorCpu).toFixed(2)}× (target ≤ 3×) ${verdict(idle.fullCpu <= 3 * idle.floorCpu)} |`,
    );
    const parts = idle.packagesCpu + idle.gitCpu;
    fleetRows.push(
      `| the least any full tick that commits can cost, in CPU: node with the four packages the project must use (zod, pino, simple-git, proper-lockfile; bundled as the CLI is, each used once) plus the 13 git calls such a tick makes, each measured alone (\`bench/fixedPackages.mjs\`, \`FULL_TICK_GIT\` in \`bench/fleet.mjs\`) | ${(parts * 1000).toFixed(0)} ms (packages ${(idle.packagesCpu * 1000).toFixed(0)} ms, git ${(idle.gitCpu * 1000).toFixed(0)} ms), before any of roosync-maint's own code | ${(idle.floorCpu * 1000).toFixed(0)} ms: the same floor | ${(parts / idle.floorCpu).toFixed(2)}× (what the 3× target leaves roosync-maint's own work: ${((3 * idle.floorCpu - parts) * 1000).toFixed(0)} ms) |`,
    );
    fleetRows.push(
      `| the same two ticks from the unbundled build (tsc's ES modules, dependencies from node_modules: what \`npm run build\` made before it bundled the CLI), in CPU | quiet ${(idle.plainQuietCpu * 1000).toFixed(0)} ms, full ${(idle.plainFullCpu * 1000).toFixed(0)} ms | the bundle above: quiet ${(idle.quietCpu * 1000).toFixed(0)} ms, full ${(idle.fullCpu * 1000).toFixed(0)} ms | bundle / unbundled: quiet ${(idle.quietCpu / idle.plainQuietCpu).toFixed(2)}×, full ${(idle.fullCpu / idle.plainFullCpu).toFixed(2)}× |`,
    );
    plainBin = idle.plainBin;
    fleetRows.push(
      `| the post-merge hook's return time (median of ${idle.rounds}) | ${idle.hookMs.toFixed(0)} ms (target < 200 ms) ${verdict(idle.hookMs < 200)} | ${idle.emptyHookMs.toFixed(0)} ms: an empty hook | ${(idle.hookMs / idle.emptyHookMs).toFixed(1)}× |`,
    );
    fleetRows.push(
      `| ${f.name} | ${f.failoverMin} min from the last renewal to ${f.newLeader} holding term ${f.term} = ${f.lease.toFixed(2)}× lease | design bound: 1 lease + 1 tick = ${f.bound.toFixed(2)}× lease | ${(f.lease / f.bound).toFixed(2)} of the bound ${verdict(f.lease <= f.bound)} |`,
    );
    const silent = await silentGitCall(base);
    fleetRows.push(
      `| one git call that prints nothing, through simple-git (mean of ${silent.calls}) | ${silent.traceMs.toFixed(1)} ms with \`GIT_TRACE=1\`, as roosync-maint runs git | ${silent.plainMs.toFixed(1)} ms: simple-git as configured by default (its 50 ms wait after a silent process) | ${(silent.traceMs / silent.plainMs).toFixed(2)}× |`,
    );
    profiles.push(
      `CPU profiles (\`node --cpu-prof\`, self time by package or module, top 5) — quiet tick: ${idle.quietProfile.totalMs.toFixed(0)} ms sampled: ${idle.quietProfile.top}. Full tick with nothing due: ${idle.fullProfile.totalMs.toFixed(0)} ms sampled: ${idle.fullProfile.top}.`,
    );
  }
  const memory = [];
  if (!ONLY || 'memory'.includes(ONLY)) {
    const help = helpAndStart(11, plainBin);
    const plainHelp = help.plainHelpMs ? `; unbundled build ${help.plainHelpMs.toFixed(0)} ms` : '';
    fleetRows.push(
      `| \`roosync-maint --help\`, in CPU (median of ${help.rounds}) | ${help.helpMs.toFixed(0)} ms${plainHelp} | ${help.nodeMs.toFixed(0)} ms: \`node -e 0\` | ${(help.helpMs / help.nodeMs).toFixed(2)}× (target ≤ 2×) ${verdict(help.helpMs <= 2 * help.nodeMs)} |`,
    );
    const sizes = (process.env.BENCH_MEMORY_SIZES ?? '100000,200000,1000000').split(',').map(Number);
    for (const r of await memoryRows(sizes))
      memory.push(
        `| messages-archive, ${r.n.toLocaleString('en-US')}-message inbox, 1 % due | ${r.plain.rssMB.toFixed(0)} MB | ${r.json.rssMB.toFixed(0)} MB (document ${(r.json.stdoutKB / 1024).toFixed(1)} MB) | ${r.floor.toFixed(0)} MB | ${(r.plain.rssMB / r.floor).toFixed(2)}× / ${(r.json.rssMB / r.floor).toFixed(2)}× (target < 300 MB) ${verdict(r.plain.rssMB < 300 && r.json.rssMB < 300)} |`,
      );
  }
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${(r.ours / 1000).toFixed(2)} s | ${(r.base / 1000).toFixed(2)} s (\`${r.baselineText}\`) | ${r.ratio.toFixed(2)}× (target ≤ ${r.target}×) ${verdict(r.ratio <= r.target)} | ${r.rssMB.toFixed(0)} MB${r.rssTarget ? ` (target < ${r.rssTarget} MB) ${verdict(r.rssMB < r.rssTarget)}` : ''}; baseline ${r.baseRssMB ? `${r.baseRssMB.toFixed(0)} MB` : 'n/a'} | ${r.extra ?? ''} |`,
  );
  const table = [
    '# roosync-maint benchmarks',
    '',
    `Measured ${new Date().toISOString()} on ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}. Median of ${ROUNDS} rounds. Each round builds the tree, makes an identical copy (\`cp -a\`), flushes both to disk (\`sync\`: otherwise the writeback of the new files lands on whichever command runs first), runs our CLI as a separate process on one and the baseline on the other (alternating which goes first, with a \`sync\` between), and checks both ended with the same file counts. Reproduce: \`npm run bench\` (\`BENCH_ROUNDS=5\`, \`BENCH_ONLY=messages\` to vary).`,
    '',
    '| scenario | ours | baseline | ratio | peak RSS (whole process) | notes |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    ...(results.some((r) => r.task === 'messages-archive') ? [NOTE_MESSAGES, ''] : []),
    ...(memory.length
      ? [
          '## Memory',
          '',
          "Peak RSS of one archive run (`run --no-sync --leader --task messages-archive`) beside the naive floor (`bench/naiveArchive.mjs`: `readdirSync` + read, rewrite, unlink each due message), both from GNU time: a process's own maxRSS on Linux starts at the RSS of the process that forked it, so a bench that has grown would inflate every child measured in-process (`bench/peakRss.mjs`). Reproduce: `node bench/memory.mjs 100000 200000 1000000`.",
          '',
          '| scenario | ours | ours with `--json` | naive floor | ratio (plain / json) |',
          '|---|---|---|---|---|',
          ...memory,
          '',
        ]
      : []),
    ...(fleetRows.length
      ? [
          '## Fleet',
          '',
          '| scenario | roosync-maint | reference | ratio |',
          '|---|---|---|---|',
          ...fleetRows,
          '',
          'Each roosync-maint tick is a CLI process. A full tick: start-up, fetch, rebase, election, the due tasks, a commit only if there is something new, a push only if there is a commit, lost races retried (fetch + rebase + push, small jitter) until the push budget. A quiet tick (nothing due, nothing changed since the last clean tick): start-up, `git rev-parse`, `git status`, `git fetch`, without loading the logger, the config schema or git libraries.',
          '',
          ...profiles,
          '',
        ]
      : []),
    ...results.map(
      (r) =>
        `Raw runs (ms) — ${r.name}: ours ${r.runs.ours.map((x) => x.toFixed(0)).join(', ')}; baseline ${r.runs.baseline.map((x) => x.toFixed(0)).join(', ')}`,
    ),
    '',
  ].join('\n');
  if (!ONLY) await writeFile(path.join(HERE, 'results.md'), table);
  process.stdout.write(table);
} finally {
  await rm(base, { recursive: true, force: true });
}
