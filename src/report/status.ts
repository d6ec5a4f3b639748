import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../roosync/message.js';
import type { TaskResult } from '../tasks/types.js';

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

export function statusFileRel(machineId: string): string {
  return `maintenance/machines/${machineId}.json`;
}

export function readStatus(sharedState: string, machineId: string): MachineStatus | undefined {
  try {
    return JSON.parse(readFileSync(path.join(sharedState, statusFileRel(machineId)), 'utf8')) as MachineStatus;
  } catch {
    return undefined;
  }
}

export function writeStatus(sharedState: string, status: MachineStatus): void {
  const file = path.join(sharedState, statusFileRel(status.machine));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(status, null, 2)}\n`);
}
