import path from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import { ComponentCheckout } from '../git/repo.js';
import type { ComponentReport } from '../report/status.js';
import { readState, writeState } from '../sharedState/localState.js';
import { type CommandSpec, describeCommand, runCommand, tailOf } from '../util/command.js';
import { unlinkIfPresent } from '../util/fs.js';
import type { Logger } from '../log.js';
import { machineStep, type Rollout } from './plan.js';

/**
 * One machine's rollout step for one component: bring its checkout to the plan's target — fetch, check out,
 * build, verify, each with the deadline — or, when that fails, back to the commit it was at, rebuilt and verified.
 * A journal in local state is written before the checkout moves and removed once it settled: a run killed in
 * between finds it at its next tick and finishes the update, or rolls back, so the checkout ends at the target or
 * at the previous commit, never in between.
 */

export interface Component {
  name: string;
  dir: string;
  build?: CommandSpec;
  verify?: CommandSpec;
  timeoutMs: number;
}

const journalSchema = z.object({ target: z.string(), previous: z.string(), startedAt: z.string() });
/** Targets whose update failed here: not retried while that rollout lasts (the leader halts it). */
const failedSchema = z.record(z.string(), z.string());

export interface StepOutcome {
  report: ComponentReport;
  /** What happened, for the run's output; empty when nothing was done. */
  said: string[];
  /** The update failed (and was rolled back, or not even that). */
  failure?: { reason: string; tail: string[]; rolledBack: boolean };
  /** What would be done (a dry run). */
  wouldUpdate?: boolean;
}

interface StepContext {
  stateDir: string;
  machineId: string;
  now: number;
  dryRun: boolean;
  log: Logger;
  /** This component's report in the last status file (its verifiedAt carries over). */
  previous: ComponentReport | undefined;
}

const journalFile = (stateDir: string, name: string) => path.join(stateDir, `rollout-${name}.json`);
const failedFile = (stateDir: string) => path.join(stateDir, 'rollout-failed.json');

/** Runs build then verify in the checkout; the first that fails says why, with its output's tail. */
async function buildAndVerify(c: Component): Promise<{ ok: true } | { ok: false; reason: string; tail: string[] }> {
  for (const [what, command] of [
    ['build', c.build],
    ['verify', c.verify],
  ] as const) {
    if (!command) continue;
    const r = await runCommand(command, { cwd: c.dir, timeoutMs: c.timeoutMs });
    if (r.exitCode !== 0 || r.timedOut) {
      const how = r.timedOut ? `timed out after ${Math.round(c.timeoutMs / 1000)} s` : `exited ${r.exitCode}`;
      return { ok: false, reason: `${what} (${describeCommand(command)}) ${how}`, tail: tailOf(r.output, 20) };
    }
  }
  return { ok: true };
}

export async function rolloutStep(c: Component, plan: Rollout | undefined, ctx: StepContext): Promise<StepOutcome> {
  const at = new Date(ctx.now).toISOString();
  const checkout = new ComponentCheckout(c.dir, c.timeoutMs);
  let head: string;
  try {
    head = await checkout.head();
  } catch (err) {
    return { report: { commit: null, state: 'unreadable', reason: `${c.dir}: ${errorMessage(err)}` }, said: [] };
  }
  const failed = readState(failedFile(ctx.stateDir), failedSchema, ctx.log) ?? {};
  const journal = readState(journalFile(ctx.stateDir, c.name), journalSchema, ctx.log);
  // a killed update: finished while its rollout still asks for it, else rolled back
  if (journal && !ctx.dryRun) {
    const wanted = plan?.state === 'active' && plan.target === journal.target;
    return settle(c, checkout, ctx, journal, wanted ? journal.target : journal.previous, at, [
      'resumed an update a killed run left',
    ]);
  }
  const step = machineStep(plan, ctx.machineId, head, failed[c.name]);
  if (!step.update) {
    // a failure stays reported while its rollout lasts (the leader halts on it)
    if (plan && failed[c.name] === plan.target && ctx.previous?.target === plan.target)
      return { report: ctx.previous, said: [] };
    const verified = ctx.previous?.commit === head ? ctx.previous.verifiedAt : undefined;
    const target = plan ? { target: plan.target } : {};
    return { report: { commit: head, ...target, state: 'ok', ...(verified && { verifiedAt: verified }) }, said: [] };
  }
  const target = plan!.target;
  if (ctx.dryRun)
    return {
      report: { commit: head, target, state: 'ok' },
      said: [`would update ${c.name} from ${head.slice(0, 12)} to ${target.slice(0, 12)}, then build and verify`],
      wouldUpdate: true,
    };
  const changed = await checkout.changedByHand().catch(() => []);
  if (changed.length > 0)
    return fail(
      ctx,
      c,
      head,
      target,
      `the checkout has changes made by hand (${changed.slice(0, 3).join('; ')})`,
      [],
      false,
    );
  const entry = { target, previous: head, startedAt: at };
  writeState(journalFile(ctx.stateDir, c.name), entry);
  return settle(c, checkout, ctx, entry, target, at, []);
}

