// npm run bench — every figure is compared with a baseline measured in the same run, on an identical copy.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const HERE = import.meta.dirname;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DAY = 86_400_000;

function isoDashed(ms) {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

async function pool(items, n, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (i < items.length) await fn(items[i++]); }));
}

/** 10,000 rollback-style folders of 10 files each; every other one 30 days old (name and mtimes), the rest 1 day. */
async function buildRollbackTree(shared, folders = 10_000, filesPer = 10) {
  const root = path.join(shared, '.rollback');
  await mkdir(root, { recursive: true });
  const now = Date.now();
  await pool([...Array(folders).keys()], 32, async (i) => {
    const t = now - (i % 2 ? 30 : 1) * DAY;
    const dir = path.join(root, `decision-${i}_${isoDashed(t)}`);
    await mkdir(dir);
    for (let f = 0; f < filesPer; f++) {
      const file = path.join(dir, `f${f}.json`);
      await writeFile(file, JSON.stringify({ decisionId: i, f }));
      await utimes(file, t / 1000, t / 1000);
    }
    await utimes(dir, t / 1000, t / 1000);
  });
  return root;
}

const hasGnuTime = existsSync('/usr/bin/time');

function timed(cmd, args, opts = {}) {
  const wrapped = hasGnuTime && !opts.rssFromFd3 ? ['/usr/bin/time', ['-f', '%M', cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const r = spawnSync(wrapped[0], wrapped[1], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', opts.rssFromFd3 ? 'pipe' : 'ignore'], maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  let rssKB;
  if (opts.rssFromFd3) rssKB = JSON.parse(r.output[3]).maxRssKB;
  else if (hasGnuTime) rssKB = Number(r.stderr.trim().split('\n').pop());
  return { ms, rssKB };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function rollbackScenario(base) {
  const ours = [];
  const find = [];
  let rss = 0;
  let findRss = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const a = path.join(base, `ours-${round}`);
    const b = path.join(base, `find-${round}`);
    process.stderr.write(`  round ${round + 1}/${ROUNDS}: building 2 × 100,000 files…\n`);
    await buildRollbackTree(a);
    execFileSync('cp', ['-a', a, b]);
    // flush the 200,000 new files' dirty pages first: writeback would otherwise land on whichever command runs first
    execFileSync('sync');
    const runOurs = () => timed(process.execPath, [path.join(HERE, 'measure.mjs'), 'run', '--no-sync', '--leader', '--task', 'rollback-cleanup', '--shared-state', a, '--machine', 'bench', '--log-level', 'warn'], { rssFromFd3: true });
    const runFind = () => timed('find', [path.join(b, '.rollback'), '-mindepth', '1', '-maxdepth', '1', '-mtime', '+7', '-exec', 'rm', '-rf', '{}', '+']);
    // alternate which goes first, so neither always meets the colder cache
    let o, f;
    if (round % 2 === 0) {
      o = runOurs();
      execFileSync('sync');
      f = runFind();
    } else {
      f = runFind();
      execFileSync('sync');
      o = runOurs();
    }
    ours.push(o.ms);
    find.push(f.ms);
    rss = Math.max(rss, o.rssKB);
    findRss = Math.max(findRss, f.rssKB ?? 0);
    const left = execFileSync('sh', ['-c', `ls ${path.join(a, '.rollback')} | wc -l; ls ${path.join(b, '.rollback')} | wc -l`], { encoding: 'utf8' }).split('\n');
    if (left[0].trim() !== '5000' || left[1].trim() !== '5000') throw new Error(`unequal results: ours left ${left[0]}, find left ${left[1]}`);
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
  const o = median(ours);
  const f = median(find);
  return {
    name: 'rollback-cleanup: 100,000 files in 10,000 folders, half expired',
    baseline: 'find -mindepth 1 -maxdepth 1 -mtime +7 -exec rm -rf {} +',
    ours: o,
    base: f,
    ratio: o / f,
    target: 1.5,
    rssMB: rss / 1024,
    baseRssMB: findRss / 1024,
    rssTarget: 200,
    runs: { ours, find },
  };
}

const base = await mkdtemp(path.join(os.tmpdir(), 'roosync-maint-bench-'));
try {
  process.stderr.write(`bench in ${base} (${ROUNDS} rounds; BENCH_ROUNDS to change)\n`);
  const results = [await rollbackScenario(base)];
  const rows = results.map((r) => `| ${r.name} | ${(r.ours / 1000).toFixed(2)} s | ${(r.base / 1000).toFixed(2)} s (\`${r.baseline}\`) | ${r.ratio.toFixed(2)}× (target ≤ ${r.target}×) ${r.ratio <= r.target ? 'ok' : 'MISSED'} | ${r.rssMB.toFixed(0)} MB (target < ${r.rssTarget} MB) ${r.rssMB < r.rssTarget ? 'ok' : 'MISSED'}; find ${r.baseRssMB ? `${r.baseRssMB.toFixed(0)} MB` : 'n/a'} |`);
  const table = [
    `# roosync-maint benchmarks`,
    '',
    `Measured ${new Date().toISOString()} on ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}. Median of ${ROUNDS} rounds; each round builds two identical trees (the second a \`cp -a\` of the first), flushes them to disk (\`sync\`), runs our CLI as a separate process on one and the baseline on the other, alternating which goes first, and checks both left the same 5,000 folders. Reproduce: \`npm run bench\`.`,
    '',
    '| scenario | ours | baseline | ratio | peak RSS (whole process) |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    ...results.map((r) => `Raw runs (ms) — ${r.name}: ours ${r.runs.ours.map((x) => x.toFixed(0)).join(', ')}; baseline ${r.runs.find.map((x) => x.toFixed(0)).join(', ')}`),
    '',
  ].join('\n');
  await writeFile(path.join(HERE, 'results.md'), table);
  process.stdout.write(table);
} finally {
  await rm(base, { recursive: true, force: true });
}
