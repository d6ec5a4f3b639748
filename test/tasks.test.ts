import { defaultExpandContext } from '../src/config/paths.js';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildAgedTree, type AgedTree } from '../src/demo/agedTree.js';
import { loadResolvedConfig } from '../src/config/load.js';
import { runTasks } from '../src/coordinator/runTasks.js';
import { silentLogger } from '../src/log.js';
import { noProgress } from '../src/tasks/types.js';
import type { TaskName } from '../src/config/taskCatalogue.js';
import { NOW, exists, snapshotTree, tempDir } from './helpers.js';

let tree: AgedTree;
const MACHINES = ['myia-ai-01', 'myia-po-2023'];

beforeEach(async () => {
  const base = await tempDir('tasks');
  tree = await buildAgedTree({
    sharedState: path.join(base, 'shared'),
    local: path.join(base, 'local'),
    machines: MACHINES,
    now: NOW,
  });
  await writeFile(configFile(), JSON.stringify(tree.config));
});

const configFile = () => path.join(tree.sharedState, '.maintenance-config.json');

async function run(
  task: TaskName,
  opts: { dryRun?: boolean; leader?: boolean; config?: Record<string, unknown> } = {},
) {
  if (opts.config) await writeFile(configFile(), JSON.stringify({ ...tree.config, ...opts.config }));
  // the aged tree's local folders are this machine's: the same file serves as its machine config
  const config = await loadResolvedConfig(configFile(), tree.sharedState, defaultExpandContext({}), {
    machineFile: configFile(),
  });
  const [result] = await runTasks(
    [task],
    {
      sharedState: tree.sharedState,
      env: {},
      machineId: MACHINES[0]!,
      stateDir: path.join(tree.sharedState, '..', 'local-state'),
      config,
      now: NOW,
      dryRun: opts.dryRun ?? false,
      log: silentLogger,
      progress: noProgress,
    },
    { isLeader: opts.leader ?? true, notLeaderReason: 'not leader' },
  );
  return result!;
}
const ls = (...p: string[]) => readdir(path.join(tree.sharedState, ...p));

describe('cleanup tasks on an aged shared state', () => {
  it('rollback-cleanup: old folders and loose backups go; CRITICAL_* and the newest sync-config.ref backup stay', async () => {
    const r = await run('rollback-cleanup');
    expect(r.status).toBe('ok');
    const left = await ls('.rollback');
    expect(left.filter((n) => n.startsWith('decision-') && !n.includes('nested'))).toHaveLength(3); // days 1, 4, 7 (7 is not older than 7)
    expect(left.some((n) => n.startsWith('CRITICAL_'))).toBe(true);
    expect(left.some((n) => n.startsWith('decision-nested_'))).toBe(true); // holds a CRITICAL_ file deep inside
    // sync-config.ref backups are 12, 19, 30 and 50 days old: only the newest survives the 7-day limit
    expect(left.filter((n) => n.startsWith('sync-config.ref.backup.'))).toHaveLength(1);
    expect(left.filter((n) => n.startsWith('baseline.'))).toHaveLength(1); // 2 days old; 9, 20, 40 go
  });

  it('backup-rotation: 5 per family, per machine for configs, never the version latest.json names', async () => {
    const r = await run('backup-rotation');
    expect(r.status).toBe('ok');
    expect((await ls('.')).filter((n) => n.startsWith('sync-config.json.backup.'))).toHaveLength(5);
    for (const m of MACHINES) {
      expect((await ls('baselines')).filter((n) => n.startsWith(`${m}.json.backup.`))).toHaveLength(5);
      const versions = (await ls('configs', m)).filter((n) => n.startsWith('v'));
      expect(versions).toHaveLength(6); // 5 newest + v1.0.0 pinned by latest.json
      expect(versions).toContain(versions.find((v) => v.startsWith('v1.0.0-')));
    }
    expect(await exists(path.join(tree.sharedState, 'baselines', `${MACHINES[0]}.json`))).toBe(true);
  });

  it('log-rotation: older than 7 days, then oldest first under the size cap', async () => {
    const r = await run('log-rotation', { config: { logs: { retentionDays: 7, maxSizeMB: 50 } } });
    const left = await ls('logs');
    // names date to midnight: days 0-6 are within 7 days (56 MB > 50 MB), so the oldest of them also goes
    expect(left).toHaveLength(6);
    expect(r.rules[0]!.actions.filter((a) => a.reason.includes('cap')).map((a) => a.rel)).toEqual([
      'roosync-20261117.log',
    ]);
  });

  it('checkpoint-cleanup: only checkpoints/ goes, never the task, and a task touched recently keeps them', async () => {
    await run('checkpoint-cleanup');
    for (const [i, gone] of [false, false, true, true, true].entries()) {
      expect(await exists(path.join(tree.checkpointsRoot, `task-${i}`, 'checkpoints'))).toBe(!gone);
      expect(await exists(path.join(tree.checkpointsRoot, `task-${i}`, 'api_conversation_history.json'))).toBe(true);
    }
    expect(await exists(path.join(tree.checkpointsRoot, 'task-touched', 'checkpoints'))).toBe(true);
  });

  it('local-log-prune and local-backup-rotation', async () => {
    await run('local-log-prune');
    expect(await readdir(tree.localLogs)).toHaveLength(7); // days 0..6 (a name dates to midnight: day 7 is 7.5 days old)
    await run('local-backup-rotation');
    const siblings = await readdir(path.dirname(tree.mcpSettings));
    expect(siblings.filter((n) => n.includes('.backup_'))).toHaveLength(5);
    expect(siblings).toContain('mcp_settings.json');
  });

  it('custom rules from config run in their root, never in env/', async () => {
    const r = await run('custom-rules', {
      config: { rules: [{ name: 'everything-old', root: '.', match: ['*'], unit: 'any', olderThanDays: 1 }] },
    });
    expect(r.rules[0]!.actions.find((a) => a.rel === 'env')).toMatchObject({
      verdict: 'skip',
      reason: expect.stringContaining('never touched'),
    });
    expect(await readdir(path.join(tree.sharedState, 'env'))).toHaveLength(2);
  });

  it('fleet tasks are skipped when this machine is not the leader', async () => {
    const before = await snapshotTree(tree.sharedState);
    const r = await run('rollback-cleanup', { leader: false });
    expect(r).toMatchObject({ status: 'skipped', reason: 'not leader' });
    expect(await snapshotTree(tree.sharedState)).toEqual(before);
  });

  it('a dry run plans the same removals and changes nothing', async () => {
    const before = await snapshotTree(path.dirname(tree.sharedState));
    const planned = await run('backup-rotation', { dryRun: true });
    expect(await snapshotTree(path.dirname(tree.sharedState))).toEqual(before);
    const applied = await run('backup-rotation');
    expect(planned.counts.acted).toBe(applied.counts.acted);
    expect(planned.bytes).toBe(applied.bytes);
  });
});