/** Moves the checkout to `to` (the target, or back to the previous commit), builds and verifies; ends the journal. */
async function settle(
  c: Component,
  checkout: ComponentCheckout,
  ctx: StepContext,
  journal: z.output<typeof journalSchema>,
  to: string,
  at: string,
  said: string[],
): Promise<StepOutcome> {
  const { target, previous } = journal;
  try {
    if (to === target && !(await checkout.commitOf(target))) await checkout.fetch();
    if (!(await checkout.commitOf(to))) throw new Error(`${to.slice(0, 12)} is not in ${c.dir}, even after a fetch`);
    await checkout.switchTo(to);
  } catch (err) {
    return rollBack(c, checkout, ctx, journal, errorMessage(err), [], said);
  }
  const built = await buildAndVerify(c);
  if (!built.ok) {
    if (to === target) return rollBack(c, checkout, ctx, journal, built.reason, built.tail, said);
    // the way back failed too: said, and the journal stays so that the next tick tries again
    return fail(
      ctx,
      c,
      previous,
      target,
      `rolled back to ${previous.slice(0, 12)}, but ${built.reason}`,
      built.tail,
      false,
    );
  }
  unlinkIfPresent(journalFile(ctx.stateDir, c.name));
  if (to === target) {
    ctx.log.info({ component: c.name, commit: to }, `rollout: ${c.name} at ${to.slice(0, 12)}, verified`);
    return {
      report: { commit: to, target, state: 'ok', verifiedAt: at },
      said: [...said, `updated ${c.name} from ${previous.slice(0, 12)} to ${to.slice(0, 12)}: built and verified`],
    };
  }
  // back at the previous commit because the rollout was halted or aborted while this update was killed
  return {
    report: { commit: to, target, state: 'ok', verifiedAt: at },
    said: [
      ...said,
      `rolled ${c.name} back to ${to.slice(0, 12)}: its rollout no longer asks for ${target.slice(0, 12)}`,
    ],
  };
}

async function rollBack(
  c: Component,
  checkout: ComponentCheckout,
  ctx: StepContext,
  journal: z.output<typeof journalSchema>,
  reason: string,
  tail: string[],
  said: string[],
): Promise<StepOutcome> {
  const { target, previous } = journal;
  try {
    await checkout.switchTo(previous);
  } catch (err) {
    return fail(ctx, c, previous, target, `${reason}; and the way back failed: ${errorMessage(err)}`, tail, false);
  }
  const back = await buildAndVerify(c);
  if (!back.ok)
    return fail(
      ctx,
      c,
      previous,
      target,
      `${reason}; rolled back to ${previous.slice(0, 12)}, but ${back.reason}`,
      tail,
      false,
    );
  unlinkIfPresent(journalFile(ctx.stateDir, c.name));
  const outcome = fail(
    ctx,
    c,
    previous,
    target,
    `${reason}; rolled back to ${previous.slice(0, 12)} (built and verified)`,
    tail,
    true,
  );
  return { ...outcome, said: [...said, ...outcome.said] };
}

function fail(
  ctx: StepContext,
  c: Component,
  commit: string,
  target: string,
  reason: string,
  tail: string[],
  rolledBack: boolean,
): StepOutcome {
  const failed = readState(failedFile(ctx.stateDir), failedSchema, ctx.log) ?? {};
  writeState(failedFile(ctx.stateDir), { ...failed, [c.name]: target });
  const state = rolledBack ? 'rolled-back' : 'failed';
  return {
    report: { commit, target, state, reason, tail },
    said: [`the update of ${c.name} to ${target.slice(0, 12)} failed: ${reason}`],
    failure: { reason, tail, rolledBack },
  };
}
