import { createHash } from 'node:crypto';
import { pathKey } from '../util/paths.js';
import { mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import { errorCode } from '../errors.js';
import { rotateLogFile, type Logger } from '../log.js';
import { writeFileAtomic } from '../util/fs.js';
import { parseUntrusted, UNTRUSTED_LIMITS } from '../util/untrustedJson.js';
import type { ConfigLayers } from '../config/load.js';
import { TRUST_FILE } from '../config/trustStore.js';

/**
 * The git dir of the clone holding a folder, found as git finds it (a `.git` folder, or a `.git` file's
 * `gitdir:` line, from the folder up), without running git: for placing the local log before the clone is opened.
 */
export function findGitDir(folder: string): string | undefined {
  for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
    const dotGit = path.join(dir, '.git');
    try {
      if (statSync(dotGit).isDirectory()) return dotGit;
      const line = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
      if (line) return path.resolve(dir, line);
    } catch {
      // no .git here
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The JSON log of every run on this machine for this shared state (rotated at 1 MiB, three kept). */
export function localLogFile(sharedState: string, env: NodeJS.ProcessEnv): string {
  return path.join(localStateDir(sharedState, findGitDir(sharedState), env), LOCAL_LOGS.runs);
}

/** The log files in the local state folder: every run's JSON, and the stderr of scheduled and hook runs. */
export const LOCAL_LOGS = { runs: 'roosync-maint.log', schedule: 'schedule.log', hooks: 'hook.log' } as const;

/**
 * The schedule's and the hooks' stderr logs are appended by a shell, which cannot rotate them: each run that
 * opens the run log rotates them too (a shell still writing the old one finishes in `.1`, the next starts anew).
 */
export function rotateStderrLogs(stateDir: string): void {
  for (const name of [LOCAL_LOGS.schedule, LOCAL_LOGS.hooks]) rotateLogFile(path.join(stateDir, name));
}

/** Our own local files may grow larger than shared ones (histories), never deeper. */
const LOCAL_LIMITS = { ...UNTRUSTED_LIMITS, maxBytes: 64 * 1024 * 1024 };

/**
 * This machine's own state (lock, lease observations, schedule): never synced, never inside
 * the shared tree. Under the clone's git dir when there is one, else an OS state folder.
 */
export function localStateDir(sharedState: string, gitDir: string | undefined, env: NodeJS.ProcessEnv): string {
  if (gitDir) return path.join(gitDir, 'roosync-maint');
  const base =
    env.XDG_STATE_HOME ??
    (process.platform === 'win32' ? (env.LOCALAPPDATA ?? os.tmpdir()) : path.join(os.homedir(), '.local', 'state'));
  return path.join(
    base,
    'roosync-maint',
    createHash('sha1')
      .update(pathKey(path.resolve(sharedState)))
      .digest('hex')
      .slice(0, 12),
  );
}

/** Where this machine's config and its approvals of the fleet config are, for the config loaders. */
export function configLayersFor(sharedState: string, machineFile: string, env: NodeJS.ProcessEnv): ConfigLayers {
  return { machineFile, trustFile: path.join(localStateDir(sharedState, findGitDir(sharedState), env), TRUST_FILE) };
}

/** Reads a local state file; a corrupt one is moved aside (kept for inspection) and rebuilt, never a reason to stop. */
export function readState<T>(file: string, schema: z.ZodType<T>, log: Logger): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = parseUntrusted(text, schema, LOCAL_LIMITS);
  if (parsed.ok) return parsed.value;
  const aside = `${file}.corrupt-${Date.now()}`;
  renameSync(file, aside);
  log.warn({ file, movedTo: aside, reason: parsed.reason }, 'corrupt local state moved aside and rebuilt');
  return undefined;
}

export function writeState(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** One local state file: load (a damaged one moved aside, then `fallback`) and save (atomically). */
export interface StateFile<T, F> {
  load(): T | F;
  save(value: T): void;
}

export function stateFile<T, F>(file: string, schema: z.ZodType<T>, log: Logger, fallback: () => F): StateFile<T, F> {
  return { load: () => readState(file, schema, log) ?? fallback(), save: (value) => writeState(file, value) };
}
