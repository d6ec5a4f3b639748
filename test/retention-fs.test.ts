import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanRule, RootOutsideBoundaryError } from '../src/retention/scan.js';
import { planRetention } from '../src/retention/plan.js';
import { applyPlan } from '../src/retention/apply.js';
import type { RetentionRule } from '../src/retention/rule.js';
import { isoDashed, writeAged } from '../src/demo/agedTree.js';
import { DAY, NOW, exists, snapshotTree, tempDir } from './helpers.js';

const rule = (root: string, over: Partial<RetentionRule> = {}): RetentionRule => ({
  name: 't',
  root,
  label: 'root/',
  boundary: root,
  match: ['*'],
  unit: 'dir',
  olderThanDays: 7,
  groupBy: 'none',
  exclude: ['CRITICAL_*'],
  dateFrom: 'name-or-mtime',
  ...over,
});

async function cleanup(r: RetentionRule, now = NOW) {
  const scan = await scanRule(r);
  const plan = planRetention(scan.entries, r, now);
  const applied = await applyPlan(plan, scan.realRoot);
  return { plan, applied };
}

describe('scan and apply on real trees', () => {
  it('never follows a symlink out of a root: neither as a unit nor inside one', async () => {
    const base = await tempDir('symlink');
    const outside = path.join(base, 'outside');
    await writeAged(path.join(outside, 'precious.txt'), 'do not delete', NOW - 90 * DAY);
    const root = path.join(base, 'root');
    await writeAged(path.join(root, `old_${isoDashed(NOW - 30 * DAY)}`, 'a.json'), '{}', NOW - 30 * DAY);
    await symlink(outside, path.join(root, `old_${isoDashed(NOW - 30 * DAY)}`, 'link-out'));
    await symlink(outside, path.join(root, `linked_${isoDashed(NOW - 30 * DAY)}`));
    const before = await snapshotTree(outside);
    const { plan, applied } = await cleanup(rule(root));
    expect(plan.actions.find((a) => a.rel.startsWith('linked_'))).toMatchObject({
      verdict: 'skip',
      reason: expect.stringContaining('symbolic link'),
    });
    expect(applied.removed).toBe(1);
    expect(await snapshotTree(outside)).toEqual(before);
    expect(await exists(path.join(root, `linked_${isoDashed(NOW - 30 * DAY)}`))).toBe(true);
  });

  it('refuses a root that a symlink leads outside its boundary', async () => {
    const base = await tempDir('boundary');
    await mkdir(path.join(base, 'shared'));
    await writeAged(path.join(base, 'elsewhere', `old_${isoDashed(NOW - 30 * DAY)}`, 'x'), 'x', NOW - 30 * DAY);
    await symlink(path.join(base, 'elsewhere'), path.join(base, 'shared', '.rollback'));
    const r = { ...rule(path.join(base, 'shared', '.rollback')), boundary: path.join(base, 'shared') };
    await expect(scanRule(r)).rejects.toBeInstanceOf(RootOutsideBoundaryError);
    expect(await readdir(path.join(base, 'elsewhere'))).toHaveLength(1);
  });

  it('keeps a unit holding a CRITICAL_ name at any depth', async () => {
    const root = await tempDir('critical');
    const old = NOW - 30 * DAY;
    await writeAged(path.join(root, `a_${isoDashed(old)}`, 'x', 'y', 'z', 'CRITICAL_point.json'), '{}', old);
    await writeAged(path.join(root, `CRITICAL_top_${isoDashed(old)}`, 'f'), '{}', old);
    await writeAged(path.join(root, `b_${isoDashed(old)}`, 'f'), '{}', old);
    const { plan } = await cleanup(rule(root));
    expect(Object.fromEntries(plan.actions.map((a) => [a.rel.split('_')[0], a.verdict]))).toEqual({
      a: 'skip',
      CRITICAL: 'skip',
      b: 'remove',
    });
    expect(await exists(path.join(root, `a_${isoDashed(old)}`, 'x', 'y', 'z', 'CRITICAL_point.json'))).toBe(true);
  });

  it('dates an undated folder by its newest file: partly newer means kept', async () => {
    const root = await tempDir('partly');
    await writeAged(path.join(root, 'mixed', 'old.json'), '{}', NOW - 40 * DAY);
    await writeAged(path.join(root, 'mixed', 'deep', 'new.json'), '{}', NOW - 2 * DAY);
    await writeAged(path.join(root, 'stale', 'old.json'), '{}', NOW - 40 * DAY);
    const { plan } = await cleanup(rule(root));
    expect(Object.fromEntries(plan.actions.map((a) => [a.rel, a.verdict]))).toEqual({ mixed: 'keep', stale: 'remove' });
    expect(plan.actions.find((a) => a.rel === 'mixed')).toMatchObject({ files: 2, bytes: 4 });
  });

  it('finishes a folder removal that a killed run left set aside, and tolerates units vanishing', async () => {
    const root = await tempDir('resume');
    await writeAged(path.join(root, '.gone_2026-01-01T00-00-00Z.roosync-maint-removing', 'half', 'f'), 'x', NOW);
    await writeAged(path.join(root, `gone-too_${isoDashed(NOW - 30 * DAY)}`, 'f'), 'x', NOW - 30 * DAY);
    const r = rule(root);
    const scan = await scanRule(r);
    const plan = planRetention(scan.entries, r, NOW);
    expect(plan.totals.remove).toBe(2);
    // another program removes one unit between plan and apply
    await import('node:fs/promises').then((fs) =>
      fs.rm(path.join(root, `gone-too_${isoDashed(NOW - 30 * DAY)}`), { recursive: true }),
    );
    const applied = await applyPlan(plan, scan.realRoot);
    expect(applied).toMatchObject({ removed: 1, vanished: 1, errors: [] });
    expect(await readdir(root)).toEqual([]);
  });

  it('matches multi-segment globs without descending into symlinked folders', async () => {
    const base = await tempDir('segments');
    const root = path.join(base, 'tasks');
    await writeAged(path.join(root, 't1', 'checkpoints', 'o'), 'x', NOW - 30 * DAY);
    await writeAged(path.join(base, 'other', 'checkpoints', 'o'), 'x', NOW - 30 * DAY);
    await symlink(path.join(base, 'other'), path.join(root, 't2'));
    const scan = await scanRule(rule(root, { match: ['*/checkpoints'] }));
    expect(scan.entries.map((e) => e.rel)).toEqual(['t1/checkpoints']);
  });

  it('a missing root is nothing to do', async () => {
    const base = await tempDir('missing');
    expect(await scanRule(rule(path.join(base, 'nope')))).toMatchObject({ entries: [], missingRoot: true });
  });

  it('writes nothing when there is nothing to remove', async () => {
    const root = await tempDir('noop');
    await writeFile(path.join(root, 'keep.txt'), 'x');
    const before = await snapshotTree(root);
    await cleanup(rule(root, { unit: 'any' }));
    expect(await snapshotTree(root)).toEqual(before);
  });
});
