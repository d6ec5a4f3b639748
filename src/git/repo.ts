import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unlessMissing, unlinkIfPresent, writeFileAtomic } from '../util/fs.js';
import { simpleGit, type SimpleGit } from 'simple-git';
import { errorMessage } from '../errors.js';
import { GitFailure, classifyGitFailure } from './classify.js';
import { killGroup } from '../util/command.js';
import { gitEnvironment } from './environment.js';

/** Marked the stash entries older versions made around a sync; any a killed run left are re-applied once. */
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
    /** The hard limit for one plumbing call (the same as simple-git's block timeout). */
    private readonly timeoutMs = 120_000,
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
    return new GitRepo(git.cwd(top), top, gitDir, rel === '' ? '.' : rel, options.machineId, options.timeoutMs);
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

  /** Fetch and push reach the network: their transport (ssh, a helper) is killed with git at the deadline. */
  async fetch(): Promise<void> {
    await this.plumb(['fetch', '--prune', '--quiet']);
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
   * Stages exactly these paths (additions, changes, deletions) and commits them if anything changed.
   * `accept` may refuse a staged file (one still being written in place): it stays for the next tick.
   */
  async commitPaths(
    paths: readonly string[],
    message: string,
    accept: (pathFromTop: string, content: Buffer) => boolean = () => true,
  ): Promise<boolean> {
    if (paths.length === 0) return false;
    await this.stageChecked(paths, accept);
    return this.commitIndex(message);
  }

  async push(): Promise<void> {
    const upstream = await this.upstream();
    await this.plumb(upstream ? ['push'] : ['push', '-u', 'origin', 'HEAD']);
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
   * Drops local commits back to `ref` without touching the work tree (RooSync may be writing in it):
   * HEAD and the index move, and only `ownFiles` (paths from the top that this program alone writes,
   * such as the lease) are put back on disk as `ref` has them.
   */
  async dropLocalCommits(ref: string, ownFiles: readonly string[]): Promise<void> {
    await this.resetIndexTo(ref);
    const blobs = await this.readBlobs(ownFiles.map((f) => `${ref}:${f}`));
    for (const f of ownFiles) {
      const blob = blobs.get(`${ref}:${f}`);
      const file = path.join(this.top, f);
      if (blob) writeFileAtomic(file, blob.content);
      else unlinkIfPresent(file);
    }
  }

  /** Moves HEAD (and its branch) and the index to `ref`; the work tree is never read over or written. */
  async resetIndexTo(ref: string): Promise<void> {
    await this.plumb(['reset', '-q', '--mixed', ref, '--']);
  }

  /**
   * Stages exactly these paths from the work tree, then takes back out of the index every message
   * file whose staged bytes `accept` refuses (a file RooSync is still writing in place): those stay
   * uncommitted for the next tick. Only the index changes; the work tree is read, never written.
   */
  async stageChecked(paths: readonly string[], accept: (pathFromTop: string, content: Buffer) => boolean) {
    if (paths.length === 0) return [];
    await this.run('add', () => this.git.raw(['add', '-A', '--', ...paths]));
    const staged = (await this.plumb(['diff', '--cached', '--name-only', '-z', '--diff-filter=AM', '--', ...paths]))
      .toString('utf8')
      .split('\0')
      .filter(Boolean);
    const blobs = await this.readBlobs(staged.map((p) => `:${p}`));
    const refused = staged.filter((p) => {
      const b = blobs.get(`:${p}`);
      return b !== undefined && !accept(p, b.content);
    });
    if (refused.length > 0) await this.plumb(['reset', '-q', '--', ...refused]);
    return refused;
  }

  /** Commits what the index holds, if it differs from HEAD; false when there was nothing to commit. */
  async commitIndex(message: string): Promise<boolean> {
    const staged = (await this.git.raw(['diff', '--cached', '--name-only'])).trim();
    if (staged === '') return false;
    await this.run('commit', () => this.git.raw(['commit', '--no-verify', '-m', message]));
    return true;
  }

  /** Every file of a commit's tree: path from the top → mode and blob. */
  async treeEntries(ref: string): Promise<Map<string, TreeEntry>> {
    const out = new Map<string, TreeEntry>();
    const raw = (await this.plumb(['ls-tree', '-r', '-z', '--full-tree', ref])).toString('utf8');
    for (const line of raw.split('\0')) {
      const tab = line.indexOf('\t');
      if (tab < 0) continue;
      const [mode = '', type = '', sha = ''] = line.slice(0, tab).split(' ');
      if (type === 'blob') out.set(line.slice(tab + 1), { mode, sha });
    }
    return out;
  }

  /** What changed between two commits, path by path (no rename detection). */
  async treeDiff(from: string, to: string): Promise<TreeChange[]> {
    const raw = (await this.plumb(['diff-tree', '-r', '-z', '--no-renames', from, to])).toString('utf8').split('\0');
    const out: TreeChange[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const head = raw[i]!;
      if (!head.startsWith(':')) break;
      const [oldMode = '', newMode = '', oldSha = '', newSha = ''] = head.slice(1).split(' ');
      out.push({
        path: raw[i + 1]!,
        from: /^0+$/.test(oldMode) ? undefined : { mode: oldMode, sha: oldSha },
        to: /^0+$/.test(newMode) ? undefined : { mode: newMode, sha: newSha },
      });
    }
    return out;
  }

  /** Writes these contents as blobs into the object store; their ids, in order. */
  async hashBlobs(contents: readonly Buffer[]): Promise<string[]> {
    if (contents.length === 0) return [];
    const dir = path.join(this.gitDir, 'roosync-maint', `blobs-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      const files = contents.map((c, i) => {
        const f = path.join(dir, String(i));
        writeFileSync(f, c);
        return f;
      });
      const out = await this.plumb(['hash-object', '-w', '--no-filters', '--stdin-paths'], {
        input: `${files.join('\n')}\n`,
      });
      return out.toString('utf8').trim().split('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * A new commit on `parent` whose tree is `parent`'s with these entries changed (a missing `to`
   * removes the path), built in a private index: HEAD, the real index and the work tree are untouched.
   */
  async commitOnto(parent: string, changes: readonly TreeChange[], meta: CommitMeta): Promise<string> {
    const index = path.join(this.gitDir, 'roosync-maint', `replay-${process.pid}.index`);
    mkdirSync(path.dirname(index), { recursive: true });
    const env = { GIT_INDEX_FILE: index };
    try {
      await this.plumb(['read-tree', parent], { env });
      const zero = '0'.repeat(40);
      const lines = changes.map((c) =>
        c.to ? `${c.to.mode} ${c.to.sha}\t${c.path}` : `0 ${zero.slice(0, (c.from?.sha ?? zero).length)}\t${c.path}`,
      );
      if (lines.length > 0) await this.plumb(['update-index', '-z', '--index-info'], { env, input: lines.join('\0') });
      const tree = (await this.plumb(['write-tree'], { env })).toString('utf8').trim();
      const who = {
        GIT_AUTHOR_NAME: meta.authorName,
        GIT_AUTHOR_EMAIL: meta.authorEmail,
        GIT_AUTHOR_DATE: meta.authorDate,
        GIT_COMMITTER_NAME: `${this.machineId} (roosync-maint)`,
        GIT_COMMITTER_EMAIL: `${this.machineId}@roosync-maint.invalid`,
      };
      const sha = await this.plumb(['commit-tree', tree, '-p', parent, '-F', '-'], { env: who, input: meta.message });
      return sha.toString('utf8').trim();
    } finally {
      unlinkIfPresent(index);
    }
  }

  /** Who made a commit, when, and its whole message (to replay it as it was). */
  async commitMeta(sha: string): Promise<CommitMeta> {
    const out = (await this.plumb(['log', '-1', '--format=%an%x00%ae%x00%aI%x00%B', sha])).toString('utf8');
    const [authorName = '', authorEmail = '', authorDate = '', message = ''] = out.split('\0');
    return { authorName, authorEmail, authorDate, message };
  }

  /**
   * One git process, outside simple-git: for plumbing that needs stdin, its own environment (a
   * private index) or bytes. Bounded by the clone's timeout (the child is killed); any non-zero exit
   * is a GitFailure with git's own words.
   */
  private plumb(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Buffer> {
    return runGit(this.top, args, { ...opts, timeoutMs: this.timeoutMs });
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

  /** Reads many blobs (`<ref>:<path>`, or a blob id) through one `git cat-file --batch`; missing ones are absent. */
  readBlobs(specs: readonly string[]): Promise<Map<string, Blob>> {
    return readBlobsBatch(this.top, specs);
  }

  /** The commit a ref names (`rev-parse`). */
  async resolve(ref: string): Promise<string> {
    return (await this.raw(['rev-parse', ref])).trim();
  }

  /** HEAD and its upstream's commit, or undefined when either cannot be named. */
  async headAndUpstream(): Promise<{ head: string; upstream: string } | undefined> {
    const out = await this.raw(['rev-parse', 'HEAD', '@{u}']).catch(() => '');
    const [head = '', upstream = ''] = out.trim().split('\n');
    return head && upstream ? { head, upstream } : undefined;
  }

  /** Aborts a rebase, merge or cherry-pick someone left unfinished. */
  async abortOperation(verb: 'rebase' | 'merge' | 'cherry-pick'): Promise<void> {
    await this.raw([verb, '--abort']);
  }

  async deleteRef(name: string): Promise<void> {
    await this.raw(['update-ref', '-d', name]);
  }

  /** The local branches' short names. */
  async localBranches(): Promise<string[]> {
    const out = await this.raw(['for-each-ref', '--format=%(refname:short)', 'refs/heads/']);
    return out.split('\n').filter(Boolean);
  }

  /** Whether `ancestor` is contained in `ref`'s history. */
  async contains(ref: string, ancestor: string): Promise<boolean> {
    return (await this.raw(['merge-base', ancestor, ref]).catch(() => '')).trim() === ancestor;
  }

  async createBranch(name: string, sha: string): Promise<void> {
    await this.raw(['branch', name, sha]);
  }

  /** HEAD names `branch` again; the index and work tree are left as they are. */
  async pointHeadAt(branch: string): Promise<void> {
    await this.raw(['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
  }

  /** The id of the empty tree. */
  async emptyTree(): Promise<string> {
    return (await this.plumb(['mktree'])).toString('utf8').trim();
  }

  /** The hooks folder git really uses: `core.hooksPath` when set, else `.git/hooks`. */
  async hooksDir(): Promise<string> {
    return path.resolve(this.top, (await this.raw(['rev-parse', '--git-path', 'hooks'])).trim());
  }

  /** The committer time of a ref's commit (ms), or undefined. */
  async commitTime(ref: string): Promise<number | undefined> {
    const seconds = Number((await this.raw(['log', '-1', '--format=%ct', ref]).catch(() => '')).trim());
    return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
  }

  /** The last commit that changed a file (path from the top), with its author. */
  async lastChange(relToTop: string): Promise<{ sha: string; author: string } | undefined> {
    const out = (await this.raw(['log', '-1', '--format=%h%x00%an', '--', relToTop]).catch(() => '')).trim();
    const [sha, author] = out.split('\0');
    return sha && author ? { sha, author } : undefined;
  }

  /** The last commit that deleted one of these paths (relative to the shared state), and the path it deleted. */
  async lastDeletion(paths: readonly string[]): Promise<{ commit: string; files: string[] } | undefined> {
    const args = [
      'log',
      '--diff-filter=D',
      '--format=%H',
      '--name-only',
      '-1',
      '--',
      ...paths.map((p) => this.inRepo(p)),
    ];
    const [commit, ...files] = (await this.raw(args)).trim().split('\n').filter(Boolean);
    return commit && files.length ? { commit, files } : undefined;
  }

  /** A file's text at a commit (path from the top). */
  async textAt(commit: string, relToTop: string): Promise<string> {
    return this.raw(['show', `${commit}:${relToTop}`]);
  }

  /** Puts a path (relative to the shared state) back in the work tree and index as a commit holds it. */
  async checkoutPath(commit: string, relToShared: string): Promise<void> {
    await this.raw(['checkout', commit, '--', this.inRepo(relToShared)]);
  }

  /** Whether the index holds unmerged entries (a conflict left in the clone). */
  async hasUnmerged(): Promise<boolean> {
    return (await this.raw(['ls-files', '-u'])).trim() !== '';
  }

  private async raw(args: string[]): Promise<string> {
    return this.run(args[0] ?? 'raw', () => this.git.raw(args));
  }
}

/**
 * The files among `paths` that `git status` shows changed in the checkout at `dir` (any repository, not the
 * clone), or undefined when `dir` is not in a git work tree.
 */
export async function changedFiles(dir: string, paths: readonly string[], timeoutMs: number) {
  try {
    const out = await runGit(dir, ['status', '--porcelain', '--', ...paths], { timeoutMs });
    return out.toString('utf8').split('\n').filter(Boolean);
  } catch {
    return undefined;
  }
}

/**
 * A component's checkout on this machine (a git work tree that is not the clone, e.g. roo-extensions): what a
 * rollout needs of it. Every call has the deadline; a failure rejects with git's words (GitFailure).
 */
export class ComponentCheckout {
  constructor(
    readonly dir: string,
    private readonly timeoutMs: number,
  ) {}

  private async git(args: string[]): Promise<string> {
    return (await runGit(this.dir, args, { timeoutMs: this.timeoutMs })).toString('utf8').trim();
  }

  /** The commit checked out. */
  head(): Promise<string> {
    return this.git(['rev-parse', '--verify', 'HEAD']);
  }

  /** Every remote's branches and tags (a checkout with no remote has nothing to fetch). */
  async fetch(): Promise<void> {
    await this.git(['fetch', '--all', '--tags', '--quiet']);
  }

  /** The commit a ref (branch, tag, sha) names here, or undefined when it names none. */
  async commitOf(ref: string): Promise<string | undefined> {
    try {
      return await this.git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    } catch {
      return undefined;
    }
  }

  /** Tracked files changed by hand: a rollout never checks out over them. */
  async changedByHand(): Promise<string[]> {
    return (await this.git(['status', '--porcelain', '--untracked-files=no'])).split('\n').filter(Boolean);
  }

  /** Checks out one commit, detached (a rollout pins a commit, never moves a branch). */
  async switchTo(sha: string): Promise<void> {
    await this.git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', sha]);
  }
}

const TRACE_LINE = /^\d\d:\d\d:\d\d\.\d+ +\S+:\d+ +trace: .*$\n?/gm;

/**
 * simple-git waits 50 ms after every git process that printed nothing (its completion plugin, with
 * no option to turn that off); 4–6 such calls a tick. `GIT_TRACE=1` makes git print one trace line
 * on stderr, so no call is silent; this error handler takes those lines out again, so a failure
 * reads (and is classified) exactly as git wrote it. Any non-zero exit is a failure, also one that
 * printed nothing else (simple-git's own handler would call that a success).
 */
function withoutTraceLines(
  error: Buffer | Error | undefined,
  result: { stdOut: Buffer[]; stdErr: Buffer[]; exitCode: number },
): Buffer | Error | undefined {
  if (error && !Buffer.isBuffer(error) && !(error.message ?? '').match(TRACE_LINE)) return error;
  if (result.exitCode === 0) return undefined;
  // every failure is a failure, with git's words; one that said nothing says its exit code
  const stderr = Buffer.concat(result.stdErr).toString('utf8').replace(TRACE_LINE, '');
  const words = stderr.trim() === '' ? `exited with code ${result.exitCode} and printed nothing` : stderr;
  return Buffer.from(`${Buffer.concat(result.stdOut).toString('utf8')}${words}`);
}

/** What opening a clone needs from the config: the git timeout. */
export interface GitSettings {
  timeoutSeconds: number;
}

/** The shared state's clone with this git timeout, or `undefined` on a plain folder. */
export function openClone(sharedState: string, machineId: string, git: GitSettings): Promise<GitRepo | undefined> {
  return GitRepo.open(sharedState, { timeoutMs: git.timeoutSeconds * 1000, machineId });
}

function statMtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return Date.now();
  }
}

/** A blob as read from the object store: its id and bytes. */
export interface Blob {
  sha: string;
  content: Buffer;
}

export interface TreeEntry {
  mode: string;
  sha: string;
}

/** One path's change between two trees; `from`/`to` absent where the path does not exist. */
export interface TreeChange {
  path: string;
  from?: TreeEntry | undefined;
  to?: TreeEntry | undefined;
}

export interface CommitMeta {
  authorName: string;
  authorEmail: string;
  authorDate: string;
  message: string;
}

/** Runs git once with bytes in and out, killed at the deadline; a non-zero exit rejects with git's stderr. */
function runGit(
  cwd: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string>; timeoutMs: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // its own process group: at the deadline git goes with every transport child it started (ssh, a remote
    // helper), which would otherwise keep our pipes, and this process, alive
    const child = spawn('git', args, {
      cwd,
      env: { ...gitEnvironment(process.env), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
      detached: process.platform !== 'win32',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) killGroup(child.pid);
      // the pipes may still be held by a grandchild that escaped the group: stop waiting for them
      child.stdout.destroy();
      child.stderr.destroy();
    }, opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new GitFailure('other', args[0] ?? 'git', errorMessage(e)));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(Buffer.concat(out));
      const said = Buffer.concat(err).toString('utf8').trim();
      const words = timedOut
        ? `timed out after ${Math.round(opts.timeoutMs / 1000)} s (git and its transport were killed)${said ? `: ${said}` : ''}`
        : said || (signal ? `killed (${signal})` : `exit ${code}`);
      reject(new GitFailure(classifyGitFailure(words), `git ${args[0]}`, words));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** `git cat-file --batch` over stdin: one process for thousands of files (a killed archive run leaves that many). */
async function readBlobsBatch(cwd: string, specs: readonly string[]): Promise<Map<string, Blob>> {
  const out = new Map<string, Blob>();
  if (specs.length === 0) return out;
  const buf = await runGit(cwd, ['cat-file', '--batch'], { input: `${specs.join('\n')}\n`, timeoutMs: 600_000 });
  let at = 0;
  for (const spec of specs) {
    const nl = buf.indexOf(10, at);
    const header = buf.subarray(at, nl).toString('utf8');
    at = nl + 1;
    const m = /^([0-9a-f]+) blob (\d+)$/.exec(header);
    if (!m) continue; // "<spec> missing", or not a blob
    const size = Number(m[2]);
    out.set(spec, { sha: m[1]!, content: Buffer.from(buf.subarray(at, at + size)) });
    at += size + 1;
  }
  return out;
}

function readIfPresent(file: string): string | undefined {
  return unlessMissing(() => readFileSync(file, 'utf8'), undefined);
}
