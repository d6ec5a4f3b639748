import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { makeMessage } from '../src/demo/messages.js';
import path from 'node:path';
import { tempDir } from './helpers.js';
import { createFleet, git, type Fleet } from '../src/demo/fleet.js';

export { git, leaseHistory, remoteFile, type Fleet } from '../src/demo/fleet.js';

export const BIN = path.resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

/** A fleet in a temp dir removed after the test file. */
export async function makeFleet(n: number, seed?: (seedDir: string) => void | Promise<void>): Promise<Fleet> {
  return createFleet(await tempDir('fleet'), n, seed);
}

export interface TickRun {
  code: number | null;
  doc:
    | {
        leader: { isLeader: boolean; term: number | null; reason: string };
        offline: boolean;
        pushed: boolean;
        pushRetries: number;
        committed: boolean;
        quiet?: boolean;
        notes: string[];
        tasks: { task: string; status: string; reason?: string }[];
      }
    | undefined;
  stderr: string;
}

export interface TickOptions {
  tasks?: string[];
  env?: NodeJS.ProcessEnv;
  args?: string[];
  /** Another folder than the machine's clone (a plain folder). */
  sharedState?: string;
}

/** Starts one tick of the real CLI as a separate process, on the machine's clock `now`. */
export function startTick(fleet: Fleet, machine: string, now: number, opts: TickOptions = {}) {
  const args = [
    BIN,
    'run',
    '--json',
    '--shared-state',
    opts.sharedState ?? fleet.dir(machine),
    '--machine',
    machine,
    '--log-level',
    'warn',
    ...(opts.tasks ?? ['rollback-cleanup']).flatMap((t) => ['--task', t]),
    ...(opts.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH,
      HOME: fleet.base,
      ...fleet.localEnv(machine),
      ROOSYNC_MAINT_NOW: String(now),
      ROOSYNC_MAINT_LOCK_STALE_MS: '5000',
      ...opts.env,
    },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<TickRun>((resolve) => {
    child.on('exit', (code) => {
      let doc: TickRun['doc'];
      try {
        doc = JSON.parse(out);
      } catch {
        doc = undefined;
      }
      resolve({ code, doc, stderr: err });
    });
  });
  return { child, done };
}

/** One tick of the real CLI as a separate process, on the machine's clock `now`. */
export function tick(fleet: Fleet, machine: string, now: number, opts: TickOptions = {}): Promise<TickRun> {
  return startTick(fleet, machine, now, opts).done;
}

/** Where each message of the remote's main lives: id → the folders holding it. */
export function remoteMessages(fleet: Fleet): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of git(fleet.remote, 'ls-tree', '-r', '--name-only', 'main', 'messages/').split('\n')) {
    const m = /^messages\/(inbox|archive)\/(.+)\.json$/.exec(p);
    if (m) out.set(m[2]!, [...(out.get(m[2]!) ?? []), m[1]!]);
  }
  return out;
}

/** Files of a clone (its .git aside) holding git conflict markers. */
export function conflictMarkers(dir: string): string[] {
  try {
    return execFileSync('grep', ['-rlE', '--exclude-dir=.git', '^(<<<<<<<|>>>>>>>) ', dir], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch {
    return []; // grep found nothing
  }
}

/**
 * The clone has caught up with the remote: no commit of its own that the remote lacks (it may be behind
 * the pushes of machines that ticked after it), and no uncommitted message change.
 */
export function convergedWithRemote(fleet: Fleet, machine: string): { same: boolean; dirty: string } {
  const dir = fleet.dir(machine);
  git(dir, 'fetch', '-q');
  const same = git(dir, 'rev-list', '--count', 'origin/main..HEAD').trim() === '0';
  return { same, dirty: git(dir, 'status', '--porcelain', '--', 'messages').trim() };
}

/** The fleet tests' clock: 2026-11-23 12:00 UTC, and the message tasks they run. */
export const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
export const ARCHIVE_TASKS = ['inbox-hygiene', 'messages-archive'];

/** RooSync's markAsRead on a clone's work tree, uncommitted: the reader joins read_by and acknowledged_at. */
export function markRead(dir: string, id: string, reader: string, at: number): void {
  const file = path.join(dir, 'messages', 'inbox', `${id}.json`);
  const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const readBy = [...new Set([...((m.read_by as string[]) ?? []), reader])];
  const acked = { ...(m.acknowledged_at as object), [reader]: new Date(at).toISOString() };
  writeFileSync(file, JSON.stringify({ ...m, read_by: readBy, acknowledged_at: acked }, null, 2));
}

/**
 * A fresh message from a machine outside the test, dated `at`: the fleet's clock. Fleet tasks judge ages by
 * the newest evidence from other machines (src/report/fleetClock.ts); a lone leader on old messages alone
 * would rightly suspect its own clock.
 */
export function writeFleetClock(dir: string, at: number): void {
  const m = makeMessage(at, 0, { from: 'myia-po-2026:roo-extensions', to: 'myia-po-2026', status: 'read' });
  mkdirSync(path.join(dir, 'messages', 'inbox'), { recursive: true });
  writeFileSync(path.join(dir, 'messages', 'inbox', `${m.id}.json`), JSON.stringify(m, null, 2));
}
