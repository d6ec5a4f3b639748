import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dueTasks, recordRuns } from '../src/coordinator/schedule.js';
import { configSchema } from '../src/config/schema.js';
import { emptyResult } from '../src/tasks/types.js';
import { buildAgedTree } from '../src/demo/agedTree.js';
import { DAY, NOW, cli, isolatedEnv, tempDir } from './helpers.js';

const config = configSchema.parse({ schedule: { tasks: { 'rollback-cleanup': '6h' } } });

describe('the schedule of due tasks (pure)', () => {
  it('never run, failed, or past its interval is due; the config overrides the defaults', () => {
    const state = {
      tasks: {
        'rollback-cleanup': { lastRunAt: NOW - 7 * 3600_000, ok: true },
        'log-rotation': { lastRunAt: NOW - 3600_000, ok: true },
        'backup-rotation': { lastRunAt: NOW - 60_000, ok: false },
        'inbox-hygiene': { lastRunAt: NOW - 1, ok: true },
      },
    };
    const d = Object.fromEntries(
      dueTasks(
        ['rollback-cleanup', 'log-rotation', 'backup-rotation', 'inbox-hygiene', 'messages-archive'],
        state,
        NOW,
        config,
      ).map((x) => [x.task, x.due]),
    );
    expect(d).toEqual({
      'rollback-cleanup': true,
      'log-rotation': false,
      'backup-rotation': true,
      'inbox-hygiene': true,
      'messages-archive': true,
    });
  });

  it('records what ran, not what was skipped or only planned', () => {
    const ran = { ...emptyResult('log-rotation', 'fleet', false) };
    const skipped = { ...emptyResult('rollback-cleanup', 'fleet', false), status: 'skipped' as const };
    const planned = { ...emptyResult('backup-rotation', 'fleet', true) };
    expect(Object.keys(recordRuns({ tasks: {} }, [ran, skipped, planned], NOW).tasks)).toEqual(['log-rotation']);
  });

  it('a health task failed by its checks ran to its end: due again on its interval, not every tick', () => {
    const checks = { ...emptyResult('health', 'local', false), status: 'failed' as const, failingChecks: 2 };
    const crashed = { ...emptyResult('disk-check', 'local', false), status: 'failed' as const, errors: ['EIO'] };
    const state = recordRuns({ tasks: {} }, [checks, crashed], NOW);
    expect(state.tasks).toEqual({ health: { lastRunAt: NOW, ok: true }, 'disk-check': { lastRunAt: NOW, ok: false } });
    const due = dueTasks(['health', 'disk-check'], state, NOW + 15 * 60_000, config);
    expect(due.map((d) => [d.task, d.due])).toEqual([
      ['health', false],
      ['disk-check', true],
    ]);
  });
});

describe('run without --task runs what is due', () => {
  it('daily tasks once a day, every-tick tasks each tick, and a corrupt schedule is rebuilt', async () => {
    const base = await tempDir('sched');
    const tree = await buildAgedTree({
      sharedState: path.join(base, 'shared'),
      local: path.join(base, 'local'),
      machines: ['myia-ai-01'],
      now: NOW,
    });
    writeFileSync(path.join(tree.sharedState, '.maintenance-config.json'), JSON.stringify(tree.config));
    const args = [
      'run',
      '--no-sync',
      '--leader',
      '--json',
      '--shared-state',
      tree.sharedState,
      '--machine',
      'myia-ai-01',
    ];
    const due = async (now: number) =>
      (JSON.parse((await cli(args, { now })).stdout).schedule as { task: string; due: boolean }[])
        .filter((d) => d.due)
        .map((d) => d.task);
    expect(await due(NOW)).toContain('rollback-cleanup');
    expect(await due(NOW + 15 * 60_000)).toEqual(['inbox-hygiene', 'fleet-liveness', 'rollout-advance', 'rollout']);
    expect(await due(NOW + DAY)).toContain('rollback-cleanup');
    const env = await isolatedEnv();
    const stateRoot = path.join(env.XDG_STATE_HOME!, 'roosync-maint');
    const dir = path.join(stateRoot, readdirSync(stateRoot)[0]!);
    writeFileSync(path.join(dir, 'schedule.json'), '{ not json');
    expect(await due(NOW + DAY + 60_000)).toContain('rollback-cleanup'); // rebuilt: everything due again
    expect(readdirSync(dir).some((n) => n.startsWith('schedule.json.corrupt-'))).toBe(true);
  });
});
