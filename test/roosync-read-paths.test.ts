import { describe, expect, it } from 'vitest';
import { inboxCases } from '../src/demo/messages.js';
import { judgeInboxFile, rooSyncMatches, rooSyncView } from '../src/roosync/readPaths.js';
import { NOW } from './helpers.js';

/**
 * RooSync's read paths, one inbox file a line (src/demo/messages.ts `inboxCases`): what RooSync does
 * with the file — lists it (odd fields noted), skips it, or breaks on it and where. The same table was
 * run against RooSync's own MessageManager (docs/manual.md: "How the read rules were checked").
 */
describe('the read-path table', () => {
  const cases = inboxCases(NOW);
  it.each(cases.map((c) => [c.what, c] as const))('%s', (_what, c) => {
    const text = typeof c.content === 'string' ? c.content : c.content.toString('utf8');
    const j = judgeInboxFile(c.name, text, NOW);
    expect(j.kind).toBe(c.expect.kind);
    if (j.kind === 'listed' && c.expect.kind === 'listed') expect(j.oddities).toEqual(c.expect.oddities);
    if (j.kind === 'skipped' && c.expect.kind === 'skipped') expect(j.defect).toBe(c.expect.defect);
    if (j.kind === 'breaking' && c.expect.kind === 'breaking') {
      expect(j.defect).toBe(c.expect.defect);
      expect(j.paths).toEqual(c.expect.paths);
    }
    if (j.kind !== 'listed') expect(j.reason).not.toMatch(/Status after|All good/); // reasons never quote content
  });

  it('covers every kind of verdict', () => {
    const kinds = new Set(cases.map((c) => c.expect.kind));
    expect([...kinds].sort()).toEqual(['breaking', 'listed', 'skipped']);
  });
});

describe('RooSync recipients', () => {
  it.each([
    ['all', 'myia-ai-01', 'ws', true],
    ['All', 'myia-ai-01', undefined, true],
    ['myia-ai-01', 'myia-ai-01', 'anything', true],
    ['myia-ai-01', 'myia-po-2023', 'ws', false],
    ['myia-ai-01:roo-extensions', 'myia-ai-01', 'roo-extensions', true],
    ['myia-ai-01:D:\\dev\\Roo-Extensions', 'myia-ai-01', 'roo-extensions', true],
    ['myia-ai-01:roo-extensions', 'myia-ai-01', 'other', false],
    ['myia-ai-01:roo-extensions', 'myia-ai-01', undefined, false],
    ['ALL', 'myia-ai-01', 'ws', false],
  ] as const)('to %s, reader %s:%s → %s', (to, machine, ws, visible) => {
    expect(rooSyncMatches(to, machine, ws)).toBe(visible);
  });

  it('reads a broadcast as read per machine (read_by), a targeted message by its global status', () => {
    const broadcast = { to: 'all', status: 'unread', read_by: ['myia-ai-01'] };
    expect(rooSyncView(broadcast, 'myia-ai-01', 'ws')).toEqual({ visible: true, unread: false });
    expect(rooSyncView(broadcast, 'myia-po-2023', 'ws')).toEqual({ visible: true, unread: true });
    expect(rooSyncView({ to: 'myia-ai-01', status: 'read' }, 'myia-ai-01', 'ws')).toEqual({
      visible: true,
      unread: false,
    });
    expect(rooSyncView({ to: 'myia-ai-01', status: 'read' }, 'myia-po-2023', 'ws').visible).toBe(false);
  });
});
