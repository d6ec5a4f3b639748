import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers.js';

export const BIN = path.resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

/** git with this test's own identity and no global or system config of the machine. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' } });
}

export interface Fleet {
  base: string;
  remote: string;
  machines: string[];
  dir: (machine: string) => string;
}

/** A bare remote seeded with a shared state, and `n` clones as machines `myia-m1`…, each with its own local folder. */
export async function makeFleet(n: number, seed: (seedDir: string) => void = () => undefined): Promise<Fleet> {
  const base = await tempDir('fleet');
  const remote = path.join(base, 'remote.git');
  git(base, 'init', '-q', '--bare', '-b', 'main', remote);
  const seedDir = path.join(base, 'seed');
  git(base, 'clone', '-q', remote, seedDir);
  git(seedDir, 'config', 'user.name', 'seed');
  git(seedDir, 'config', 'user.email', 'seed@test.invalid');
  // local tasks of every machine work in its own temp folder, never in the real OS temp dir
  writeFileSync(path.join(seedDir, '.maintenance-config.json'), JSON.stringify({ localLogs: { dirs: ['$RM_LOCAL/logs'] }, checkpoints: { roots: ['$RM_LOCAL/tasks'] }, localBackups: { files: ['$RM_LOCAL/mcp_settings.json'] }, election: { leaseSeconds: 3600 } }, null, 2));
  mkdirSync(path.join(seedDir, 'messages', 'inbox'), { recursive: true });
  writeFileSync(path.join(seedDir, 'messages', 'inbox', '.keep'), '');
  seed(seedDir);
  git(seedDir, 'add', '-A');
  git(seedDir, 'commit', '-q', '-m', 'seed');
  git(seedDir, 'push', '-q', 'origin', 'main');
  const machines = Array.from({ length: n }, (_, i) => `myia-m${i + 1}`);
  for (const m of machines) {
    git(base, 'clone', '-q', remote, path.join(base, m));
    mkdirSync(path.join(base, `${m}-local`, 'logs'), { recursive: true });
  }
  return { base, remote, machines, dir: (m) => path.join(base, m) };
}

export interface TickRun {
  code: number | null;
  doc: { leader: { isLeader: boolean; term: number | null; reason: string }; offline: boolean; pushed: boolean; pushRetries: number; notes: string[]; tasks: { task: string; status: string; reason?: string }[] } | undefined;
  stderr: string;
}

/** One tick of the real CLI as a separate process, on the machine's clock `now`. */
export function tick(fleet: Fleet, machine: string, now: number, opts: { tasks?: string[]; env?: NodeJS.ProcessEnv; args?: string[] } = {}): Promise<TickRun> {
  const args = [BIN, 'run', '--json', '--shared-state', fleet.dir(machine), '--machine', machine, '--log-level', 'warn', ...(opts.tasks ?? ['rollback-cleanup']).flatMap((t) => ['--task', t]), ...(opts.args ?? [])];
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, HOME: fleet.base, RM_LOCAL: path.join(fleet.base, `${machine}-local`), ROOSYNC_MAINT_NOW: String(now), ROOSYNC_MAINT_LOCK_STALE_MS: '5000', ...opts.env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => {
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
}

/** Every version the lease file had on the remote, oldest first. */
export function leaseHistory(fleet: Fleet): { holder: string; term: number; commit: string }[] {
  const commits = git(fleet.remote, 'log', '--reverse', '--format=%H', 'main', '--', 'maintenance/leader.json').trim().split('\n').filter(Boolean);
  return commits.flatMap((c) => {
    try {
      const r = JSON.parse(git(fleet.remote, 'show', `${c}:maintenance/leader.json`)) as { holder: string; term: number };
      return [{ holder: r.holder, term: r.term, commit: c }];
    } catch {
      return [];
    }
  });
}

export function remoteFile(fleet: Fleet, rel: string): string | undefined {
  try {
    return git(fleet.remote, 'show', `main:${rel}`);
  } catch {
    return undefined;
  }
}
