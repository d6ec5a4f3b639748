import { describe, expect, it } from 'vitest';
import { dateFromName, familyOf } from '../src/retention/dates.js';
import { planRetention, type Entry } from '../src/retention/plan.js';
import { describeRule, type RetentionRule } from '../src/retention/rule.js';
import { DAY, NOW } from './helpers.js';

const rule = (over: Partial<RetentionRule> = {}): RetentionRule => ({
  name: 'test',
  root: '/r',
  label: 'r/',
  boundary: '/r',
  match: ['*'],
  unit: 'any',
  groupBy: 'none',
  exclude: [],
  dateFrom: 'name-or-mtime',
  ...over,
});
const file = (rel: string, ageDays: number, extra: Partial<Entry> = {}): Entry => ({
  rel,
  kind: 'file',
  bytes: 100,
  files: 1,
  newestMtimeMs: NOW - ageDays * DAY,
  ...extra,
});
const verdicts = (entries: Entry[], r: RetentionRule, prot?: Map<string, string>) =>
  Object.fromEntries(planRetention(entries, r, NOW, prot).actions.map((a) => [a.rel, a.verdict]));
const reasonOf = (entries: Entry[], r: RetentionRule, rel: string) =>
  planRetention(entries, r, NOW).actions.find((a) => a.rel === rel)!.reason;

describe('dates in names', () => {
  it.each([
    ['dec_2026-08-22T02-01-33-123Z', Date.UTC(2026, 7, 22, 2, 1, 33, 123)],
    ['sync-config.ref.backup.2026-08-22T02-01-33Z.json', Date.UTC(2026, 7, 22, 2, 1, 33)],
    ['msg-20260822T020133-abc123.json', Date.UTC(2026, 7, 22, 2, 1, 33)],
    ['roosync-20260822-1.log', Date.UTC(2026, 7, 22)],
    ['report-2026-08-22.md', Date.UTC(2026, 7, 22)],
    ['myia-ai-01.json.backup.1724292093123', 1724292093123],
  ])('%s', (name, ms) => expect(dateFromName(name)?.ms).toBe(ms));

  it('rejects impossible dates and plain numbers', () => {
    expect(dateFromName('x-2026-02-31T00-00-00Z')).toBeUndefined();
    expect(dateFromName('v12-build-99999999')).toBeUndefined();
    expect(dateFromName('sync-config.json')).toBeUndefined();
  });

  it('derives a family by replacing the timestamp with *', () => {
    const name = 'baseline.myia-ai-01.backup.2026-08-22T02-01-33-123Z.json';
    expect(familyOf(name, dateFromName(name))).toBe('baseline.myia-ai-01.backup.*.json');
  });
});

