import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { unlessMissing } from '../util/fs.js';
import { simpleGit, type SimpleGit } from 'simple-git';
import { UsageError, errorMessage } from '../errors.js';
import { GitFailure, classifyGitFailure } from './classify.js';
import { gitEnvironment } from './environment.js';

/** Marks the stash entries a sync makes around itself; any left by a killed run are re-applied by the next. */
export const STASH_MARKER = 'roosync-maint: local edits kept around a sync';
/** Branches where a sync keeps commits it could not merge whole (never only in the reflog). */
export const KEPT_BRANCHES = 'roosync-maint/kept/';

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
    /** The machine this clone belongs to (commit identity, names of what a sync keeps aside). */
    readonly machineId: string,
  ) {}

  static async open(sharedState: string, options: GitOptions): Promise<GitRepo | undefined> {
    const git = simpleGit({
      baseDir: sharedState,
      timeout: { block: options.timeoutMs },
      allowEnvironment: ['GIT_TERMINAL_PROMPT', 'GIT_TRACE'],
      config: [
        `user.name=${options.machineId} (roosync-maint)`,
        `user.email=${options.machineId}@roosync-maint.invalid`,
      ],
      errors: withoutTraceLines,
    }).env({ ...gitEnvironment(process.env), GIT_TRACE: '1' });
    let top: string;
    let gitDir: string;
    try {
      [top = '', gitDir = ''] = (await git.revparse(['--show-toplevel', '--absolute-git-dir'])).trim().split('\n');
    } catch {
      return undefined;
    }
    // git names paths from the real top folder: a shared state reached through a link is resolved first
    const rel = path.relative(realpathSync(top), realpathSync(sharedState)).split(path.sep).join('/');
    return new GitRepo(git.cwd(top), top, gitDir, rel === '' ? '.' : rel, options.machineId);
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

  /** The branch's upstream, asked once per run (only a first push with -u sets it). */
  private upstreamName: string | null | undefined;

  async upstream(): Promise<string | undefined> {
    if (this.upstreamName === undefined) {
      const name = await this.git.revparse(['--abbrev-ref', '--symbolic-full-name', '@{u}']).catch(() => '');
      this.upstreamName = name.trim() || null;
    }
    return this.upstreamName ?? undefined;
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
   * Replays local commits on the upstream (the work tree is clean: the sync stashed it). On any
   * failure the rebase is aborted and the conflicting paths are returned: the caller replays by hand.
   */
  async rebaseOntoUpstream(upstream: string): Promise<{ ok: true } | { ok: false; conflicts: string[] }> {
    try {
      await this.git.rebase([upstream]);
      return { ok: true };
    } catch (err) {
      const conflicts = (await this.git.diff(['--name-only', '--diff-filter=U']).catch(() => ''))
        .split('\n')
        .filter(Boolean);
      await this.git.rebase(['--abort']).catch(() => undefined);
      return {
        ok: false,
        conflicts: conflicts.length > 0 ? conflicts : [errorMessage(err).split('\n')[0] ?? 'rebase failed'],
      };
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
    if (!upstream) this.upstreamName = undefined;
  }

  async isTracked(relToTop: string): Promise<boolean> {
    return (await this.git.raw(['ls-files', '--', relToTop])).trim() !== '';
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
    if (dirty)
      await this.git.raw([
        'stash',
        'push',
        '--include-untracked',
        '-m',
        'roosync-maint: around a dropped fleet commit',
      ]);
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
    const args = [
      'status',
      '--porcelain',
      '-z',
      '--untracked-files=all',
      '--',
      ...relDirsToShared.map((d) => this.inRepo(d)),
    ];
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

  /** Whether HEAD is on a branch (false: a detached HEAD). */
  async onBranch(): Promise<boolean> {
    // read from the file, not a git process: this runs on every tick
    const head = readIfPresent(path.join(this.gitDir, 'HEAD'));
    if (head !== undefined) return head.startsWith('ref: ');
    return (await this.git.raw(['rev-parse', '--abbrev-ref', 'HEAD'])).trim() !== 'HEAD';
  }

  /** Whether a ref exists, from the ref files (loose or packed) without starting git. */
  hasRef(name: string): boolean {
    if (existsSync(path.join(this.gitDir, name))) return true;
    return (readIfPresent(path.join(this.gitDir, 'packed-refs')) ?? '').includes(` ${name}\n`);
  }

  /** Whether `ref` names an object (git's exit code alone says so; simple-git does not always throw on it). */
  async exists(ref: string): Promise<boolean> {
    return (await this.git.raw(['rev-parse', '-q', '--verify', '--end-of-options', ref]).catch(() => '')).trim() !== '';
  }

  /** A rebase, merge or cherry-pick someone left unfinished in this clone, with its age. */
  unfinishedOperation(): { what: string; since: number } | undefined {
    const marks: [string, string][] = [
      ['rebase-merge', 'a rebase'],
      ['rebase-apply', 'a rebase'],
      ['MERGE_HEAD', 'a merge'],
      ['CHERRY_PICK_HEAD', 'a cherry-pick'],
    ];
    for (const [file, what] of marks) {
      const p = path.join(this.gitDir, file);
      if (existsSync(p)) return { what, since: statMtime(p) };
    }
    return undefined;
  }

  /** Whether the work tree differs from HEAD anywhere (untracked files included, ignored ones not). */
  async dirty(): Promise<boolean> {
    return (
      (await this.run('status', () => this.git.raw(['status', '--porcelain', '--untracked-files=all']))).trim() !== ''
    );
  }

  /** Stashes every change, untracked files included, under `message`; the stash commit, or undefined when clean. */
  async stash(message: string): Promise<string | undefined> {
    if (!(await this.dirty())) return undefined;
    await this.run('stash', () => this.git.raw(['stash', 'push', '--include-untracked', '-m', message]));
    return (await this.git.revparse(['stash@{0}'])).trim();
  }

  /** Stash entries whose message starts with `marker`, oldest first. */
  async stashes(marker: string): Promise<string[]> {
    // stash entries live in the stash reflog: none there, no git process needed
    if (!existsSync(path.join(this.gitDir, 'logs', 'refs', 'stash'))) return [];
    const out = await this.git.raw(['stash', 'list', '--format=%H%x00%s']).catch(() => '');
    const shas = out
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        const [sha, subject] = l.split('\0');
        return sha && subject?.includes(marker) ? [sha] : [];
      });
    return shas.reverse();
  }

  /** Branches holding commits a sync kept aside for a person to merge. */
  async keptBranches(): Promise<string[]> {
    const out = await this.git.raw(['for-each-ref', '--format=%(refname:short)', `refs/heads/${KEPT_BRANCHES}`]);
    return out.split('\n').filter(Boolean);
  }

  async dropStash(sha: string): Promise<void> {
    const list = (await this.git.raw(['stash', 'list', '--format=%H'])).split('\n').filter(Boolean);
    const i = list.indexOf(sha);
    if (i >= 0) await this.git.raw(['stash', 'drop', `stash@{${i}}`]);
  }

  /** Paths a stash changed (tracked) or saved (untracked), from the top of the work tree. */
  async stashPaths(sha: string): Promise<string[]> {
    const tracked = (await this.git.raw(['diff', '--name-only', '-z', '--no-renames', `${sha}^1`, sha])).split('\0');
    const hasUntracked = await this.exists(`${sha}^3`);
    const untracked = hasUntracked
      ? (await this.git.raw(['ls-tree', '-r', '--name-only', '-z', `${sha}^3`])).split('\0')
      : [];
    return [...new Set([...tracked, ...untracked].filter(Boolean))];
  }

  /** How far HEAD and the upstream have moved apart, in one git call. */
  async divergence(upstream: string): Promise<{ behind: number; ahead: number }> {
    const out = await this.run('rev-list', () =>
      this.git.raw(['rev-list', '--left-right', '--count', `${upstream}...HEAD`]),
    );
    const [behind = 0, ahead = 0] = out.trim().split(/\s+/).map(Number);
    return { behind, ahead };
  }

  /** Unpushed commits, oldest first: who made them, and whether each touches the lease. */
  async unpushedCommits(
    upstream: string,
    leaseRel: string,
  ): Promise<{ sha: string; ours: boolean; touchesLease: boolean; subject: string }[]> {
    const out = await this.git.raw(['log', '--reverse', '--format=%H%x00%an%x00%s', `${upstream}..HEAD`]);
    const lease = new Set(
      (await this.git.raw(['log', '--format=%H', `${upstream}..HEAD`, '--', this.inRepo(leaseRel)]))
        .split('\n')
        .filter(Boolean),
    );
    return out
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [sha = '', author = '', subject = ''] = l.split('\0');
        return { sha, ours: author.endsWith('(roosync-maint)'), touchesLease: lease.has(sha), subject };
      });
  }

  /** Paths a commit changed, from the top of the work tree. */
  async changedIn(sha: string): Promise<string[]> {
    return (
      await this.git.raw(['diff-tree', '--no-commit-id', '--name-only', '-r', '-z', '--no-renames', '--root', sha])
    )
      .split('\0')
      .filter(Boolean);
  }

  /** Replays one commit as it is; false (and nothing changed) when it does not apply cleanly. */
  async cherryPick(sha: string): Promise<boolean> {
    try {
      await this.git.raw(['cherry-pick', '--allow-empty', '--keep-redundant-commits', sha]);
      return true;
    } catch {
      await this.git.raw(['cherry-pick', '--abort']).catch(() => undefined);
      return false;
    }
  }

  /** Commits these paths with another commit's message and author (a commit replayed by hand). */
  async commitAs(paths: readonly string[], sha: string): Promise<boolean> {
    if (paths.length > 0) await this.run('add', () => this.git.raw(['add', '-A', '--', ...paths]));
    const staged = (await this.git.raw(['diff', '--cached', '--name-only'])).trim();
    if (staged === '') return false;
    await this.run('commit', () => this.git.raw(['commit', '--no-verify', '-C', sha]));
    return true;
  }

  /** Reads many blobs (`<ref>:<path>`) through one `git cat-file --batch`; missing ones are absent from the map. */
  readBlobs(specs: readonly string[]): Promise<Map<string, Buffer>> {
    return readBlobsBatch(this.top, specs);
  }

  async raw(args: string[]): Promise<string> {
    return this.run(args[0] ?? 'raw', () => this.git.raw(args));
  }
}

