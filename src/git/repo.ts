import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { UsageError, errorMessage } from '../errors.js';
import type { MaintenanceConfig } from '../config/schema.js';
import { GitFailure, classifyGitFailure } from './classify.js';

export interface GitOptions {
  /** Hard limit for one git call with no output (simple-git's block timeout). */
  timeoutMs: number;
  /** Commits are made as `<machine> (roosync-maint)`, whatever the machine's git identity. */
  machineId: string;
}

/**
 * Git as the coordinator needs it, over simple-git: every call bounded by a timeout, never
 * prompting (GIT_TERMINAL_PROMPT=0), with English messages (LC_ALL=C) so failures classify.
 */
export class GitRepo {
  private constructor(
    private readonly git: SimpleGit,
    /** The work tree's top folder. */
    readonly top: string,
    /** Absolute path of the repository's git dir (for our local state and the index lock). */
    readonly gitDir: string,
    /** The shared state relative to `top` (`.` when it is the repo root), `/`-separated. */
    readonly sharedPrefix: string,
  ) {}

  static async open(sharedState: string, options: GitOptions): Promise<GitRepo | undefined> {
    const git = simpleGit({
      baseDir: sharedState,
      timeout: { block: options.timeoutMs },
      allowEnvironment: ['GIT_TERMINAL_PROMPT'],
      config: [`user.name=${options.machineId} (roosync-maint)`, `user.email=${options.machineId}@roosync-maint.invalid`],
    }).env(gitEnvironment(process.env));
    let top: string;
    try {
      top = (await git.revparse(['--show-toplevel'])).trim();
    } catch {
      return undefined;
    }
    const gitDir = path.resolve(sharedState, (await git.revparse(['--git-dir'])).trim());
    const rel = path.relative(top, sharedState).split(path.sep).join('/');
    return new GitRepo(git.cwd(top), top, gitDir, rel === '' ? '.' : rel);
  }

  /** A path of the shared state as git names it from the top of the work tree. */
  inRepo(relToShared: string): string {
    return this.sharedPrefix === '.' ? relToShared : `${this.sharedPrefix}/${relToShared}`;
  }

