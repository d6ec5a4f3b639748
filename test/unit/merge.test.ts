import { describe, expect, it } from 'vitest';
import { mergeMessageObjects, reconcileMessage } from '../../src/roosync/merge.js';

/** The message-level merge, pure: no git, no files, no build (npm run test:unit). */
const base = {
  id: 'msg-20261101T101500-ab12cd',
  from: 'myia-ai-01:roo',
  to: 'all',
  subject: 'Status',
  body: 'All good.',
  status: 'unread',
  timestamp: '2026-11-01T10:15:00.000Z',
};
const text = (o: object) => JSON.stringify(o, null, 2);

describe('mergeMessageObjects', () => {
  it('readers are a union, the earliest acknowledgement wins, status only moves forward', () => {
    const local = { ...base, status: 'read', read_by: ['a'], acknowledged_at: { a: '2026-11-02T00:00:00Z' } };
    const remote = { ...base, status: 'unread', read_by: ['b'], acknowledged_at: { a: '2026-11-01T12:00:00Z' } };
    const { value, conflicts } = mergeMessageObjects(base, local, remote);
    expect(conflicts).toEqual([]);
    expect(value.status).toBe('read');
    expect([...(value.read_by as string[])].sort()).toEqual(['a', 'b']);
    expect(value.acknowledged_at).toEqual({ a: '2026-11-01T12:00:00Z' });
  });

  it('archived beats read beats unread, from either side', () => {
    for (const [l, r, want] of [
      ['archived', 'read', 'archived'],
      ['unread', 'archived', 'archived'],
      ['read', 'unread', 'read'],
    ] as const)
      expect(mergeMessageObjects(base, { ...base, status: l }, { ...base, status: r }).value.status).toBe(want);
  });

  it('a destruction is final: the destroying side wins the body and its fields', () => {
    const destroyed = { ...base, body: '', destroyed_at: '2026-11-03T00:00:00Z', destroyed_reason: 'auto' };
    const edited = { ...base, body: 'edited' };
    for (const [l, r] of [
      [destroyed, edited],
      [edited, destroyed],
    ]) {
      const { value } = mergeMessageObjects(base, l!, r!);
      expect(value.destroyed_at).toBe('2026-11-03T00:00:00Z');
      expect(value.body).toBe('');
    }
  });

  it('another field changed differently on both sides is a conflict: the remote value is kept', () => {
    const { value, conflicts } = mergeMessageObjects(base, { ...base, subject: 'L' }, { ...base, subject: 'R' });
    expect(conflicts).toEqual(['subject']);
    expect(value.subject).toBe('R');
  });

  it('a change on one side only is taken', () => {
    const { value, conflicts } = mergeMessageObjects(base, { ...base, subject: 'L' }, base);
    expect(conflicts).toEqual([]);
    expect(value.subject).toBe('L');
  });
});

describe('reconcileMessage', () => {
  it('archived on one side: the merged copy lands in archive/ only, as archived', () => {
    const b = { inbox: text(base) };
    const local = { inbox: text({ ...base, status: 'read', read_by: ['a'] }) };
    const remote = { archive: text({ ...base, status: 'archived' }) };
    const r = reconcileMessage(b, local, remote);
    expect(r.final.inbox).toBeUndefined();
    const archived = JSON.parse(r.final.archive!);
    expect(archived.status).toBe('archived');
    expect(archived.read_by).toEqual(['a']);
    expect(r.aside).toBeUndefined();
  });

  it('removed on the remote and unchanged here: the removal stands', () => {
    const b = { archive: text(base) };
    expect(reconcileMessage(b, b, {}).final).toEqual({});
  });

  it('removed on the remote but changed here: removed, and the local version kept aside with why', () => {
    const b = { archive: text(base) };
    const local = { archive: text({ ...base, status: 'read' }) };
    const r = reconcileMessage(b, local, {});
    expect(r.final.archive).toBeUndefined();
    expect(r.aside?.reason).toContain('removed on the remote');
  });

  it('the same bytes on one side are kept byte for byte (no reserialisation)', () => {
    const remoteText = `${JSON.stringify({ ...base, status: 'read' })}\n`;
    const r = reconcileMessage({ inbox: text(base) }, { inbox: text(base) }, { inbox: remoteText });
    expect(r.final.inbox).toBe(remoteText);
  });
});