const TRACE_LINE = /^\d\d:\d\d:\d\d\.\d+ +\S+:\d+ +trace: .*$\n?/gm;

/**
 * simple-git waits 50 ms after every git process that printed nothing (its completion plugin, with
 * no option to turn that off); 4–6 such calls a tick. `GIT_TRACE=1` makes git print one trace line
 * on stderr, so no call is silent; this error handler takes those lines out again, so a failure
 * reads (and is classified) exactly as git wrote it, and a non-zero exit with no other stderr stays
 * a success, as simple-git's own handler has it.
 */
function withoutTraceLines(
  error: Buffer | Error | undefined,
  result: { stdOut: Buffer[]; stdErr: Buffer[]; exitCode: number },
): Buffer | Error | undefined {
  if (error && !Buffer.isBuffer(error) && !(error.message ?? '').match(TRACE_LINE)) return error;
  const stderr = Buffer.concat(result.stdErr).toString('utf8').replace(TRACE_LINE, '');
  if (result.exitCode === 0 || stderr === '') return undefined;
  return Buffer.from(`${Buffer.concat(result.stdOut).toString('utf8')}${stderr}`);
}

/** What opening a clone needs from the config: the git timeout. */
export interface GitSettings {
  timeoutSeconds: number;
}

/** The shared state's clone with this git timeout, or `undefined` on a plain folder. */
export function openClone(sharedState: string, machineId: string, git: GitSettings): Promise<GitRepo | undefined> {
  return GitRepo.open(sharedState, { timeoutMs: git.timeoutSeconds * 1000, machineId });
}

