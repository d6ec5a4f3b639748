import { MINUTE_MS } from '../util/time.js';
import { formatAgo, formatTime } from '../util/format.js';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { MaintenanceConfig } from '../config/schema.js';
import { readLeaseFile, type LeaseRecord } from '../election/lease.js';
import { countMessages } from '../roosync/folder.js';
import { messageDirs } from '../roosync/layout.js';
import { readStatusFile, type MachineStatus } from './status.js';
import { readIncidents } from '../alerts/incidents.js';
import { printable } from '../util/untrustedJson.js';
import { readRooHeartbeats, type RooHeartbeat } from '../roosync/heartbeats.js';
import { kpisFromIncidents } from './kpis.js';
import { compareText } from '../util/order.js';

export interface Kpi {
  name: string;
  value: number | null;
  target: string;
  ok: boolean | null;
  note?: string;
}

export interface LeaderView {
  holder: string;
  term: number;
  /** When this holder took the lease (its term began). */
  acquiredAt: string;
  renewedAt: string;
  ageMinutes: number;
  released: boolean;
  /** When the lease runs out unless renewed; `live` is false once it has (or it was released). */
  expiresAt: string;
  live: boolean;
}

export interface FleetStatus {
  /** The moment this view was judged at (ISO). */
  at: string;
  leader: LeaderView | { unreadable: string } | null;
  machines: (MachineStatus & { silent: boolean; sinceMinutes: number })[];
  silent: string[];
  /** Status files that could not be read: named so an operator can fix them. */
  malformed: MalformedFile[];
  kpis: Kpi[];
  /** RooSync's own listener and worker heartbeats (roosync/heartbeats.ts), read as liveness evidence. */
  rooHeartbeats: RooHeartbeat[];
  /** roosync-maint's version on each machine, as its status file says: more than one entry is version skew. */
  versions: { version: string; machines: string[] }[];
  /** For each component (rollout/), which machines are at which commit: more than one commit is skew. */
  components: { component: string; commits: { commit: string; machines: string[] }[] }[];
}

/** A status file that could not be used, by its path in the shared state and why. */
export interface MalformedFile {
  file: string;
  reason: string;
}

/** Every machine's status file; damaged ones are listed by name, never a reason to stop. */
export function readMachines(sharedState: string): { machines: MachineStatus[]; malformed: MalformedFile[] } {
  const dir = path.join(sharedState, 'maintenance', 'machines');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return { machines: [], malformed: [] };
  }
  const machines: MachineStatus[] = [];
  const malformed: MalformedFile[] = [];
  for (const n of names.sort()) {
    const r = readStatusFile(path.join(dir, n));
    const file = `maintenance/machines/${n}`;
    if (!r.ok) malformed.push({ file, reason: `not a status file (${r.reason})` });
    else if (`${r.value.machine}.json` !== n)
      malformed.push({ file, reason: `written for ${JSON.stringify(r.value.machine)}, not ${n.slice(0, -5)}` });
    else machines.push(r.value);
  }
  return { machines, malformed };
}

function countDirs(dir: string): number {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).length;
  } catch {
    return 0;
  }
}

/**
 * How long a machine may stay quiet before it is flagged: a running machine commits its status at least
 * every heartbeat (its own, as its status file states it), at a tick, so its status is at most one
 * heartbeat plus one tick old; one more tick and 15 minutes cover a late tick and a slow push.
 */
export function silentAfterMinutes(heartbeatMinutes: number, tickMinutes: number): number {
  return heartbeatMinutes + 2 * tickMinutes + 15;
}

/**
 * Each machine's last status with how long ago it was and whether it is silent, by id (`own`, the tick in progress,
 * in place of its file). The status files alone: no KPI is counted (a rollout step reads this every tick).
 */
export function machineViews(
  statuses: readonly MachineStatus[],
  config: MaintenanceConfig,
  now: number,
  own?: MachineStatus,
): FleetStatus['machines'] {
  const { tickMinutes, heartbeatMinutes } = config.schedule;
  const all = own ? [...statuses.filter((m) => m.machine !== own.machine), own] : statuses;
  return all
    .map((m) => {
      const since = now - Date.parse(m.lastTickAt);
      const silentAfter = silentAfterMinutes(m.heartbeatMinutes ?? heartbeatMinutes, tickMinutes) * MINUTE_MS;
      return { ...m, sinceMinutes: Math.round(since / MINUTE_MS), silent: since > silentAfter };
    })
    .sort((a, b) => compareText(a.machine, b.machine));
}

