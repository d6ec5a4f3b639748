import { formatBytes, formatTime } from '../util/format.js';
import { maintenanceSender, type Outgoing } from '../roosync/send.js';
import { type DigestState, noteLines, totalsOf } from './digest.js';
import { type FleetStatus, fleetAttention } from './fleetStatus.js';
import type { HistoryEntry } from './history.js';
import { wordsFor, type Language } from './words.js';

/**
 * The fleet digest: one message a day from the leader, for the whole fleet. A short summary (leader, machines,
 * versions, what the leader's tasks cleaned), the KPIs, then only what needs attention; the same as JSON last.
 */

/** The history entry a fleet digest adds (pure): the KPIs as they stand, the leader, what was freed. */
export function historyEntry(fleet: FleetStatus, state: DigestState, now: number): HistoryEntry {
  const kpi = (name: string) => fleet.kpis.find((k) => k.name === name)?.value ?? null;
  const l = fleet.leader && !('unreadable' in fleet.leader) ? fleet.leader : undefined;
  return {
    at: new Date(now).toISOString(),
    leader: l?.holder ?? null,
    term: l?.term ?? null,
    machines: fleet.machines.length,
    silent: fleet.silent.length,
    inbox: kpi('inbox messages'),
    rollbackDirs: kpi('rollback dirs'),
    freedBytes: totalsOf(state).bytes,
    mcpUptimePercent: kpi('MCP uptime'),
    mttrMinutes: kpi('MTTR'),
    attention: fleetAttention(fleet).length,
  };
}

export function fleetDigestMessage(o: {
  machineId: string;
  to: string;
  now: number;
  /** The leader's own totals since its last fleet digest (the fleet tasks run there). */
  state: DigestState;
  fleet: FleetStatus;
  language: Language;
  /** Where the fleet page is, relative to the shared state (undefined: not written). */
  page?: string;
}): Outgoing {
  const w = wordsFor(o.language);
  const { fleet } = o;
  const attention = [...fleetAttention(fleet), ...noteLines(o.state).map((n) => `${o.machineId}: ${n.slice(2)}`)];
  const { acted, bytes } = totalsOf(o.state);
  const l = fleet.leader && !('unreadable' in fleet.leader) && fleet.leader.live ? fleet.leader : undefined;
  const lines = [
    `## ${w.fleetDigest} - ${formatTime(o.now)}`,
    '',
    `**${w.period}:** ${formatTime(o.state.since)} → ${formatTime(o.now)}`,
    `**${w.leader}:** ${l ? `${l.holder} (${w.term(l.term)}, ${w.since} ${formatTime(Date.parse(l.acquiredAt))})` : w.noLeader}`,
    `**${w.machines}:** ${w.machineCount(fleet.machines.length, fleet.silent.length)}`,
    `**${w.versions}:** ${fleet.versions.map((v) => `${v.version} × ${v.machines.length}`).join(', ') || '-'}`,
    ...fleet.components.map(
      (c) =>
        `**${w.component} ${c.component}:** ` +
        c.commits.map((x) => `${x.commit.slice(0, 12)} × ${x.machines.length}`).join(', '),
    ),
    `**${w.cleaned}:** ${w.cleanedText(acted, formatBytes(bytes))}`,
    '',
    `### ${w.kpis}`,
    '',
    w.kpiHeader,
    '|---|---|---|---|',
    ...fleet.kpis.map(
      (k) =>
        `| ${w.kpi[k.name] ?? k.name} | ${k.value ?? 'n/a'} | ${k.target} | ${k.ok === null ? (k.note ?? '') : k.ok ? 'ok' : w.missed} |`,
    ),
    '',
    `### ${w.attention}`,
    '',
    ...(attention.length ? attention.map((a) => `- ${a}`) : [w.allWell]),
  ];
  if (o.page) lines.push('', `${w.page}: \`${o.page}\``);
  const data = {
    fleetDigest: true,
    leader: o.machineId,
    since: new Date(o.state.since).toISOString(),
    until: new Date(o.now).toISOString(),
    machines: fleet.machines.map((m) => ({ machine: m.machine, version: m.version, silent: m.silent })),
    kpis: fleet.kpis,
    components: fleet.components,
    freedBytes: bytes,
    acted,
    attention,
  };
  lines.push('', '```json', JSON.stringify(data, null, 2), '```');
  const verdict = attention.length ? w.subjectAttention(attention.length) : w.subjectWell;
  return {
    from: maintenanceSender(o.machineId),
    to: o.to,
    subject: w.fleetSubject(fleet.machines.length, l?.holder, verdict),
    body: lines.join('\n'),
    priority: attention.length ? 'MEDIUM' : 'LOW',
    tags: ['maintenance', 'report', 'fleet'],
  };
}
