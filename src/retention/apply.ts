import { lstat, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { errorCode, errorMessage } from '../errors.js';
import { mapPool } from '../util/pool.js';
import type { Action, RulePlan } from './plan.js';
import { REMOVING_SUFFIX, setAsideName } from './scan.js';

export interface ApplyError {
  rel: string;
  message: string;
}

export interface ApplyResult {
  removed: number;
  bytesFreed: number;
  /** Already gone when we came to it (RooSync or another run removed it first): not an error. */
  vanished: number;
  /** Changed kind since the plan (e.g. became a symlink): left alone. */
  changed: number;
  errors: ApplyError[];
}

export interface ApplyOptions {
  concurrency?: number;
  onRemoved?: (done: number, total: number) => void;
}

function safeJoin(root: string, rel: string): string {
  const abs = path.resolve(root, ...rel.split('/'));
  const back = path.relative(root, abs);
  if (back === '' || back.startsWith('..') || path.isAbsolute(back)) throw new Error(`refused: ${rel} is not inside ${root}`);
  return abs;
}

type Outcome = 'removed' | 'vanished' | 'changed';

/**
 * Removes one unit. A folder is first renamed aside (`.name.roosync-maint-removing`, atomic),
 * so a run killed half-way never leaves a half-emptied folder under its real name, and the
 * next scan finishes it. The kind is checked again right before acting.
 */
async function removeUnit(root: string, action: Action): Promise<Outcome> {
  const abs = safeJoin(root, action.rel);
  let st;
  try {
    st = await lstat(abs);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return 'vanished';
    throw err;
  }
  if (st.isSymbolicLink() || (action.kind === 'dir') !== st.isDirectory()) return 'changed';
  if (!st.isDirectory()) {
    await unlink(abs).catch((err: unknown) => {
      if (errorCode(err) !== 'ENOENT') throw err;
    });
    return 'removed';
  }
  const name = path.basename(abs);
  const aside = name.endsWith(REMOVING_SUFFIX) ? abs : path.join(path.dirname(abs), setAsideName(name));
  if (aside !== abs) {
    try {
      await rename(abs, aside);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return 'vanished';
      throw err;
    }
  }
  // fs.rm never follows symlinks: a link inside the unit is removed as a link.
  await rm(aside, { recursive: true, force: true, maxRetries: 3 });
  return 'removed';
}

/** Applies the removals of a plan. Errors are collected per unit; one failure does not stop the rest. */
export async function applyPlan(plan: RulePlan, root: string, options: ApplyOptions = {}): Promise<ApplyResult> {
  const removals = plan.actions.filter((a) => a.verdict === 'remove');
  const result: ApplyResult = { removed: 0, bytesFreed: 0, vanished: 0, changed: 0, errors: [] };
  let done = 0;
  await mapPool(removals, options.concurrency ?? 16, async (action) => {
    try {
      const outcome = await removeUnit(root, action);
      if (outcome === 'removed') {
        result.removed++;
        result.bytesFreed += action.bytes;
      } else result[outcome]++;
    } catch (err) {
      result.errors.push({ rel: action.rel, message: errorMessage(err) });
    }
    options.onRemoved?.(++done, removals.length);
  });
  return result;
}
