import { readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ComponentReport, MachineStatus } from '../report/status.js';
import { ensureRealDir, writeFileAtomic } from '../util/fs.js';
import { MINUTE_MS } from '../util/time.js';
import { readUntrustedFile } from '../util/untrustedJson.js';

/**
 * A rollout plan: `maintenance/rollouts/<component>.json`, data only. It names a component, the commit to reach,
 * the waves (machine ids; `*` is every machine not named in an earlier wave), the soak time, and its state. No
 * command is in it: each machine runs the build and verify commands of its own machine config. Each machine works
 * out from the plan whether its wave is open (machineStep); the leader opens the next wave or halts (advance).
 */
export const ROLLOUT_DIR = 'maintenance/rollouts';

const iso = z.iso.datetime();
export const rolloutSchema = z.object({
  component: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected a component name ([A-Za-z0-9._-])' }),
  ref: z.string().min(1).max(200),
  target: z.string().regex(/^[0-9a-f]{40}$/, { error: 'expected a full commit id' }),
  waves: z
    .array(z.array(z.string().min(1).max(100)).min(1))
    .min(1)
    .max(50),
  soakMinutes: z
    .number()
    .min(0)
    .max(60 * 24 * 60),
  state: z.enum(['active', 'halted', 'aborted', 'done']),
  /** The highest wave open (0 = the first). */
  openWave: z.number().int().min(0),
  waveOpenedAt: iso,
  startedAt: iso,
  startedBy: z.string(),
  /** Why it halted, was aborted or resumed, or what finished it. */
  reason: z.string().max(4000).optional(),
  /** Machines the rollout went on without: silent when their wave was done (listed, never waited for). */
  leftBehind: z.array(z.string()).default([]),
  updatedAt: iso,
});
export type Rollout = z.output<typeof rolloutSchema>;

export function rolloutFileRel(component: string): string {
  return `${ROLLOUT_DIR}/${component}.json`;
}

/** Every rollout plan in the shared state; a damaged one is named with its reason, never a reason to stop. */
export function readRollouts(sharedState: string): { plans: Rollout[]; damaged: { file: string; reason: string }[] } {
  const dir = path.join(sharedState, ROLLOUT_DIR);
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return { plans: [], damaged: [] };
  }
  const plans: Rollout[] = [];
  const damaged: { file: string; reason: string }[] = [];
  for (const n of names.sort()) {
    const r = readUntrustedFile(path.join(dir, n), rolloutSchema);
    if (!r.ok) damaged.push({ file: `${ROLLOUT_DIR}/${n}`, reason: r.reason });
    else if (`${r.value.component}.json` !== n)
      damaged.push({ file: `${ROLLOUT_DIR}/${n}`, reason: `names component ${r.value.component}` });
    else plans.push(r.value);
  }
  return { plans, damaged };
}

export function writeRollout(sharedState: string, plan: Rollout): string {
  const rel = rolloutFileRel(plan.component);
  const file = path.join(sharedState, rel);
  ensureRealDir(sharedState, path.dirname(file));
  writeFileAtomic(file, `${JSON.stringify(plan, null, 2)}\n`);
  return rel;
}

/** `--waves a,b --waves '*'` → `[['a','b'], ['*']]`; every machine in at most one wave, `*` at most once and last. */
export function parseWaves(specs: readonly string[]): string[][] | string {
  const waves = specs.map((s) =>
    s
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean),
  );
  if (waves.length === 0) return [['*']];
  const seen = new Set<string>();
  for (const [i, w] of waves.entries()) {
    if (w.length === 0) return `wave ${i + 1} is empty`;
    for (const m of w) {
      if (seen.has(m)) return `${m} is in two waves`;
      if (m === '*' && (w.length > 1 || i !== waves.length - 1)) return '`*` must be the last wave, alone';
      if (m !== '*' && !/^[a-z0-9][a-z0-9-]*$/.test(m)) return `"${m}" is not a machine id`;
      seen.add(m);
    }
  }
  return waves;
}

/** `30m`, `24h`, `2d`, `0` → minutes; a string when it is none of those. */
export function parseSoak(text: string): number | string {
  const m = /^(\d+(?:\.\d+)?)\s*(m|h|d)?$/.exec(text.trim());
  if (!m) return `"${text}" is not a duration (30m, 24h, 2d)`;
  const n = Number(m[1]);
  return m[2] === 'd' ? n * 1440 : m[2] === 'h' ? n * 60 : n;
}

/** The wave a machine belongs to (its index), or undefined when the plan does not include it. */
export function waveOf(plan: Pick<Rollout, 'waves'>, machine: string): number | undefined {
  const named = plan.waves.findIndex((w) => w.includes(machine));
  if (named >= 0) return named;
  const star = plan.waves.findIndex((w) => w.includes('*'));
  return star >= 0 ? star : undefined;
}

/** The machines of one wave, `*` resolved against the machines the shared state knows of. */
export function waveMachines(plan: Pick<Rollout, 'waves'>, index: number, known: readonly string[]): string[] {
  const wave = plan.waves[index] ?? [];
  if (!wave.includes('*')) return [...wave];
  const named = new Set(plan.waves.flat());
  return known.filter((m) => !named.has(m));
}

