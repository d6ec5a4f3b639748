import { spawn } from 'node:child_process';
import path from 'node:path';
import { tempDir } from './helpers.js';
import { createFleet, type Fleet } from '../src/demo/fleet.js';

export { git, leaseHistory, remoteFile, type Fleet } from '../src/demo/fleet.js';

export const BIN = path.resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

/** A fleet in a temp dir removed after the test file. */
export async function makeFleet(n: number, seed?: (seedDir: string) => void | Promise<void>): Promise<Fleet> {
  return createFleet(await tempDir('fleet'), n, seed);
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
    env: { PATH: process.env.PATH, HOME: fleet.base, RM_LOCAL: fleet.local(machine), ROOSYNC_MAINT_NOW: String(now), ROOSYNC_MAINT_LOCK_STALE_MS: '5000', ...opts.env },
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

