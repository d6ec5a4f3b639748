import { writeStatus } from '../src/report/status.js';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll } from 'vitest';
import { main } from '../src/cli/main.js';

export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
export const DAY = 86_400_000;

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temp dir removed after the test file. */
export async function tempDir(label = 't'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `roosync-maint-test-${label}-`));
  made.push(dir);
  return dir;
}

/** Every path under `dir` with its type, size, mtime, content hash or link target: equal snapshots = byte-for-byte unchanged. */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (abs: string, rel: string) => {
    for (const e of await readdir(abs, { withFileTypes: true })) {
      const a = path.join(abs, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = await lstat(a);
      if (st.isSymbolicLink()) out[r] = `link:${await readlink(a)}`;
      else if (st.isDirectory()) {
        out[r] = `dir:${st.mtimeMs}`;
        await walk(a, r);
      } else
        out[r] = `file:${st.size}:${st.mtimeMs}:${createHash('sha1')
          .update(await readFile(a))
          .digest('hex')}`;
    }
  };
  await walk(dir, '');
  return out;
}

export async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

let isolatedHome: string | undefined;

/** An environment whose HOME and state folder are this test file's temp dir: a CLI run writes nowhere else. */
export async function isolatedEnv(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  isolatedHome ??= await tempDir('home');
  return { PATH: process.env.PATH, HOME: isolatedHome, XDG_STATE_HOME: path.join(isolatedHome, 'state'), ...extra };
}

/** Runs the CLI in-process (logs silenced unless asked for) with an isolated environment. */
export async function cli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; now?: number } = {},
): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const leveled = args.some((a) => ['--log-level', '-q', '-v', '-vv', '--quiet', '--verbose'].includes(a));
  const withLevel = leveled ? args : [...args, '--log-level', 'silent'];
  const env = await isolatedEnv(opts.env);
  const code = await main(withLevel, { stdout, stderr, env, cwd: opts.cwd ?? env.HOME!, now: () => opts.now ?? NOW });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Polls `check` until it holds or `ms` pass (for work a background process does). */
export async function until(check: () => boolean, ms = scaled(20_000)): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/** A timeout for a slow or loaded machine: ROOSYNC_TEST_TIMEOUT_SCALE multiplies it (no assertion changes). */
export function scaled(ms: number): number {
  return ms * Math.max(1, Number(process.env.ROOSYNC_TEST_TIMEOUT_SCALE ?? 1) || 1);
}

/**
 * Another machine's status file, written at `at`: the fleet is alive and its clock says `at`. Fleet tasks
 * judge ages by the fleet's clock (src/report/fleetClock.ts); a shared state with no evidence newer than a
 * day would make them wait.
 */
export function fleetAliveAt(sharedState: string, at: number, machine = 'myia-po-2023'): void {
  writeStatus(sharedState, {
    machine,
    version: '0.1.0',
    lastTickAt: new Date(at).toISOString(),
    lastSuccessAt: new Date(at).toISOString(),
    offline: false,
    leader: { isLeader: false, term: null, reason: 'follower' },
    tasks: [],
    failed: [],
  });
}

/**
 * This machine's own config (config/layers.ts), written into `dir` as `machine.jsonc`: where a test puts the
 * commands, local paths and hosts the machine itself approves. Returns the env that points a run at it.
 */
export function machineConfig(dir: string, config: unknown): { ROOSYNC_MAINT_MACHINE_CONFIG: string } {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'machine.jsonc');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { ROOSYNC_MAINT_MACHINE_CONFIG: file };
}

/** A neglected shared state and local folders of one machine (demo/agedTree.ts), its config written; CLI args. */
export async function agedFleetDir(label = 'cli') {
  const { buildAgedTree } = await import('../src/demo/agedTree.js');
  const base = await tempDir(label);
  const tree = await buildAgedTree({
    sharedState: path.join(base, 'shared'),
    local: path.join(base, 'local'),
    machines: ['myia-ai-01'],
    now: NOW,
  });
  await writeFile(path.join(tree.sharedState, '.maintenance-config.json'), JSON.stringify(tree.config));
  return { base, tree, args: ['--shared-state', tree.sharedState, '--machine', 'myia-ai-01'] };
}
