import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isInside } from '../util/paths.js';
import { shellQuote } from '../util/shell.js';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import type { GitRepo } from '../git/repo.js';

export const HOOK_NAMES = ['post-merge', 'post-rewrite', 'post-checkout'] as const;
const MARKER = '# roosync-maint hook:';
const CHAINED = '.roosync-maint-chained';

export interface HookContext {
  repo: GitRepo;
  sharedState: string;
  machineId: string;
  node: string;
  bin: string;
  logFile: string;
}

export interface HookState {
  hook: string;
  file: string;
  state: 'ours' | 'other' | 'none';
  chained: boolean;
}

/** The hooks folder git really uses: `core.hooksPath` when set, else `.git/hooks`. */
export function hooksDir(repo: GitRepo): Promise<string> {
  return repo.hooksDir();
}

function template(): string {
  return readFileSync(fileURLToPath(new URL('../../hooks/roosync-maint-hook.sh', import.meta.url)), 'utf8');
}

export function renderHook(c: Omit<HookContext, 'repo'>): string {
  const values: Record<string, string> = {
    '@SHARED@': c.sharedState,
    '@MACHINE@': c.machineId,
    '@NODE@': c.node,
    '@BIN@': c.bin,
    '@LOG@': c.logFile,
    '@LOGDIR@': path.dirname(c.logFile),
  };
  return template().replace(/@[A-Z]+@/g, (k) => shellQuote(values[k] ?? k));
}

function isOurs(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').includes(MARKER);
  } catch {
    return false;
  }
}

export async function hookStates(repo: GitRepo): Promise<HookState[]> {
  const dir = await hooksDir(repo);
  return HOOK_NAMES.map((hook): HookState => {
    const file = path.join(dir, hook);
    return {
      hook,
      file,
      state: !existsSync(file) ? 'none' : isOurs(file) ? 'ours' : 'other',
      chained: existsSync(file + CHAINED),
    };
  });
}

/** Installs our hooks; an existing hook of the same name is kept as `<hook>.roosync-maint-chained` and still runs. */
export async function installHooks(c: HookContext, dryRun: boolean): Promise<string[]> {
  const dir = await hooksDir(c.repo);
  // git never runs hooks from a clone's tree; neither do we: a hook (or the hook it chains) that lives in the
  // work tree is a file anyone who can push may replace, and it would run on every pull
  if (isInside(c.repo.top, dir) && !isInside(path.join(c.repo.top, '.git'), dir))
    throw new UsageError({
      where: 'core.hooksPath',
      message: `the hooks folder ${dir} is inside the work tree, where any machine can push files into it`,
      hint: 'unset core.hooksPath (git config --unset core.hooksPath) or point it outside the clone, then install again',
    });
  const content = renderHook(c);
  const done: string[] = [];
  for (const s of await hookStates(c.repo)) {
    if (s.state === 'other' && s.chained)
      throw new UsageError({
        where: s.file,
        message: `an existing hook and an earlier chained one (${s.file}${CHAINED}) are both there`,
        hint: 'merge them by hand, then install again',
      });
    if (s.state === 'other') done.push(`${s.hook}: existing hook kept, chained as ${path.basename(s.file)}${CHAINED}`);
    done.push(`${s.hook}: ${s.state === 'ours' ? 'updated' : 'installed'} in ${dir}`);
    if (dryRun) continue;
    mkdirSync(dir, { recursive: true });
    if (s.state === 'other') renameSync(s.file, s.file + CHAINED);
    writeFileSync(s.file, content);
    chmodSync(s.file, 0o755);
  }
  return done;
}

/** Removes our hooks and puts back any hook they had chained. */
export async function uninstallHooks(repo: GitRepo, dryRun: boolean): Promise<string[]> {
  const done: string[] = [];
  for (const s of await hookStates(repo)) {
    if (s.state !== 'ours') {
      done.push(`${s.hook}: ${s.state === 'none' ? 'not installed' : 'not ours, left alone'}`);
      continue;
    }
    done.push(`${s.hook}: removed${s.chained ? ', the earlier hook restored' : ''}`);
    if (dryRun) continue;
    unlinkSync(s.file);
    if (s.chained) renameSync(s.file + CHAINED, s.file);
  }
  return done;
}
