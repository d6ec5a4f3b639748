import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/fs.js';
import { readUntrustedFile, type FileRead } from '../util/untrustedJson.js';
import type { TaskResult } from './taskResult.js';

/** `maintenance/machines/<id>.json`: written only by <id>, rewritten every tick. */
export interface MachineStatus {
  machine: string;
  version: string;
  lastTickAt: string;
  lastSuccessAt: string | null;
  /** The last tick whose push landed (this machine's last successful sync). */
  lastSyncAt?: string | null;
  offline: boolean;
  leader: { isLeader: boolean; term: number | null; reason: string };
  tasks: { task: string; status: TaskResult['status']; acted: number; reason?: string }[];
  failed: string[];
  /** The health findings of this tick that fail (`null` when no health task ran this tick). */
  health?: { failing: string[] } | null;
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
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(status, null, 2)}\n`);
}
