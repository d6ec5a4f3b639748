import { lstatSync, readdirSync, renameSync, rmdirSync, type Stats, unlinkSync } from 'node:fs';
import path from 'node:path';
import { errorCode, errorMessage } from '../errors.js';
import { createYielder } from '../util/yielder.js';
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
  onRemoved?: (done: number, total: number) => void;
}

function safeJoin(root: string, rel: string): string {
  const abs = path.resolve(root, ...rel.split('/'));
  const back = path.relative(root, abs);
  if (back === '' || back.startsWith('..') || path.isAbsolute(back))
    throw new Error(`refused: ${rel} is not inside ${root}`);
  return abs;
}

type Outcome = 'removed' | 'vanished' | 'changed';

/** Like `rm -rf` on a folder we own: never follows a symlink (a link is unlinked, not entered). */
function removeTree(dir: string): void {
  for (const child of readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, child.name);
    if (child.isDirectory()) removeTree(abs);
    else unlinkSync(abs);
  }
  rmdirSync(dir);
}

function gone(err: unknown): boolean {
  return errorCode(err) === 'ENOENT';
}

/**
 * Removes one unit. A folder is first renamed aside (`.name.roosync-maint-removing`, atomic),
 * so a run killed half-way never leaves a half-emptied folder under its real name, and the
 * next scan finishes it. The kind is checked again right before acting.
 */
function removeUnit(root: string, action: Action): Outcome {
  const abs = safeJoin(root, action.rel);
  let st: Stats;
  try {
    st = lstatSync(abs);
  } catch (err) {
    if (gone(err)) return 'vanished';
    throw err;
  }
  if (st.isSymbolicLink() || (action.kind === 'dir') !== st.isDirectory()) return 'changed';
  try {
    if (!st.isDirectory()) {
      unlinkSync(abs);
      return 'removed';
    }
    const name = path.basename(abs);
    const aside = name.endsWith(REMOVING_SUFFIX) ? abs : path.join(path.dirname(abs), setAsideName(name));
    if (aside !== abs) renameSync(abs, aside);
    removeTree(aside);
    return 'removed';
  } catch (err) {
    if (gone(err)) return 'vanished';
    throw err;
  }
}

/** Applies the removals of a plan. Errors are collected per unit; one failure does not stop the rest. */
export async function applyPlan(plan: RulePlan, root: string, options: ApplyOptions = {}): Promise<ApplyResult> {
  const removals = plan.actions.filter((a) => a.verdict === 'remove');
  const result: ApplyResult = { removed: 0, bytesFreed: 0, vanished: 0, changed: 0, errors: [] };
  const pause = createYielder();
  let done = 0;
  for (const action of removals) {
    try {
      const outcome = removeUnit(root, action);
      if (outcome === 'removed') {
        result.removed++;
        result.bytesFreed += action.bytes;
      } else result[outcome]++;
    } catch (err) {
      result.errors.push({ rel: action.rel, message: errorMessage(err) });
    }
    options.onRemoved?.(++done, removals.length);
    await pause();
  }
  return result;
}
