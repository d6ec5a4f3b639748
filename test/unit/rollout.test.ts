import { describe, expect, it } from 'vitest';
import type { MachineStatus } from '../../src/report/status.js';
import {
  advance,
  machineStep,
  parseSoak,
  parseWaves,
  type AdvanceInputs,
  type Rollout,
  waveMachines,
  waveOf,
} from '../../src/rollout/plan.js';

const T = Date.UTC(2026, 10, 23, 12, 0, 0);
const MIN = 60_000;
const iso = (t: number) => new Date(t).toISOString();
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

const plan = (over: Partial<Rollout> = {}): Rollout => ({
  component: 'app',
  ref: 'main',
  target: B,
  waves: [['m2'], ['*']],
  soakMinutes: 60,
  state: 'active',
  openWave: 0,
  waveOpenedAt: iso(T),
  startedAt: iso(T),
  startedBy: 'm1',
  leftBehind: [],
  updatedAt: iso(T),
  ...over,
});

const machine = (id: string, c: MachineStatus['components'], silent = false) =>
  ({
    machine: id,
    version: '0.1.0',
    lastTickAt: iso(T),
    lastSuccessAt: null,
    offline: false,
    leader: { isLeader: false, term: null, reason: '' },
    tasks: [],
    failed: [],
    components: c,
    silent,
  }) as MachineStatus & { silent: boolean };

const at = (commit: string, verifiedAt?: number) => ({
  app: { commit, target: B, state: 'ok' as const, ...(verifiedAt && { verifiedAt: iso(verifiedAt) }) },
});

describe('waves', () => {
  it('parses --waves and --soak, refusing what cannot be meant', () => {
    expect(parseWaves(['m2', 'm3,m4', '*'])).toEqual([['m2'], ['m3', 'm4'], ['*']]);
    expect(parseWaves([])).toEqual([['*']]);
    expect(parseWaves(['*', 'm2'])).toMatch(/last wave/);
    expect(parseWaves(['m2', 'm2'])).toMatch(/two waves/);
    expect(parseSoak('24h')).toBe(1440);
    expect(parseSoak('2d')).toBe(2880);
    expect(parseSoak('30m')).toBe(30);
    expect(parseSoak('soon')).toMatch(/not a duration/);
  });
  it('`*` is every machine not named in another wave', () => {
    const p = plan({ waves: [['m2'], ['m3'], ['*']] });
    expect(waveOf(p, 'm2')).toBe(0);
    expect(waveOf(p, 'm9')).toBe(2);
    expect(waveMachines(p, 2, ['m1', 'm2', 'm3', 'm4'])).toEqual(['m1', 'm4']);
  });
});

describe('a machine', () => {
  it('updates only while its wave is open, the rollout active, and the target not failed here', () => {
    expect(machineStep(plan(), 'm2', A, undefined)).toEqual({ update: true });
    expect(machineStep(plan(), 'm3', A, undefined)).toMatchObject({
      update: false,
      why: expect.stringMatching(/not open/),
    });
    expect(machineStep(plan({ state: 'halted' }), 'm2', A, undefined)).toMatchObject({ update: false });
    expect(machineStep(plan(), 'm2', B, undefined)).toMatchObject({ why: 'at the target' });
    expect(machineStep(plan(), 'm2', A, B)).toMatchObject({ update: false, why: expect.stringMatching(/failed here/) });
    expect(machineStep(undefined, 'm2', A, undefined)).toMatchObject({ update: false });
  });
});

describe('the leader', () => {
  // the leader's step at `now`, with notes after a day of waiting
  const step = (p: Rollout, machines: AdvanceInputs['machines'], now: number) =>
    advance({ plan: p, machines, now, noteAfterMinutes: 24 * 60 });
  it('holds while the canary has not reported, then soaks, then opens the next wave, then is done', () => {
    const waiting = step(plan(), [machine('m1', at(A)), machine('m2', at(A))], T + 30 * MIN);
    expect(waiting.plan.openWave).toBe(0);
    const soaking = step(plan(), [machine('m1', at(A)), machine('m2', at(B, T + 10 * MIN))], T + 60 * MIN);
    expect(soaking.plan.openWave).toBe(0);
    const opened = step(plan(), [machine('m1', at(A)), machine('m2', at(B, T + 10 * MIN))], T + 71 * MIN);
    expect(opened.plan).toMatchObject({ openWave: 1, waveOpenedAt: iso(T + 71 * MIN) });
    expect(opened.said[0]).toMatch(/opened wave 2 .*: m1/);
    const done = step(
      opened.plan,
      [machine('m1', at(B, T + 80 * MIN)), machine('m2', at(B, T + 10 * MIN))],
      T + 141 * MIN,
    );
    expect(done.plan.state).toBe('done');
  });
  it('halts at a failure, and never advances a halted plan', () => {
    const failed = {
      app: { commit: A, target: B, state: 'rolled-back' as const, reason: 'verify exited 1; rolled back' },
    };
    const h = step(plan(), [machine('m1', at(A)), machine('m2', failed)], T + MIN);
    expect(h.plan).toMatchObject({ state: 'halted', reason: 'm2: verify exited 1; rolled back' });
    expect(h.halted).toEqual({ machine: 'm2', reason: 'm2: verify exited 1; rolled back' });
    const again = step(h.plan, [machine('m2', at(B, T))], T + 600 * MIN);
    expect(again.plan).toBe(h.plan);
  });
  it('leaves a silent machine behind, never waits for it; a live one that has not reported holds, with a note later', () => {
    const p = plan({ waves: [['m2', 'm3']] });
    const silentBehind = step(p, [machine('m2', at(B, T + MIN)), machine('m3', at(A), true)], T + 62 * MIN);
    expect(silentBehind.plan).toMatchObject({ state: 'done', leftBehind: ['m3'] });
    const held = step(p, [machine('m2', at(B, T + MIN)), machine('m3', at(A))], T + 25 * 60 * MIN);
    expect(held.plan.state).toBe('active');
    expect(held.waitingLong).toEqual(['m3']);
  });
});

describe('trust', () => {
  it('components come from the machine config only: a fleet config that declares one is ignored and said', async () => {
    const { layerConfigs, trustNotice } = await import('../../src/config/layers.js');
    const hostile = { components: { app: { dir: '/', build: 'rm -rf ~', verify: 'true' } } };
    const fromFleet = layerConfigs(hostile, {}, []);
    expect(fromFleet.merged).not.toHaveProperty('components');
    expect(fromFleet.trust.machineOnly.map((s) => s.path)).toEqual(['components']);
    expect(trustNotice(fromFleet.trust).join('\n')).toContain('components');
    const own = { components: { app: { dir: '/opt/app', build: ['npm', 'run', 'build'] } } };
    expect(layerConfigs(hostile, own, []).merged).toMatchObject(own);
  });
});