/** The fleet as the shared state tells it: the lease, each machine's last status (and whether it is silent), KPIs. */
export function fleetStatus(
  sharedState: string,
  config: MaintenanceConfig,
  now: number,
  /** This machine's status of the tick in progress, in place of the one on file (not yet written). */
  own?: MachineStatus,
): FleetStatus {
  const lease = readLeaseFile(sharedState);
  const read = readMachines(sharedState);
  const machines = machineViews(read.machines, config, now, own);
  const rollbackDirs = countDirs(path.join(sharedState, '.rollback'));
  const inbox = countMessages(messageDirs(sharedState).inbox);
  const incidents = machines.flatMap((m) => readIncidents(sharedState, m.machine));
  const { mcpUptimePercent, mttrMinutes } = kpisFromIncidents(incidents, now);
  const noIncident = 'no incident recorded yet';
  return {
    at: new Date(now).toISOString(),
    leader:
      lease.kind === 'ok'
        ? leaderView(lease.record, now)
        : lease.kind === 'corrupt'
          ? { unreadable: lease.reason }
          : null,
    machines,
    versions: versionsOf(machines),
    components: componentSkew(machines),
    silent: machines.filter((m) => m.silent).map((m) => m.machine),
    malformed: read.malformed,
    rooHeartbeats: readRooHeartbeats(sharedState, now, config.health.roosyncHeartbeatStaleHours),
    kpis: [
      { name: 'rollback dirs', value: rollbackDirs, target: '< 10', ok: rollbackDirs < 10 },
      { name: 'inbox messages', value: inbox, target: '< 100', ok: inbox < 100 },
      {
        name: 'MCP uptime',
        value: mcpUptimePercent,
        target: '> 99 %',
        ok: mcpUptimePercent === null ? null : mcpUptimePercent > 99,
        note: noIncident,
      },
      {
        name: 'MTTR',
        value: mttrMinutes,
        target: '< 30 min',
        ok: mttrMinutes === null ? null : mttrMinutes < 30,
        note: noIncident,
      },
    ],
  };
}

function leaderView(record: LeaseRecord, now: number): LeaderView {
  const expiresAt = Date.parse(record.renewedAt) + record.leaseSeconds * 1000;
  return {
    holder: record.holder,
    term: record.term,
    acquiredAt: record.acquiredAt,
    renewedAt: record.renewedAt,
    ageMinutes: Math.round((now - Date.parse(record.renewedAt)) / MINUTE_MS),
    released: record.released,
    expiresAt: new Date(expiresAt).toISOString(),
    live: !record.released && now < expiresAt,
  };
}

/** For each component, how many machines are at which commit (their status files), the most common first. */
export function componentSkew(machines: readonly MachineStatus[]): FleetStatus['components'] {
  const by = new Map<string, Map<string, string[]>>();
  for (const m of machines)
    for (const [name, c] of Object.entries(m.components ?? {})) {
      const commits = by.get(name) ?? new Map<string, string[]>();
      const key = c.commit ?? 'unknown';
      commits.set(key, [...(commits.get(key) ?? []), m.machine]);
      by.set(name, commits);
    }
  return [...by.entries()]
    .sort(([a], [b]) => compareText(a, b))
    .map(([component, commits]) => ({
      component,
      commits: [...commits.entries()]
        .map(([commit, names]) => ({ commit, machines: names }))
        .sort((a, b) => b.machines.length - a.machines.length),
    }));
}

/** Which machines run which roosync-maint version, the most common first. */
function versionsOf(machines: readonly MachineStatus[]): FleetStatus['versions'] {
  const by = new Map<string, string[]>();
  for (const m of machines) by.set(m.version, [...(by.get(m.version) ?? []), m.machine]);
  return [...by.entries()]
    .map(([version, names]) => ({ version, machines: names }))
    .sort((a, b) => b.machines.length - a.machines.length || compareText(a.version, b.version));
}

/**
 * What in the fleet needs an operator, most serious first (pure): no live leader, a silent machine, an unreadable
 * status file, a failed task or a failing check as each machine last reported it, a machine that cannot sync.
 * Empty when all is well: `status` exits 0 only then, and the fleet digest lists exactly these.
 */
export function fleetAttention(s: FleetStatus): string[] {
  const out: string[] = [];
  const l = s.leader;
  if (l === null) out.push('no leader: no machine holds the lease yet (maintenance/leader.json is missing)');
  else if ('unreadable' in l) out.push(`no leader: the lease file is unreadable (${l.unreadable})`);
  else if (!l.live)
    out.push(
      l.released
        ? `no live leader: ${l.holder} released the lease ${renewedAgo(l.ageMinutes)} and no machine has taken it`
        : `no live leader: ${l.holder}'s lease (term ${l.term}) ran out at ${formatTime(Date.parse(l.expiresAt))}`,
    );
  for (const m of s.machines)
    if (m.silent) out.push(`${m.machine} is silent: its last status is from ${formatAgo(m.sinceMinutes * MINUTE_MS)}`);
  for (const f of s.malformed) out.push(`${f.file}: ${f.reason}`);
  for (const m of s.machines) {
    if (m.offline) out.push(`${m.machine} cannot reach the remote (its last tick was offline)`);
    if (m.failed.length) out.push(`${m.machine}: failed ${m.failed.join(', ')}`);
    // another machine's silence is said once, above, not again as each machine's liveness finding
    const liveness = (f: string) => s.machines.some((x) => f.startsWith(`${x.machine} has sent no status`));
    for (const f of currentFailing(m, s)) if (!liveness(f)) out.push(`${m.machine}: ${f}`);
  }
  return out.map(printable);
}

