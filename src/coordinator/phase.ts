import { createHash } from 'node:crypto';

/**
 * A stable offset in [0, periodMs) from the machine id: each machine of a fleet ticks at its own
 * moment of the interval, the same one every time, so a fleet never ticks at the same second.
 */
export function phaseOffsetMs(machineId: string, periodMs: number): number {
  return createHash('sha256').update(machineId).digest().readUInt32BE(0) % Math.max(1, Math.floor(periodMs));
}

/** The next moment after `now` on this machine's grid: offset + k × period. */
export function nextOnPhase(now: number, periodMs: number, offsetMs: number): number {
  return (Math.floor((now - offsetMs) / periodMs) + 1) * periodMs + offsetMs;
}
