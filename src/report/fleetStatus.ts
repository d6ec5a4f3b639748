import { MINUTE_MS } from '../util/time.js';
import { formatAgo, formatTime } from '../util/format.js';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { MaintenanceConfig } from '../config/schema.js';
import { readLeaseFile } from '../election/lease.js';
import { countMessages } from '../roosync/folder.js';
import { messageDirs } from '../roosync/layout.js';
import { readStatusFile, type MachineStatus } from './status.js';
import { readIncidents } from '../alerts/incidents.js';
import { printable } from '../util/untrustedJson.js';
import { readRooHeartbeats, type RooHeartbeat } from '../roosync/heartbeats.js';
import { kpisFromIncidents } from './kpis.js';

export interface Kpi {
  name: string;
  value: number | null;
  target: string;
  ok: boolean | null;
  note?: string;
}

export interface FleetStatus {
  leader:
    | { holder: string; term: number; renewedAt: string; ageMinutes: number; released: boolean }
    | { unreadable: string }
    | null;
  machines: (MachineStatus & { silent: boolean; sinceMinutes: number })[];
  silent: string[];
  /** Status files that could not be read: named so an operator can fix them. */
  malformed: MalformedFile[];
  kpis: Kpi[];
  /** RooSync's own listener and worker heartbeats (roosync/heartbeats.ts), read as liveness evidence. */
  rooHeartbeats: RooHeartbeat[];
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

/** The fleet as the shared state tells it: the lease, each machine's last status (and whether it is silent), KPIs. */
export function fleetStatus(sharedState: string, config: MaintenanceConfig, now: number): FleetStatus {
  const lease = readLeaseFile(sharedState);
  const { tickMinutes, heartbeatMinutes } = config.schedule;
  const read = readMachines(sharedState);
  const machines = read.machines
    .map((m) => {
      const since = now - Date.parse(m.lastTickAt);
      const silentAfter = silentAfterMinutes(m.heartbeatMinutes ?? heartbeatMinutes, tickMinutes) * MINUTE_MS;
      return { ...m, sinceMinutes: Math.round(since / MINUTE_MS), silent: since > silentAfter };
    })
    .sort((a, b) => a.machine.localeCompare(b.machine));
  const rollbackDirs = countDirs(path.join(sharedState, '.rollback'));
  const inbox = countMessages(messageDirs(sharedState).inbox);
  const incidents = machines.flatMap((m) => readIncidents(sharedState, m.machine));
  const { mcpUptimePercent, mttrMinutes } = kpisFromIncidents(incidents, now);
  const noIncident = 'no incident recorded yet';
  return {
    leader:
      lease.kind === 'ok'
        ? {
            holder: lease.record.holder,
            term: lease.record.term,
            renewedAt: lease.record.renewedAt,
            ageMinutes: Math.round((now - Date.parse(lease.record.renewedAt)) / MINUTE_MS),
            released: lease.record.released,
          }
        : lease.kind === 'corrupt'
          ? { unreadable: lease.reason }
          : null,
    machines,
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

export function renderFleetStatus(s: FleetStatus): string[] {
  const lines: string[] = [];
  if (s.leader === null) lines.push('leader: none yet (no lease file)');
  else if ('unreadable' in s.leader) lines.push(`leader: lease file unreadable (${s.leader.unreadable})`);
  else
    lines.push(
      `leader: ${s.leader.holder}, term ${s.leader.term}, renewed ${renewedAgo(s.leader.ageMinutes)}` +
        `${s.leader.released ? ' (released)' : ''}`,
    );
  lines.push('', 'machine              last status        last success           role      failed   health');
  for (const m of s.machines) {
    const role = m.leader?.isLeader ? 'leader' : 'follower';
    lines.push(
      `${m.machine.padEnd(20)} ${formatAgo(m.sinceMinutes * MINUTE_MS).padEnd(18)} ` +
        `${(m.lastSuccessAt ? formatTime(Date.parse(m.lastSuccessAt)) : 'never').padEnd(22)} ${role.padEnd(9)} ` +
        `${(m.failed.join(',') || '-').padEnd(8)} ${healthCell(m, s)}` +
        `${m.silent ? '   SILENT' : ''}${m.offline ? '   OFFLINE' : ''}`,
    );
  }
  if (s.machines.length === 0) lines.push('(no machine has ticked yet)');
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