/**
 * A machine's failing checks as its status file recorded them, minus liveness findings about machines that
 * have sent a newer status since (the record is only as fresh as its writer's last status).
 */
function currentFailing(m: FleetStatus['machines'][number], fleet: FleetStatus): string[] {
  const live = fleet.machines.filter((x) => !x.silent).map((x) => x.machine);
  return (m.health?.failing ?? []).filter((f) => !live.some((x) => f.startsWith(`${x} has sent no status`)));
}

function healthCell(m: FleetStatus['machines'][number], fleet: FleetStatus): string {
  if (!m.health) return 'n/a';
  const failing = currentFailing(m, fleet);
  return failing.length ? `${failing.length} failing` : 'ok';
}

/** A renewal in the future is clock skew, said as such rather than as a negative age. */
function renewedAgo(ageMinutes: number): string {
  const ago = formatAgo(ageMinutes * MINUTE_MS);
  return ageMinutes < 0 ? `${ago} by this machine's clock: one of the two clocks is off` : ago;
}

/** The role a status row shows: only the lease holder leads (a machine handing over still says it led). */
function roleCell(m: FleetStatus['machines'][number], s: FleetStatus): string {
  const l = s.leader;
  if (l && !('unreadable' in l) && l.holder === m.machine) return l.live ? 'leader' : 'lapsed';
  return 'follower';
}

function leaderLine(l: FleetStatus['leader']): string {
  if (l === null) return 'leader: none yet (no lease file)';
  if ('unreadable' in l) return `leader: lease file unreadable (${l.unreadable})`;
  const since = `since ${formatTime(Date.parse(l.acquiredAt))}`;
  const state = l.released ? ' (released)' : l.live ? '' : ' (lease ran out: NO LIVE LEADER)';
  return `leader: ${l.holder}, term ${l.term} ${since}, renewed ${renewedAgo(l.ageMinutes)}${state}`;
}

export function renderFleetStatus(s: FleetStatus): string[] {
  const lines: string[] = [leaderLine(s.leader)];
  lines.push('', 'machine              last status        last success           role      version  failed   health');
  for (const m of s.machines) {
    lines.push(
      `${m.machine.padEnd(20)} ${formatAgo(m.sinceMinutes * MINUTE_MS).padEnd(18)} ` +
        `${(m.lastSuccessAt ? formatTime(Date.parse(m.lastSuccessAt)) : 'never').padEnd(22)} ` +
        `${roleCell(m, s).padEnd(9)} ${m.version.padEnd(8)} ` +
        `${(m.failed.join(',') || '-').padEnd(8)} ${healthCell(m, s)}` +
        `${m.silent ? '   SILENT' : ''}${m.offline ? '   OFFLINE' : ''}`,
    );
  }
  if (s.machines.length === 0) lines.push('(no machine has ticked yet)');
  if (s.versions.length > 1)
    lines.push('', `version skew: ${s.versions.map((v) => `${v.version} on ${v.machines.join(', ')}`).join('; ')}`);
  for (const c of s.components)
    lines.push(
      `${c.commits.length > 1 ? 'component skew' : 'component'} ${c.component}: ` +
        c.commits.map((x) => `${x.commit.slice(0, 12)} on ${x.machines.join(', ')}`).join('; '),
    );
  const failing = s.machines.flatMap((m) => currentFailing(m, s).map((f) => `  ${m.machine}: ${f}`));
  if (failing.length) lines.push('', 'failing checks (as each machine last reported them):', ...failing);
  lines.push('', 'KPI              value   target     ');
  for (const k of s.kpis)
    lines.push(
      `${k.name.padEnd(16)} ${String(k.value ?? 'n/a').padEnd(7)} ${k.target.padEnd(10)} ` +
        `${k.ok === null ? `(${k.note})` : k.ok ? 'ok' : 'MISSED'}`,
    );
  if (s.rooHeartbeats.length) {
    lines.push('', "RooSync's heartbeats (listener-heartbeats/, worker-heartbeats/):");
    for (const h of s.rooHeartbeats)
      lines.push(
        `  ${`${h.machine} ${h.kind}`.padEnd(32)} ${formatAgo(h.ageMinutes * MINUTE_MS).padEnd(18)}` +
          `${h.stale ? ' STALE' : ''}`,
      );
  }
  if (s.silent.length)
    lines.push('', `silent machines (no status for longer than their heartbeat allows): ${s.silent.join(', ')}`);
  if (s.malformed.length)
    lines.push(
      '',
      'unreadable status files (fix or remove them; the machine rewrites its own at its next tick):',
      ...s.malformed.map((m) => `  ${m.file}: ${m.reason}`),
    );
  // names, reasons and health lines come from other machines' files: no escape sequence reaches the terminal
  return lines.map(printable);
}
