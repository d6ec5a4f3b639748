// Peak memory of archiving a large inbox, ours beside the naive floor, at several sizes (issue 29).
// node bench/memory.mjs [sizes…]   e.g. node bench/memory.mjs 100000 200000 1000000
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { cpuOf } from './fleet.mjs';
import { runMeasured } from './peakRss.mjs';

const HERE = import.meta.dirname;
export const NOW = Date.UTC(2026, 11, 1);
const DAY = 86_400_000;
const compact = (ms) => new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 15);

/**
 * An inbox of `total` RooSync messages, `due` of them from 2025 (past any archive limit), the rest from the last
 * 10 days before `now`; `padding` repeats of a sentence make the body longer.
 */
export function buildInbox(shared, total, due = total / 100, padding = 0, now = NOW) {
  const inbox = path.join(shared, 'messages', 'inbox');
  mkdirSync(inbox, { recursive: true });
  mkdirSync(path.join(shared, 'messages', 'archive'), { recursive: true });
  const every = total / due;
  for (let i = 0; i < total; i++) {
    const created = i % every === 0 ? Date.UTC(2025, 5, 1) + i * 1000 : now - (i % 10) * DAY - i * 1000;
    const id = `msg-${compact(created)}-${i.toString(36).padStart(6, '0')}`;
    const m = {
      id,
      from: 'myia-po-2023:roo-extensions',
      to: 'all',
      subject: `Status ${i}`,
      body: `## Report ${i}\n\n${'All good. '.repeat(padding || 1)}`,
      priority: 'MEDIUM',
      timestamp: new Date(created).toISOString(),
      status: i % 2 ? 'read' : 'unread',
      ...(padding && { tags: ['status'] }),
    };
    writeFileSync(path.join(inbox, `${id}.json`), padding ? JSON.stringify(m, null, 2) : JSON.stringify(m));
  }
}

/** Peak RSS (MB) of one of our runs, from GNU time (peakRss.mjs: a child's own maxRSS starts at its parent's). */
function ours(shared, state, json) {
  const args = [path.join(HERE, '..', 'dist', 'cli', 'main.js'), 'run', '--no-sync', '--leader', '--task'];
  args.push('messages-archive', '--shared-state', shared, '--machine', 'bench', '--log-level', 'warn');
  if (json) args.push('--json');
  const r = runMeasured(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, XDG_STATE_HOME: state, ROOSYNC_MAINT_NOW: String(NOW) },
  });
  if (r.status !== 0) throw new Error(`our run exited ${r.status}: ${r.stderr}`);
  return { rssMB: r.rssKB / 1024, stdoutKB: Buffer.byteLength(r.stdout) / 1024 };
}

/** The naive floor's peak RSS, from GNU time. */
function naive(shared) {
  const r = runMeasured(process.execPath, [path.join(HERE, 'naiveArchive.mjs'), shared]);
  if (r.status !== 0) throw new Error(`naive run exited ${r.status}: ${r.stderr}`);
  return r.rssKB / 1024;
}

/** CPU (user + system) of `--help` beside `node -e 0`, median of `rounds`. */
/**
 * `--help` and `node -e 0` in CPU, to the millisecond (GNU time's 10 ms steps would round both), in a clean
 * environment (a NODE_EXTRA_CA_CERTS in the bench's own adds the same ~30 ms to both and flatters the ratio);
 * `plainBin`, the unbundled build's CLI, beside them when given.
 */
export function helpAndStart(rounds = 11, plainBin = undefined) {
  const env = { PATH: process.env.PATH, HOME: os.tmpdir() };
  const cpu = (args) => {
    const all = [];
    for (let i = 0; i < rounds; i++) all.push(cpuOf(process.execPath, args, { env }) * 1000);
    return all.sort((a, b) => a - b)[Math.floor(rounds / 2)];
  };
  const nodeMs = cpu(['-e', '0']);
  const helpMs = cpu([path.join(HERE, '..', 'dist', 'cli', 'main.js'), '--help']);
  const plainHelpMs = plainBin ? cpu([plainBin, '--help']) : undefined;
  return { nodeMs, helpMs, plainHelpMs, rounds };
}

export async function memoryRows(sizes) {
  const base = await mkdtemp(path.join(os.tmpdir(), 'roosync-maint-mem-'));
  const rows = [];
  try {
    for (const n of sizes) {
      process.stderr.write(`  memory: ${n.toLocaleString('en-US')} messages: building\n`);
      const a = path.join(base, 'a');
      buildInbox(a, n);
      const b = path.join(base, 'b');
      const c = path.join(base, 'c');
      execFileSync('cp', ['-a', a, b]);
      execFileSync('cp', ['-a', a, c]);
      process.stderr.write('  memory: running\n');
      const plain = ours(a, path.join(base, 'state-a'), false);
      const json = ours(b, path.join(base, 'state-b'), true);
      const floor = naive(c);
      const left = (d) => readdirSync(path.join(d, 'messages', 'inbox')).length;
      const dueLeft = [a, b, c].map(left);
      rows.push({ n, plain, json, floor, dueLeft });
      for (const d of [a, b, c, path.join(base, 'state-a'), path.join(base, 'state-b')])
        await rm(d, { recursive: true, force: true });
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = process.argv.slice(2).map(Number);
  const rows = await memoryRows(sizes.length ? sizes : [100_000, 200_000, 1_000_000]);
  for (const r of rows)
    console.log(
      `${r.n}: ours ${r.plain.rssMB.toFixed(0)} MB, ours --json ${r.json.rssMB.toFixed(0)} MB (${r.json.stdoutKB.toFixed(0)} KB document), naive ${r.floor.toFixed(0)} MB; inbox left ${r.dueLeft.join('/')}`,
    );
}