describe('planRetention', () => {
  const entries = [file('a-old', 30), file('b-new', 1), file('c-mid', 8)];

  it('an empty policy keeps everything', () => {
    expect(verdicts(entries, rule())).toEqual({ 'a-old': 'keep', 'b-new': 'keep', 'c-mid': 'keep' });
  });

  it('removes what is older than the limit, each with its reason', () => {
    const r = rule({ olderThanDays: 7 });
    expect(verdicts(entries, r)).toEqual({ 'a-old': 'remove', 'b-new': 'keep', 'c-mid': 'remove' });
    expect(reasonOf(entries, r, 'a-old')).toBe('older than 7 days: dated 2026-10-24 (from its mtime)');
  });

  it('dates from the name before the mtime', () => {
    const named = [file('dec_2026-01-02T00-00-00Z', 0)];
    const plan = planRetention(named, rule({ olderThanDays: 7 }), NOW);
    expect(plan.actions[0]).toMatchObject({ verdict: 'remove', dateSource: 'name' });
    expect(planRetention(named, rule({ olderThanDays: 7, dateFrom: 'mtime' }), NOW).actions[0]!.verdict).toBe('keep');
  });

  it('keeps the newest K of each family and removes the rest', () => {
    const backups = [0, 1, 2, 3, 4, 5, 6].map((d) =>
      file(`x.backup.${new Date(NOW - d * DAY).toISOString().slice(0, 10)}`, d),
    );
    const other = [file('y.backup.2026-01-01', 300)];
    const v = verdicts([...backups, ...other], rule({ keepNewest: 5, groupBy: 'family' }));
    expect(Object.values(v).filter((x) => x === 'remove')).toHaveLength(2);
    expect(v['y.backup.2026-01-01']).toBe('keep'); // alone in its family: it is its family's newest
    expect(v['x.backup.2026-11-17']).toBe('remove');
  });

  it('groups by parent folder', () => {
    const versions = ['m1/v1', 'm1/v2', 'm1/v3', 'm2/v1'].map((rel, i) => file(rel, 10 - i));
    expect(verdicts(versions, rule({ keepNewest: 2, groupBy: 'parent' }))).toEqual({
      'm1/v1': 'remove',
      'm1/v2': 'keep',
      'm1/v3': 'keep',
      'm2/v1': 'keep',
    });
  });

  it('keeps are a union: the newest K stay even when older than the age limit', () => {
    const old = [file('f.backup.2026-01-01', 300), file('f.backup.2026-02-01', 290)];
    expect(verdicts(old, rule({ olderThanDays: 7, keepNewest: 1, groupBy: 'family' }))).toEqual({
      'f.backup.2026-01-01': 'remove',
      'f.backup.2026-02-01': 'keep',
    });
  });

  it('never removes what is dated in the future, and says why', () => {
    const future = [file('f_2027-06-01T00-00-00Z', 0), file('soon', -0.001)];
    const plan = planRetention(future, rule({ olderThanDays: 1, keepNewest: 1 }), NOW);
    expect(plan.actions.find((a) => a.rel.startsWith('f_'))).toMatchObject({
      verdict: 'skip',
      reason: expect.stringContaining('dated in the future'),
    });
    expect(plan.actions.find((a) => a.rel === 'soon')!.verdict).toBe('keep'); // within clock-skew tolerance
  });

  it('skips symlinks, excluded names (at any depth), unreadable units and protected paths', () => {
    const es = [
      file('link', 90, { kind: 'symlink' }),
      file('CRITICAL_keep', 90, { kind: 'dir' }),
      file('unit', 90, { kind: 'dir', excludedInside: 'unit/a/b/CRITICAL_x' }),
      file('locked', 90, { unreadable: 'EACCES on x' }),
      file('pinned', 90),
      file('plain', 90),
    ];
    const r = rule({ olderThanDays: 7, exclude: ['CRITICAL_*'] });
    expect(verdicts(es, r, new Map([['pinned', 'named by latest.json']]))).toEqual({
      link: 'skip',
      CRITICAL_keep: 'skip',
      unit: 'skip',
      locked: 'skip',
      pinned: 'skip',
      plain: 'remove',
    });
    expect(reasonOf(es, r, 'unit')).toContain('unit/a/b/CRITICAL_x');
  });

  it('never plans anything inside a forbidden folder', () => {
    expect(verdicts([file('env', 900, { kind: 'dir' })], rule({ olderThanDays: 1, forbidden: ['env'] }))).toEqual({
      env: 'skip',
    });
  });

  it('applies the size cap oldest first after the age limit', () => {
    const logs = [0, 1, 2, 3, 4, 5].map((d) => file(`l${d}`, d, { bytes: 40 }));
    const plan = planRetention(logs, rule({ olderThanDays: 4, maxTotalBytes: 120 }), NOW);
    // age removes l5 (200 B left of 240); the cap then removes l4, l3 (oldest first) to reach ≤ 120
    expect(plan.actions.filter((a) => a.verdict === 'remove').map((a) => a.rel)).toEqual(['l3', 'l4', 'l5']);
    expect(plan.actions.find((a) => a.rel === 'l5')!.reason).toContain('older than 4 days');
    expect(plan.actions.find((a) => a.rel === 'l3')!.reason).toContain('cap');
  });

  it('defers removals beyond the per-run cap, oldest removed first', () => {
    const many = [10, 20, 30, 40].map((d) => file(`f${d}`, d));
    expect(verdicts(many, rule({ olderThanDays: 1, maxDeletionsPerRun: 2 }))).toEqual({
      f10: 'skip',
      f20: 'skip',
      f30: 'remove',
      f40: 'remove',
    });
  });

  it('finishes a removal an interrupted run had started, whatever the policy', () => {
    expect(verdicts([file('.x.roosync-maint-removing', 0, { kind: 'dir', interrupted: true })], rule())).toEqual({
      '.x.roosync-maint-removing': 'remove',
    });
  });

  it('is pure: same input, same plan', () => {
    const r = rule({ olderThanDays: 7 });
    expect(planRetention(entries, r, NOW)).toEqual(planRetention(entries, r, NOW));
  });

  it('prints the policy as a sentence', () => {
    expect(
      describeRule(rule({ olderThanDays: 7, keepNewest: 1, groupBy: 'family', exclude: ['CRITICAL_*'], unit: 'dir' })),
    ).toBe(
      'in r/: folders matching *; removed when older than 7 days (dated by the timestamp in the name, else the newest file inside), but the newest of each family always kept; never anything matching CRITICAL_*, at any depth',
    );
    expect(describeRule(rule())).toContain('an empty policy keeps everything');
  });
});
