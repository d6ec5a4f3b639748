import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic, ensureRealDir } from '../util/fs.js';
import { readUntrustedFile, type FileRead } from '../util/untrustedJson.js';
import type { TaskResult } from './taskResult.js';

/**
 * `maintenance/machines/<id>.json`: written only by <id>, by a tick that has something new to say
 * or whose heartbeat is due (statusWorthCommitting).
 */
/** One component's state on a machine (rollout/): its commit and, for a rollout's target, how the update went. */
export interface ComponentReport {
  /** The commit checked out; null when the checkout could not be read. */
  commit: string | null;
  /** The rollout target this report answers (absent: no rollout asked anything of this machine yet). */
  target?: string;
  state: 'ok' | 'failed' | 'rolled-back' | 'unreadable';
  /** When `verify` last passed at `commit`. */
  verifiedAt?: string;
  reason?: string;
  /** The last lines the failing command printed. */
  tail?: string[];
}

export interface MachineStatus {
  machine: string;
  version: string;
  /** The tick that wrote this file: at most `heartbeatMinutes` (+ one tick) old while the machine runs. */
  lastTickAt: string;
  /** The writer's heartbeat interval, so that every reader judges its silence by the writer's own promise. */
  heartbeatMinutes?: number;
  lastSuccessAt: string | null;
  /** The last tick whose push landed (this machine's last successful sync). */
  lastSyncAt?: string | null;
  offline: boolean;
  leader: { isLeader: boolean; term: number | null; reason: string };
  tasks: { task: string; status: TaskResult['status']; acted: number; reason?: string }[];
  failed: string[];
  /** The health findings of this tick that fail (`null` when no health task ran this tick). */
  health?: { failing: string[] } | null;
  /** This machine's components (its machine config's `components`), as its last rollout step saw them. */
  components?: Record<string, ComponentReport>;
}

const isoTime = z.string().refine((t) => !Number.isNaN(Date.parse(t)), { error: 'expected an ISO time' });

/**
 * A status file as another machine (or an older version) wrote it: the fields every reader needs are
 * required, the rest are taken when they have the right shape and dropped otherwise.
 */
export const machineStatusSchema = z.looseObject({
  machine: z.string().min(1, { error: 'expected a machine id' }),
  version: z.string().catch('unknown'),
  lastTickAt: isoTime,
  heartbeatMinutes: z.number().int().positive().optional().catch(undefined),
  lastSuccessAt: isoTime.nullable().catch(null),
  lastSyncAt: isoTime.nullable().optional().catch(null),
  offline: z.boolean().catch(false),
  leader: z
    .object({ isLeader: z.boolean(), term: z.number().nullable(), reason: z.string() })
    .catch({ isLeader: false, term: null, reason: 'unreadable in the status file' }),
  tasks: z
    .array(
      z.object({
        task: z.string(),
        status: z.enum(['ok', 'failed', 'skipped']),
        acted: z.number(),
        reason: z.string().optional(),
      }),
    )
    .catch([]),
  failed: z.array(z.string()).catch([]),
  health: z
    .object({ failing: z.array(z.string()) })
    .nullable()
    .optional()
    .catch(null),
  components: z
    .record(
      z.string(),
      z.object({
        commit: z.string().nullable(),
        target: z.string().optional(),
        state: z.enum(['ok', 'failed', 'rolled-back', 'unreadable']),
        verifiedAt: isoTime.optional(),
        reason: z.string().optional(),
        tail: z.array(z.string()).optional(),
      }),
    )
    .optional()
    .catch(undefined),
}) as unknown as z.ZodType<MachineStatus>;

export function statusFileRel(machineId: string): string {
  return `maintenance/machines/${machineId}.json`;
}

/** One status file, read as untrusted input: the status, or why it is not one. */
export function readStatusFile(file: string): FileRead<MachineStatus> {
  return readUntrustedFile(file, machineStatusSchema);
}

/** This machine's own previous status; a damaged one counts as none. */
export function readStatus(sharedState: string, machineId: string): MachineStatus | undefined {
  const r = readStatusFile(path.join(sharedState, statusFileRel(machineId)));
  return r.ok ? r.value : undefined;
}

export function writeStatus(sharedState: string, status: MachineStatus): void {
  const file = path.join(sharedState, statusFileRel(status.machine));
  ensureRealDir(sharedState, path.dirname(file));
  writeFileAtomic(file, `${JSON.stringify(status, null, 2)}\n`);
}

/** What, in a status, is worth a commit when it changes: role, term, health, failures, version, reachability. */
function materialOf(s: MachineStatus): string {
  return JSON.stringify([
    s.version,
    s.offline,
    s.leader.isLeader,
    s.leader.term,
    [...s.failed].sort(),
    s.health ? [...s.health.failing].sort() : null,
    s.heartbeatMinutes ?? null,
    Object.entries(s.components ?? {}).map(([n, c]) => [n, c.commit, c.target ?? null, c.state, c.verifiedAt ?? null]),
  ]);
}

/**
 * Whether a tick's status deserves its own commit (pure): the first one, something material changed,
 * a task acted or failed, or the heartbeat interval has passed since the status on record was written.
 * Otherwise the status on record stands and the tick commits nothing for it.
 */
export function statusWorthCommitting(
  previous: MachineStatus | undefined,
  next: MachineStatus,
  now: number,
  heartbeatMs: number,
): boolean {
  if (!previous) return true;
  if (materialOf(previous) !== materialOf(next)) return true;
  if (next.tasks.some((t) => t.acted > 0 || t.status === 'failed')) return true;
  // a status from the future (a clock that ran fast) is rewritten rather than trusted
  return now >= heartbeatDueAt(previous, heartbeatMs) || now < Date.parse(previous.lastTickAt);
}

/** When this machine's status file must be written again though nothing changed (the one heartbeat rule). */
export function heartbeatDueAt(previous: MachineStatus | undefined, heartbeatMs: number): number {
  return previous ? Date.parse(previous.lastTickAt) + heartbeatMs : Number.NEGATIVE_INFINITY;
}
