import { execFile } from 'node:child_process';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gitEnvironment } from '../git/environment.js';

/**
 * The quiet tick: most scheduled ticks find nothing due and nothing changed. Such a tick must cost
 * little more than starting node, one `git fetch` and one `git status`, so this module is the whole
 * of it: no logger, no config schema, no simple-git, no lock library, not even node:crypto (each costs
 * milliseconds of start-up that a quiet tick cannot afford); only node's own fs, path and child_process.
 *
 * A full tick that ended clean (synced, pushed, nothing failed) leaves a record: what it saw
 * (HEAD, the upstream, the config's bytes, the version) and `until`, the first moment anything
 * could become due (a task's interval, the heartbeat, the lease's renewal or a takeover, a machine
 * turning silent, the digest). A later scheduled tick is quiet only if all of that still holds:
 * same record inputs, the clock before `until`, no run in progress, a clean work tree, and a fetch
 * that brought nothing. Anything else — or any doubt, or any error — runs the full tick.
 */

export interface QuietRecord {
  version: string;
  machine: string;
  sharedState: string;
  /** The config file's text as the tick read it (`absent:<path>` when there was none): any edit means a full tick. */
  config: string;
  head: string;
  upstream: string;
  /** Epoch ms: the first moment something may be due. */
  until: number;
  /** Epoch ms, by the tick's clock. */
  writtenAt: number;
  /** Why `until` is what it is, for the operator ("health due 2026-…"). */
  untilReason: string;
  leader: { isLeader: boolean; term: number | null; reason: string };
}

export const QUIET_FILE = 'quiet.json';

/**
 * The config as the quiet check compares it: the text of the fleet config, the machine config and the
 * approvals (small files, and no secret lives in them), or their absence; a change to any runs the full tick.
 */
export function configFingerprint(files: readonly (string | undefined)[]): string {
  return files
    .flatMap((file) => {
      if (file === undefined) return [];
      try {
        return [`${file}\0${readFileSync(file, 'utf8')}`];
      } catch {
        return [`absent:${file}`];
      }
    })
    .join('\0');
}

function readQuietRecord(stateDir: string): QuietRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(path.join(stateDir, QUIET_FILE), 'utf8')) as Partial<QuietRecord>;
    const fields = [r.version, r.machine, r.sharedState, r.config, r.head, r.upstream, r.untilReason];
    if (fields.some((f) => typeof f !== 'string') || typeof r.until !== 'number' || typeof r.writtenAt !== 'number')
      return undefined;
    if (typeof r.leader?.isLeader !== 'boolean') return undefined;
    return r as QuietRecord;
  } catch {
    return undefined; // missing or damaged: a full tick writes a new one
  }
}

export interface Deadline {
  at: number;
  why: string;
}

/** The earliest of the deadlines (pure); none at all means nothing is ever due by time alone. */
export function earliest(deadlines: readonly Deadline[]): Deadline | undefined {
  return deadlines.reduce<Deadline | undefined>((a, d) => (a === undefined || d.at < a.at ? d : a), undefined);
}

interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

function git(cwd: string, args: string[], timeoutMs: number): Promise<GitRun> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      { cwd, env: gitEnvironment(process.env), timeout: timeoutMs, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * A quiet tick is a look at the lease too (nothing moved on the remote, so the lease is as last seen): it adds
 * to how long this machine has watched it unchanged, as the elector would (at most one step a look).
 */
function countLook(stateDir: string, now: number): void {
  const file = path.join(stateDir, 'lease-observation.json');
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as { lastSeen?: number; observedMs?: number; stepMs?: number };
    if (typeof o.lastSeen !== 'number' || typeof o.observedMs !== 'number') return;
    const step = Math.min(Math.max(0, now - o.lastSeen), o.stepMs ?? Number.POSITIVE_INFINITY);
    const next = { ...o, observedMs: o.observedMs + step, lastSeen: Math.max(now, o.lastSeen) };
    const tmp = `${file}.${process.pid}.roosync-maint.tmp`;
    writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
    renameSync(tmp, file);
  } catch {
    // no observation yet (or a damaged one): the next full tick judges afresh
  }
}

interface Tips {
  gitDir: string;
  head: string;
  upstream: string;
}

async function tipsFromGit(cwd: string, timeoutMs: number): Promise<Tips | undefined> {
  const refs = await git(cwd, ['rev-parse', '--absolute-git-dir', 'HEAD', '@{u}'], timeoutMs);
  if (refs.code !== 0) return undefined;
  const [gitDir = '', head = '', upstream = ''] = refs.stdout.trim().split('\n');
  return { gitDir, head, upstream };
}

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/**
 * HEAD and its upstream read from the clone's own files — one process fewer than `git rev-parse`, for the plain
 * layout only: a `.git` folder, HEAD on a branch whose upstream is `refs/remotes/<remote>/<branch>` by the default
 * refspec, loose or packed refs, no include in the config, no GIT_DIR. Anything else is undefined: git is asked.
 */