/** What one machine's status says of a component, for this target. */
export function reportFor(status: MachineStatus | undefined, component: string): ComponentReport | undefined {
  return status?.components?.[component];
}

export interface AdvanceInputs {
  plan: Rollout;
  /** Every machine's last status, with whether it is silent (fleetStatus). */
  machines: readonly (MachineStatus & { silent: boolean })[];
  now: number;
  /** A wave waiting on a live machine this long gets a note (it still holds the rollout). */
  noteAfterMinutes: number;
}

export interface Advance {
  plan: Rollout;
  /** What the leader did, for the run and the digest. */
  said: string[];
  /** A machine failed: the rollout halted, an alert goes out. */
  halted?: { machine: string; reason: string };
  /** Live machines that have not reported the target since their wave opened, held for a while. */
  waitingLong: string[];
}

/**
 * The leader's step, pure: a halted, aborted or finished plan is never advanced. Any machine of an open wave that
 * reports a failure for the target halts it. The current wave is done when each of its live machines reports the
 * target verified; the next wave opens once the soak time has run since the last of them. A silent machine is left
 * behind (listed), never waited for; a live one that has not reported is "not yet", which holds the rollout.
 */
export function advance(i: AdvanceInputs): Advance {
  const { plan, now } = i;
  const said: string[] = [];
  if (plan.state !== 'active') return { plan, said, waitingLong: [] };
  const known = i.machines.map((m) => m.machine);
  const byId = new Map(i.machines.map((m) => [m.machine, m]));
  const stamp = new Date(now).toISOString();
  // a failure anywhere in the open waves halts the whole rollout
  for (let w = 0; w <= plan.openWave; w++)
    for (const m of waveMachines(plan, w, known)) {
      const r = reportFor(byId.get(m), plan.component);
      if (r?.target === plan.target && (r.state === 'failed' || r.state === 'rolled-back')) {
        const reason = `${m}: ${r.reason ?? r.state}`;
        const halted = { ...plan, state: 'halted' as const, reason, updatedAt: stamp };
        return {
          plan: halted,
          said: [`halted the rollout of ${plan.component}: ${reason}`],
          halted: { machine: m, reason },
          waitingLong: [],
        };
      }
    }
  const wave = waveMachines(plan, plan.openWave, known);
  const done: number[] = [];
  const waiting: string[] = [];
  const behind: string[] = [];
  for (const m of wave) {
    const st = byId.get(m);
    const r = reportFor(st, plan.component);
    const at = r?.verifiedAt ? Date.parse(r.verifiedAt) : Number.NaN;
    if (r?.commit === plan.target && r.state === 'ok' && at >= Date.parse(plan.waveOpenedAt) - MINUTE_MS) done.push(at);
    else if (!st || st.silent) behind.push(m);
    else waiting.push(m);
  }
  const leftBehind = [...new Set([...plan.leftBehind, ...behind])];
  // the same plan object when nothing changed: the caller writes (and commits) only a changed plan
  const held = leftBehind.length !== plan.leftBehind.length ? { ...plan, leftBehind, updatedAt: stamp } : plan;
  const waitedMs = now - Date.parse(plan.waveOpenedAt);
  const waitingLong = waitedMs >= i.noteAfterMinutes * MINUTE_MS ? waiting : [];
  if (waiting.length > 0 || done.length === 0) return { plan: held, said, waitingLong };
  const soakEnds = Math.max(...done) + plan.soakMinutes * MINUTE_MS;
  if (now < soakEnds) return { plan: held, said, waitingLong };
  if (plan.openWave + 1 >= plan.waves.length) {
    said.push(`the rollout of ${plan.component} is done: every wave reached ${plan.target.slice(0, 12)}`);
    return {
      plan: { ...plan, leftBehind, state: 'done', reason: 'every wave done', updatedAt: stamp },
      said,
      waitingLong,
    };
  }
  const next = plan.openWave + 1;
  said.push(
    `opened wave ${next + 1} of the rollout of ${plan.component}: ${waveMachines(plan, next, known).join(', ') || '(no machine)'}`,
  );
  return { plan: { ...plan, leftBehind, openWave: next, waveOpenedAt: stamp, updatedAt: stamp }, said, waitingLong };
}

/** What a machine does about one plan (pure): update to the target, or nothing and why. */
export function machineStep(
  plan: Rollout | undefined,
  machine: string,
  head: string,
  failedTarget: string | undefined,
): { update: false; why: string } | { update: true } {
  if (!plan) return { update: false, why: 'no rollout' };
  if (head === plan.target) return { update: false, why: 'at the target' };
  if (plan.state !== 'active') return { update: false, why: `the rollout is ${plan.state}` };
  const wave = waveOf(plan, machine);
  if (wave === undefined) return { update: false, why: 'this machine is in no wave' };
  if (wave > plan.openWave) return { update: false, why: `its wave (${wave + 1}) is not open yet` };
  if (failedTarget === plan.target)
    return { update: false, why: 'the update to this target failed here: waiting for the rollout to halt' };
  return { update: true };
}