/** The clone, or a usage error saying why this command needs one (`what` completes "there is …"). */
export async function requireClone(
  sharedState: string,
  machineId: string,
  git: GitSettings,
  what: string,
  hint?: string,
): Promise<GitRepo> {
  const repo = await openClone(sharedState, machineId, git);
  if (!repo)
    throw new UsageError({
      where: sharedState,
      message: `not inside a git clone, so there is ${what}`,
      ...(hint && { hint }),
    });
  return repo;
}

function statMtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return Date.now();
  }
}

/** `git cat-file --batch` over stdin: one process for thousands of files (a killed archive run leaves that many). */
function readBlobsBatch(cwd: string, specs: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  if (specs.length === 0) return Promise.resolve(out);
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], {
      cwd,
      env: gitEnvironment(process.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new GitFailure('other', 'cat-file', `exit ${code}`));
      const buf = Buffer.concat(chunks);
      let at = 0;
      for (const spec of specs) {
        const nl = buf.indexOf(10, at);
        const header = buf.subarray(at, nl).toString('utf8');
        at = nl + 1;
        const m = / blob (\d+)$/.exec(header);
        if (!m) continue; // "<spec> missing", or not a blob
        const size = Number(m[1]);
        out.set(spec, Buffer.from(buf.subarray(at, at + size)));
        at += size + 1;
      }
      resolve(out);
    });
    child.stdin.end(`${specs.join('\n')}\n`);
  });
}

function readIfPresent(file: string): string | undefined {
  return unlessMissing(() => readFileSync(file, 'utf8'), undefined);
}