export function tipsFromFiles(sharedState: string, env: NodeJS.ProcessEnv = process.env): Tips | undefined {
  if (env.GIT_DIR || env.GIT_COMMON_DIR || env.GIT_WORK_TREE) return undefined;
  try {
    let gitDir: string | undefined;
    for (let dir = path.resolve(sharedState); ; dir = path.dirname(dir)) {
      const dotGit = path.join(dir, '.git');
      if (existsSync(dotGit)) {
        if (!statSync(dotGit).isDirectory()) return undefined; // a worktree or a submodule: git knows
        gitDir = dotGit;
        break;
      }
      if (path.dirname(dir) === dir) return undefined;
    }
    const branch = /^ref: refs\/heads\/(\S+)\n?$/.exec(readFileSync(path.join(gitDir, 'HEAD'), 'utf8'))?.[1];
    const config = readFileSync(path.join(gitDir, 'config'), 'utf8');
    if (!branch || /^\s*\[include/im.test(config)) return undefined;
    const remote = sectionValue(config, `branch "${branch}"`, 'remote');
    const merge = sectionValue(config, `branch "${branch}"`, 'merge');
    if (!remote || remote === '.' || !merge?.startsWith('refs/heads/')) return undefined;
    if (sectionValue(config, `remote "${remote}"`, 'fetch') !== `+refs/heads/*:refs/remotes/${remote}/*`)
      return undefined;
    const head = refSha(gitDir, `refs/heads/${branch}`);
    const upstream = refSha(gitDir, `refs/remotes/${remote}/${merge.slice('refs/heads/'.length)}`);
    return head && upstream ? { gitDir, head, upstream } : undefined;
  } catch {
    return undefined;
  }
}

/** One key of one section of a git config file (the first value; a repeated key is undefined: git knows). */
function sectionValue(config: string, section: string, key: string): string | undefined {
  let inside = false;
  const values: string[] = [];
  for (const raw of config.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) inside = line === `[${section}]`;
    else if (inside) {
      const m = /^([A-Za-z0-9-]+)\s*=\s*(.*)$/.exec(line);
      if (m && m[1]!.toLowerCase() === key) values.push(m[2]!.trim());
    }
  }
  return values.length === 1 ? values[0] : undefined;
}

/** A ref's commit: its loose file, else its line in packed-refs. */
function refSha(gitDir: string, ref: string): string | undefined {
  const loose = path.join(gitDir, ...ref.split('/'));
  if (existsSync(loose)) {
    const sha = readFileSync(loose, 'utf8').trim();
    return SHA.test(sha) ? sha : undefined;
  }
  const packed = path.join(gitDir, 'packed-refs');
  if (!existsSync(packed)) return undefined;
  for (const line of readFileSync(packed, 'utf8').split('\n')) {
    const [sha, name] = line.split(' ');
    if (name === ref && sha && SHA.test(sha)) return sha;
  }
  return undefined;
}

export interface QuietInputs {
  sharedState: string;
  machineId: string;
  configFile: string;
  /** This machine's own config (config/layers.ts): part of the fingerprint, with the approvals. */
  machineConfigFile: string;
  version: string;
  now: number;
  timeoutMs?: number;
}

export type QuietOutcome = { quiet: true; record: QuietRecord; stateDir: string } | { quiet: false; why: string };

/** Whether this tick can be quiet; never throws (any failure is "run the full tick"). */
export async function checkQuiet(i: QuietInputs): Promise<QuietOutcome> {
  const no = (why: string): QuietOutcome => ({ quiet: false, why });
  const timeout = i.timeoutMs ?? 60_000;
  try {
    // where the clone keeps its state, HEAD, and the upstream as last fetched: from its files, else one git call
    const tips = tipsFromFiles(i.sharedState) ?? (await tipsFromGit(i.sharedState, timeout));
    if (!tips) return no('not a clone with an upstream');
    const { gitDir, head, upstream } = tips;
    const stateDir = path.join(gitDir, 'roosync-maint');
    const r = readQuietRecord(stateDir);
    if (!r) return no('no record of a clean tick');
    if (r.version !== i.version) return no('roosync-maint was updated');
    if (r.machine !== i.machineId || r.sharedState !== path.resolve(i.sharedState)) return no('another identity');
    if (i.now < r.writtenAt || i.now >= r.until) return no(`due: ${r.untilReason}`);
    const layerFiles = [i.machineConfigFile, path.join(stateDir, 'trust.json')];
    if (r.config !== configFingerprint([i.configFile, ...layerFiles])) return no('the config changed');
    if (head !== r.head || upstream !== r.upstream) return no('commits since the last tick');
    if (existsSync(path.join(stateDir, 'run.lock'))) return no('another run is in progress');
    const status = await git(i.sharedState, ['--no-optional-locks', 'status', '--porcelain', '-uall'], timeout);
    if (status.code !== 0 || status.stdout !== '') return no('local changes to commit');
    // without -q, fetch says something exactly when it updated (or pruned) a ref
    const fetch = await git(i.sharedState, ['fetch', '--prune'], timeout);
    if (fetch.code !== 0 || fetch.stderr.trim() !== '' || fetch.stdout.trim() !== '') return no('the remote moved');
    countLook(stateDir, i.now);
    return { quiet: true, record: r, stateDir };
  } catch (err) {
    return no(`quiet check failed: ${String(err)}`);
  }
}
