import type { CheckResult } from '../health/types.js';
import { machineViews, readMachines } from '../report/fleetStatus.js';
import { readStatus } from '../report/status.js';
import { rolloutStep } from '../rollout/apply.js';
import { advance, readRollouts, writeRollout } from '../rollout/plan.js';
import { record } from './healthTasks.js';
import { defineTask } from './retentionTask.js';

/**
 * Rollouts (rollout/): every tick, each machine brings its declared components to their plan's target when its
 * wave is open (`rollout`, local: it runs this machine's own build and verify commands, under the run lock the tick
 * holds); the leader opens the next wave or halts a rollout that failed (`rollout-advance`, fleet work).
 */

export const rolloutTask = defineTask('rollout', async (ctx, result) => {
  const components = ctx.config.components;
  if (components.length === 0) {
    result.status = 'skipped';
    result.reason = "no component declared in this machine's config";
    return;
  }
  const { plans, damaged } = readRollouts(ctx.sharedState);
  for (const d of damaged) result.warnings.push(`${d.file}: not a rollout plan (${d.reason}): ignored`);
  const previous = readStatus(ctx.sharedState, ctx.machineId)?.components ?? {};
  const reports: NonNullable<typeof result.components> = {};
  const checks: CheckResult[] = [];
  for (const c of components) {
    const plan = plans.find((p) => p.component === c.name);
    const step = await rolloutStep(c, plan, {
      stateDir: ctx.stateDir,
      machineId: ctx.machineId,
      now: ctx.now,
      dryRun: ctx.dryRun,
      log: ctx.log,
      previous: previous[c.name],
    });
    reports[c.name] = step.report;
    result.said = [...(result.said ?? []), ...step.said.map((s) => `${c.name}: ${s}`)];
    result.counts.scanned++;
    if (step.said.length > 0 && !step.failure && !step.wouldUpdate) result.counts.acted++;
    if (!plan) continue;
    const base = { check: 'rollout' as const, subject: c.name, type: 'BUILD' as const, severity: 'HIGH' as const };
    checks.push(
      step.failure
        ? {
            ...base,
            state: 'failing',
            summary: `the update of ${c.name} to ${plan.target.slice(0, 12)} failed on ${ctx.machineId}: ${step.failure.reason}`,
            actions: [
              `Read the output below, fix ${c.name} at ${plan.ref}, then \`roosync-maint rollout start ${c.name} <fixed ref>\``,
              step.failure.rolledBack
                ? `${ctx.machineId} is back on ${step.report.commit?.slice(0, 12)}, built and verified`
                : `${ctx.machineId} could not be brought back: check ${c.dir} by hand`,
            ],
            data: { target: plan.target, stderrTail: step.failure.tail.join('\n') },
          }
        : {
            ...base,
            state: 'ok',
            summary: `${c.name} at ${step.report.commit?.slice(0, 12) ?? '?'}`,
            actions: [],
            data: {},
          },
    );
  }
  result.components = reports;
  record(result, checks);
  if (checks.some((c) => c.state === 'failing')) result.status = 'failed';
});

export const rolloutAdvanceTask = defineTask('rollout-advance', async (ctx, result) => {
  const { plans, damaged } = readRollouts(ctx.sharedState);
  for (const d of damaged) result.warnings.push(`${d.file}: not a rollout plan (${d.reason}): ignored`);
  if (plans.length === 0) {
    result.status = damaged.length ? 'ok' : 'skipped';
    if (!damaged.length) result.reason = 'no rollout';
    return;
  }
  // the status files alone (fleetStatus would also count the inbox, every tick)
  const machines = machineViews(readMachines(ctx.sharedState).machines, ctx.config.config, ctx.now);
  const checks: CheckResult[] = [];
  for (const plan of plans) {
    result.counts.scanned++;
    const step = advance({
      plan,
      machines,
      now: ctx.now,
      noteAfterMinutes: ctx.config.config.rollouts.noteAfterHours * 60,
    });
    for (const m of step.waitingLong)
      result.warnings.push(
        `the rollout of ${plan.component} waits for ${m}: no report of the target since its wave opened`,
      );
    result.said = [...(result.said ?? []), ...step.said];
    if (step.plan !== plan) {
      if (!ctx.dryRun) result.fleetPaths = [...(result.fleetPaths ?? []), writeRollout(ctx.sharedState, step.plan)];
      result.counts.acted++;
    }
    if (plan.state === 'done' || plan.state === 'aborted') continue;
    const base = {
      check: 'rollout-halted' as const,
      subject: plan.component,
      type: 'BUILD' as const,
      severity: 'HIGH' as const,
    };
    const halted = step.plan.state === 'halted';
    const tail = step.halted
      ? (machines.find((m) => m.machine === step.halted!.machine)?.components?.[plan.component]?.tail ?? [])
      : [];
    checks.push(
      halted
        ? {
            ...base,
            state: 'failing',
            summary: `the rollout of ${plan.component} to ${plan.target.slice(0, 12)} is halted: ${step.plan.reason ?? ''}`,
            actions: [
              'the machines already at the target stay there; the others stay where they are',
              `\`roosync-maint rollout status ${plan.component}\`; then \`rollout resume\`, \`rollout abort\` or a new \`rollout start\``,
            ],
            data: { target: plan.target, stderrTail: tail.join('\n') },
          }
        : {
            ...base,
            state: 'ok',
            summary: `the rollout of ${plan.component}: ${step.plan.state}`,
            actions: [],
            data: {},
          },
    );
  }
  record(result, checks);
});
