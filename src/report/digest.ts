import { HOUR_MS } from '../util/time.js';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { stateFile } from '../sharedState/localState.js';
import type { TaskResult } from './taskResult.js';
import { formatBytes, formatTime } from '../util/format.js';
import { wordsFor, type Language } from './words.js';
import { maintenanceSender, type Outgoing } from '../roosync/send.js';
import { compareText } from '../util/order.js';

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
 * Whether this machine's own digest is worth sending: a task failed, or said something (an error, a warning) since
 * the last one. A machine with nothing to say sends nothing: the leader's fleet digest covers it.
 */
export function needsAttention(state: DigestState): boolean {
  return Object.values(state.tasks).some((t) => t.failed > 0) || Object.keys(state.notes).length > 0;
}

/** The totals of a digest period: items handled, bytes freed, the tasks that failed. */
export function totalsOf(state: DigestState): { acted: number; bytes: number; failed: string[] } {
  const rows = Object.entries(state.tasks);
  return {
    acted: rows.reduce((s, [, t]) => s + t.acted, 0),
    bytes: rows.reduce((s, [, t]) => s + t.bytes, 0),
    failed: rows.filter(([, t]) => t.failed > 0).map(([n]) => n),
  };
}

/** Each note once, with the tasks that said it (`- task, task: note`): one clock finding is one line, not nine. */
export function noteLines(state: DigestState): string[] {
  const by = new Map<string, string[]>();
  for (const [task, list] of Object.entries(state.notes)) for (const n of list) by.set(n, [...(by.get(n) ?? []), task]);
  return [...by.entries()].map(([n, tasks]) => `- ${tasks.join(', ')}: ${n}`);
}

/**
 * A machine's own digest as a RooSync message, sent only when something on it needs attention (needsAttention):
 * what its tasks did, what failed and what they said, then the same data as JSON. One language per message.
 */
export function digestMessage(o: {
  machineId: string;
  to: string;
  now: number;
  state: DigestState;
  leader: { isLeader: boolean; term: number | null };
  language: Language;
}): Outgoing {
  const w = wordsFor(o.language);
  const rows = Object.entries(o.state.tasks).sort(([a], [b]) => compareText(a, b));
  const { acted, bytes, failed } = totalsOf(o.state);
  const lines = [
    `## ${w.machineDigest} - ${o.machineId.toUpperCase()}`,
    '',
    `**${w.period}:** ${formatTime(o.state.since)} → ${formatTime(o.now)} (${w.ticks(o.state.ticks)})`,
    `**${w.role}:** ${o.leader.isLeader ? w.leaderTerm(o.leader.term) : w.follower}`,
    '',
    w.taskHeader,
    '|---|---|---|---|---|',
    ...rows.map(([n, t]) => `| ${n} | ${t.runs} | ${t.acted} | ${formatBytes(t.bytes)} | ${t.failed || ''} |`),
  ];
  if (rows.length === 0) lines.push(w.noTask);
  const notes = noteLines(o.state);
  if (notes.length > 0) lines.push('', `### ${w.notes}`, '', ...notes);
  const data = {
    machine: o.machineId,
    since: new Date(o.state.since).toISOString(),
    until: new Date(o.now).toISOString(),
    ticks: o.state.ticks,
    leader: o.leader,
    tasks: o.state.tasks,
    notes: o.state.notes,
  };
  lines.push('', '```json', JSON.stringify(data, null, 2), '```');
  return {
    from: maintenanceSender(o.machineId),
    to: o.to,
    subject: w.machineSubject(o.machineId, acted, formatBytes(bytes), failed),
    body: lines.join('\n'),
    priority: failed.length ? 'MEDIUM' : 'LOW',
    tags: ['maintenance', 'report'],
  };
}
