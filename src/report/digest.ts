import { HOUR_MS } from '../util/time.js';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { stateFile } from '../sharedState/localState.js';
import type { TaskResult } from './taskResult.js';
import type { FleetStatus } from './fleetStatus.js';
import { formatBytes, formatDate, plural } from '../util/format.js';
import { maintenanceSender, type Outgoing } from '../roosync/send.js';

/** Per-task totals since the last digest, kept locally (never synced), bounded by the digest itself. */
const digestStateSchema = z.object({
  lastSentAt: z.number().nullable(),
  since: z.number(),
  ticks: z.number(),
  tasks: z.record(z.string(), z.object({ runs: z.number(), acted: z.number(), bytes: z.number(), failed: z.number() })),
  /** Each task's warnings from its latest run (odd but readable messages, …): the operator's notes. */
  notes: z.record(z.string(), z.array(z.string())).default({}),
});
export type DigestState = z.output<typeof digestStateSchema>;

export function digestStore(stateDir: string, log: Logger) {
  const file = stateFile(path.join(stateDir, 'digest.json'), digestStateSchema, log, () => undefined);
  return {
    load: (now: number): DigestState => file.load() ?? emptyDigestState(null, now),
    save: (s: DigestState) => file.save(s),
  };
}

export function emptyDigestState(lastSentAt: number | null, now: number): DigestState {
  return { lastSentAt, since: now, ticks: 0, tasks: {}, notes: {} };
}

/** Adds one tick's results to the running totals (pure). */
export function accumulate(state: DigestState, results: readonly TaskResult[]): DigestState {
  const tasks = { ...state.tasks };
  const notes = { ...state.notes };
  for (const r of results) {
    if (r.status === 'skipped' || r.dryRun) continue;
    // why, next to what: each failing check's summary, each error, a failed task's reason
    const failure = r.status === 'failed' && !r.failingChecks && r.reason ? [`failed: ${r.reason}`] : [];
    const said = [...r.warnings, ...r.errors, ...failure];
    if (said.length > 0) notes[r.task] = said;
    else delete notes[r.task];
    const t = tasks[r.task] ?? { runs: 0, acted: 0, bytes: 0, failed: 0 };
    tasks[r.task] = {
      runs: t.runs + 1,
      acted: t.acted + r.counts.acted,
      bytes: t.bytes + r.bytes,
      failed: t.failed + (r.status === 'failed' ? 1 : 0),
    };
  }
  return { ...state, ticks: state.ticks + 1, tasks, notes };
}

export function digestDue(state: DigestState, now: number, digestHours: number): boolean {
  return now >= digestDueAt(state.lastSentAt, digestHours);
}

/** When the next digest is due (the one rule): a day (`reports.digestHours`) after the last one, or at once. */
export function digestDueAt(lastSentAt: number | null, digestHours: number): number {
  return lastSentAt === null ? Number.NEGATIVE_INFINITY : lastSentAt + digestHours * HOUR_MS;
}

/**
 * The digest as a RooSync message: a few numbers an operator reads in the inbox (what went,
 * how much was freed, what failed), the leader's fleet KPIs, then the same data as JSON.
 */
export function digestMessage(o: {
  machineId: string;
  to: string;
  now: number;
  state: DigestState;
  leader: { isLeader: boolean; term: number | null };
  fleet?: FleetStatus;
}): Outgoing {
  const rows = Object.entries(o.state.tasks).sort(([a], [b]) => a.localeCompare(b));
  const acted = rows.reduce((s, [, t]) => s + t.acted, 0);
  const bytes = rows.reduce((s, [, t]) => s + t.bytes, 0);
  const failed = rows.filter(([, t]) => t.failed > 0).map(([n]) => n);
  const lines = [
    `## Digest Maintenance - ${o.machineId.toUpperCase()}`,
    '',
    `**Période:** ${formatDate(o.state.since)} → ${formatDate(o.now)} (${plural(o.state.ticks, 'passage')})`,
    `**Rôle:** ${o.leader.isLeader ? `leader (mandat ${o.leader.term})` : 'follower'}`,
    '',
    '| tâche | passages | traités | libéré | échecs |',
    '|---|---|---|---|---|',
    ...rows.map(([n, t]) => `| ${n} | ${t.runs} | ${t.acted} | ${formatBytes(t.bytes)} | ${t.failed || ''} |`),
  ];
  if (rows.length === 0) lines.push('| (aucune tâche) | | | | |');
  const notes = Object.entries(o.state.notes).flatMap(([task, list]) => list.map((n) => `- ${task}: ${n}`));
  if (notes.length > 0) lines.push('', '### À noter', '', ...notes);
  if (o.fleet) {
    lines.push('', '### KPI de la flotte', '', '| KPI | valeur | cible | |', '|---|---|---|---|');
    for (const k of o.fleet.kpis)
      lines.push(
        `| ${k.name} | ${k.value ?? 'n/a'} | ${k.target} | ${k.ok === null ? k.note : k.ok ? 'ok' : '**MANQUÉ**'} |`,
      );
    if (o.fleet.silent.length) lines.push('', `**Machines silencieuses:** ${o.fleet.silent.join(', ')}`);
  }
  const data = {
    machine: o.machineId,
    since: new Date(o.state.since).toISOString(),
    until: new Date(o.now).toISOString(),
    ticks: o.state.ticks,
    leader: o.leader,
    tasks: o.state.tasks,
    notes: o.state.notes,
    ...(o.fleet && { kpis: o.fleet.kpis, silent: o.fleet.silent }),
  };
  lines.push('', '```json', JSON.stringify(data, null, 2), '```');
  return {
    from: maintenanceSender(o.machineId),
    to: o.to,
    subject:
      `[DIGEST] ${o.machineId}: ${acted} cleaned, ${formatBytes(bytes)} ` +
      `freed${failed.length ? `, FAILED: ${failed.join(', ')}` : ''}`,
    body: lines.join('\n'),
    priority: 'LOW',
    tags: ['maintenance', 'report'],
  };
}