  private async run<T>(command: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const message = errorMessage(err);
      throw new GitFailure(classifyGitFailure(message), command, message);
    }
  }

  async fetch(): Promise<void> {
    await this.run('fetch', () => this.git.fetch(['--prune']));
  }

  async upstream(): Promise<string | undefined> {
    try {
      return (await this.git.revparse(['--abbrev-ref', '--symbolic-full-name', '@{u}'])).trim();
    } catch {
      return undefined;
    }
  }

  async head(): Promise<string | undefined> {
    try {
      return (await this.git.revparse(['HEAD'])).trim();
    } catch {
      return undefined; // no commit yet
    }
  }

  async branch(): Promise<string> {
    return (await this.git.revparse(['--abbrev-ref', 'HEAD'])).trim();
  }

  /** Whether the remote has the branch at all (a brand-new fleet has an empty remote). */
  async remoteHasBranch(): Promise<boolean> {
    const out = await this.run('ls-remote', () => this.git.listRemote(['--heads', 'origin']));
    return out.trim() !== '';
  }

  /**
   * Replays local commits on the upstream, carrying uncommitted changes along (RooSync writes
   * into the clone between ticks). On conflict the rebase is aborted and the conflicting paths
   * are returned: the caller decides (the lease among them means another machine took over).
   */
  async rebaseOntoUpstream(upstream: string): Promise<{ ok: true } | { ok: false; conflicts: string[] }> {
    try {
      await this.git.rebase(['--autostash', upstream]);
      return { ok: true };
    } catch (err) {
      const conflicts = (await this.git.diff(['--name-only', '--diff-filter=U']).catch(() => '')).split('\n').filter(Boolean);
      await this.git.rebase(['--abort']).catch(() => undefined);
      if (conflicts.length === 0) throw new GitFailure(classifyGitFailure(errorMessage(err)), 'rebase', errorMessage(err));
      return { ok: false, conflicts };
    }
  }

  /** Stages exactly these paths (additions, changes, deletions) and commits them if anything changed. */
  async commitPaths(paths: readonly string[], message: string): Promise<boolean> {
    if (paths.length === 0) return false;
    await this.run('add', () => this.git.raw(['add', '-A', '--', ...paths]));
    const staged = (await this.git.raw(['diff', '--cached', '--name-only'])).trim();
    if (staged === '') return false;
    await this.run('commit', () => this.git.raw(['commit', '--no-verify', '-m', message]));
    return true;
  }

  async push(): Promise<void> {
    const upstream = await this.upstream();
    await this.run('push', () => (upstream ? this.git.push() : this.git.push(['-u', 'origin', 'HEAD'])));
  }

  async isTracked(relToTop: string): Promise<boolean> {
    return (await this.git.raw(['ls-files', '--', relToTop])).trim() !== '';
  }

  /** Whether any local commit not on the upstream yet touches this path. */
  async unpushedTouch(upstream: string, relToShared: string): Promise<boolean> {
    return (await this.git.raw(['log', '--format=%H', `${upstream}..HEAD`, '--', this.inRepo(relToShared)])).trim() !== '';
  }

  /** Local commits not on the upstream yet. */
  async unpushedCount(upstream: string): Promise<number> {
    return Number((await this.git.raw(['rev-list', '--count', `${upstream}..HEAD`])).trim());
  }

  /**
   * Drops local commits back to `ref` while keeping what RooSync wrote meanwhile: uncommitted
   * changes are stashed around the reset (a pop that conflicts leaves the stash for the operator).
   */
  async dropLocalCommits(ref: string): Promise<{ stashKept: boolean }> {
    const dirty = (await this.git.raw(['status', '--porcelain'])).trim() !== '';
    if (dirty) await this.git.raw(['stash', 'push', '--include-untracked', '-m', 'roosync-maint: around a dropped fleet commit']);
    await this.git.raw(['reset', '--hard', ref]);
    if (!dirty) return { stashKept: false };
    try {
      await this.git.raw(['stash', 'pop']);
      return { stashKept: false };
    } catch {
      return { stashKept: true };
    }
  }

  /**
   * Paths under the given folders (relative to the shared state) whose content git history does not
   * hold as it is on disk: untracked, modified or staged. Removing one of them would lose it.
   */
  async uncommitted(relDirsToShared: readonly string[]): Promise<Set<string>> {
    const args = ['status', '--porcelain', '-z', '--untracked-files=all', '--', ...relDirsToShared.map((d) => this.inRepo(d))];
    const out = await this.run('status', () => this.git.raw(args));
    const prefix = this.sharedPrefix === '.' ? '' : `${this.sharedPrefix}/`;
    const paths = new Set<string>();
    for (const entry of out.split('\0')) {
      const p = entry.slice(3);
      if (entry.length > 3 && p.startsWith(prefix)) paths.add(p.slice(prefix.length));
    }
    return paths;
  }

  /** The content of a file at a ref (`undefined` if absent there). */
  async show(ref: string, relToShared: string): Promise<string | undefined> {
    try {
      return await this.git.show([`${ref}:${this.inRepo(relToShared)}`]);
    } catch {
      return undefined;
    }
  }

  async raw(args: string[]): Promise<string> {
    return this.run(args[0] ?? 'raw', () => this.git.raw(args));
  }
}

/** What git, ssh and Windows need from the environment to find home, config, credentials and proxies. */
const PASSED_TO_GIT = ['PATH', 'HOME', 'USERPROFILE', 'HOMEDRIVE', 'HOMEPATH', 'APPDATA', 'LOCALAPPDATA', 'SystemRoot', 'SYSTEMROOT', 'ComSpec', 'TEMP', 'TMP', 'TMPDIR', 'XDG_CONFIG_HOME', 'SSH_AUTH_SOCK', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

/**
 * The environment git runs with: an allowlist (simple-git refuses variables such as EDITOR or
 * GIT_SSH_COMMAND that could run other programs), no prompts, English messages for classifying.
 */
export function gitEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of PASSED_TO_GIT) if (env[k] !== undefined) out[k] = env[k]!;
  // ROOSYNC_MAINT_IN_TICK: our own rebase checks files out; our hooks must not start a tick for that.
  return { ...out, LC_ALL: 'C', LANGUAGE: 'C', GIT_TERMINAL_PROMPT: '0', ROOSYNC_MAINT_IN_TICK: '1' };
}

/** The shared state's clone with this config's git timeout, or `undefined` on a plain folder. */
export function openClone(sharedState: string, machineId: string, config: MaintenanceConfig): Promise<GitRepo | undefined> {
  return GitRepo.open(sharedState, { timeoutMs: config.git.timeoutSeconds * 1000, machineId });
}

/** The clone, or a usage error saying why this command needs one (`what` completes "there is …"). */
export async function requireClone(sharedState: string, machineId: string, config: MaintenanceConfig, what: string, hint?: string): Promise<GitRepo> {
  const repo = await openClone(sharedState, machineId, config);
  if (!repo) throw new UsageError({ where: sharedState, message: `not inside a git clone, so there is ${what}`, ...(hint && { hint }) });
  return repo;
}
