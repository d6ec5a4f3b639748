import { describe, expect, it } from 'vitest';
import { decideArchive, openFilter } from '../../src/tasks/messageTasks.js';
import type { RooSyncMessage } from '../../src/roosync/message.js';
import { keptAsCounts, KEPT_COUNTED, emptyResult } from '../../src/report/taskResult.js';

/** Plans, pure: a message, a policy and `now` → an action with its reason (npm run test:unit). */
const NOW = Date.UTC(2026, 11, 1);
const DAY = 86_400_000;
const msg = (daysOld: number, status: 'read' | 'unread'): RooSyncMessage => ({
  id: 'msg-20251101T000000-aaaaaa',
  from: 'a:roo',
  to: 'all',
  subject: 's',
  priority: 'MEDIUM',
  body: 'b',
  status,
  timestamp: new Date(NOW - daysOld * DAY).toISOString(),
});

describe('the archive plan', () => {
  const policy = { readDays: 30, unreadDays: 90 };
  it('read after 30 days, unread after 90, each with its reason', () => {
    expect(decideArchive('inbox/x.json', msg(31, 'read'), NOW, policy).verdict).toBe('archive');
    expect(decideArchive('inbox/x.json', msg(29, 'read'), NOW, policy).verdict).toBe('keep');
    const unread = decideArchive('inbox/x.json', msg(60, 'unread'), NOW, policy);
    expect(unread.verdict).toBe('keep');
    expect(unread.reason).toContain('newer than 90 days');
    expect(decideArchive('inbox/x.json', msg(91, 'unread'), NOW, policy).reason).toContain('older than 90 days');
  });

  it('only names the id dates before the cutoff, or cannot date, are opened; counted as they pass', () => {
    const names = [
      'msg-20251101T000000-aaaaaa.json', // old: open
      'msg-20261130T000000-bbbbbb.json', // new by name: counted
      'notes.json', // undatable: open
    ];
    const filter = openFilter(NOW - 30 * DAY);
    expect(names.filter(filter.mustOpen)).toEqual([names[0], names[2]]);
    expect(filter.newerByName).toBe(1);
  });
});

describe('a result for a document', () => {
  it('kept entries become one count per rule; what acted stays listed', () => {
    const r = emptyResult('messages-archive', 'fleet', false);
    const action = (rel: string, verdict: 'keep' | 'archive') => ({
      rel,
      verdict,
      reason: 'r',
      kind: 'file' as const,
      bytes: 1,
      files: 1,
      dateMs: 0,
      dateSource: 'name' as const,
    });
    r.rules.push({
      rule: 'messages-archive',
      policy: 'p',
      root: '/x',
      missingRoot: false,
      actions: [action('a', 'keep'), action('b', 'archive'), action('c', 'keep')],
      untouched: { 'newer by name': 5 },
      acted: 1,
      bytesFreed: 0,
      errors: [],
    });
    const doc = keptAsCounts(r);
    expect(doc.rules[0]!.actions.map((a) => a.rel)).toEqual(['b']);
    expect(doc.rules[0]!.untouched).toEqual({ 'newer by name': 5, [KEPT_COUNTED]: 2 });
    expect(r.rules[0]!.actions).toHaveLength(3); // the result itself is untouched
  });
});
