import { describe, expect, it } from 'vitest';
import { emptyDigestState, needsAttention, noteLines } from '../../src/report/digest.js';
import { fleetDigestMessage } from '../../src/report/fleetDigest.js';
import { leaderSpans } from '../../src/report/fleetPage.js';
import { type FleetStatus, fleetAttention } from '../../src/report/fleetStatus.js';
import { fleetDigestDueAt, type HistoryEntry } from '../../src/report/history.js';

const T = Date.UTC(2026, 10, 23, 12, 0, 0);
const HOUR = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();

function fleet(over: Partial<FleetStatus> = {}): FleetStatus {
  const machine = (id: string, sinceMinutes = 5) => ({
    machine: id,
    version: '0.1.0',
    lastTickAt: iso(T - sinceMinutes * 60_000),
    lastSuccessAt: iso(T),
    offline: false,
    leader: { isLeader: id === 'a', term: 2, reason: '' },
    tasks: [],
    failed: [],
    health: { failing: [] },
    silent: false,
    sinceMinutes,
  });
  return {
    at: iso(T),
    leader: {
      holder: 'a',
      term: 2,
      acquiredAt: iso(T - 48 * HOUR),
      renewedAt: iso(T - HOUR),
      expiresAt: iso(T + HOUR),
      ageMinutes: 60,
      released: false,
      live: true,
    },
    machines: [machine('a'), machine('b')],
    silent: [],
    malformed: [],
    kpis: [{ name: 'inbox messages', value: 12, target: '< 100', ok: true }],
    rooHeartbeats: [],
    versions: [{ version: '0.1.0', machines: ['a', 'b'] }],
    components: [],
    ...over,
  };
}

const entry = (at: number, leader = 'a', term = 2): HistoryEntry => ({
  at: iso(at),
  leader,
  term,
  machines: 2,
  silent: 0,
  inbox: 1,
  rollbackDirs: 0,
  freedBytes: 0,
  mcpUptimePercent: null,
  mttrMinutes: null,
  attention: 0,
});

describe('what needs attention (status exits 1 on it; the fleet digest lists it)', () => {
  it('nothing when the leader lives and every machine is heard from', () => {
    expect(fleetAttention(fleet())).toEqual([]);
  });
  it('no live leader first, then the silent machines, then failures; a silent peer is said once', () => {
    const base = fleet();
    const [a, b] = base.machines as [FleetStatus['machines'][number], FleetStatus['machines'][number]];
    const said = fleetAttention(
      fleet({
        leader: { ...(base.leader as Extract<FleetStatus['leader'], { live: boolean }>), live: false },
        machines: [
          { ...a, failed: ['health'], health: { failing: ['b has sent no status for 900 min', 'disk low'] } },
          { ...b, silent: true, sinceMinutes: 900 },
        ],
      }),
    );
    expect(said[0]).toMatch(/^no live leader: a's lease \(term 2\) ran out at /);
    expect(said[1]).toMatch(/^b is silent/);
    expect(said.slice(2)).toEqual(['a: failed health', 'a: disk low']);
  });
  it('no lease at all, or an unreadable one', () => {
    expect(fleetAttention(fleet({ leader: null }))[0]).toMatch(/^no leader: /);
    expect(fleetAttention(fleet({ leader: { unreadable: 'line 1' } }))[0]).toMatch(/unreadable \(line 1\)/);
  });
});

describe('digests', () => {
  it('a machine with nothing to say needs no digest; one failure or note does', () => {
    const quiet = { ...emptyDigestState(null, T), tasks: { a: { runs: 3, acted: 4, bytes: 9, failed: 0 } } };
    expect(needsAttention(quiet)).toBe(false);
    expect(needsAttention({ ...quiet, tasks: { a: { runs: 3, acted: 4, bytes: 9, failed: 1 } } })).toBe(true);
    expect(needsAttention({ ...quiet, notes: { a: ['odd file'] } })).toBe(true);
  });
  it('one note said by several tasks is one line', () => {
    const state = { ...emptyDigestState(null, T), notes: { x: ['clock ahead'], y: ['clock ahead', 'other'] } };
    expect(noteLines(state)).toEqual(['- x, y: clock ahead', '- y: other']);
  });
  it('the fleet digest is due a day after the last one any leader sent; an entry from the future holds nothing back', () => {
    expect(fleetDigestDueAt([], T, 24)).toBe(Number.NEGATIVE_INFINITY);
    expect(fleetDigestDueAt([entry(T - 2 * HOUR)], T, 24)).toBe(T + 22 * HOUR);
    expect(fleetDigestDueAt([entry(T - 30 * HOUR), entry(T + 1000 * HOUR)], T, 24)).toBe(T - 6 * HOUR);
  });
  it('one language per message: subject and headings in French or in English', () => {
    const state = emptyDigestState(null, T - 24 * HOUR);
    const fr = fleetDigestMessage({ machineId: 'a', to: 'all', now: T, state, fleet: fleet(), language: 'fr' });
    expect(fr.subject).toBe('[DIGEST] flotte : 2 machines, leader a — tout va bien');
    expect(fr.body).toContain('### KPI de la flotte');
    expect(fr.body).toContain('| messages en boîte | 12 |');
    expect(fr.body).not.toMatch(/Fleet KPIs|Needs attention|inbox messages \|/);
    const en = fleetDigestMessage({ machineId: 'a', to: 'all', now: T, state, fleet: fleet(), language: 'en' });
    expect(en.subject).toBe('[DIGEST] fleet: 2 machines, leader a — all well');
    expect(en.body).not.toMatch(/Période|À voir|KPI de la flotte/);
    expect(en.priority).toBe('LOW');
  });
});

describe('who led when', () => {
  it('consecutive digests under one leader and term make one span, newest first', () => {
    const spans = leaderSpans([entry(T - 3 * 24 * HOUR, 'a', 1), entry(T - 2 * 24 * HOUR, 'a', 1), entry(T, 'b', 2)]);
    expect(spans.map((s) => [s.leader, s.term, iso(s.from), iso(s.to)])).toEqual([
      ['b', 2, iso(T), iso(T)],
      ['a', 1, iso(T - 3 * 24 * HOUR), iso(T - 2 * 24 * HOUR)],
    ]);
  });
});
