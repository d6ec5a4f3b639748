import path from 'node:path';
import { readIncidents } from '../alerts/incidents.js';
import { ensureRealDir, writeFileAtomic } from '../util/fs.js';
import type { FleetStatus } from './fleetStatus.js';
import { PAGE_REL, renderFleetPage } from './fleetPage.js';
import { type HistoryEntry, readHistory } from './history.js';

/** The fleet page of the shared state as it is now: the fleet, the digests' history, every machine's incidents. */
export function fleetPageOf(
  sharedState: string,
  fleet: FleetStatus,
  o: { now: number; writer: string; version: string },
  /** The history when the caller has just read or written it. */
  history: readonly HistoryEntry[] = readHistory(sharedState),
) {
  return renderFleetPage({
    fleet,
    history,
    incidents: fleet.machines.flatMap((m) => readIncidents(sharedState, m.machine)),
    ...o,
  });
}

/** Writes the page into the shared state (`maintenance/fleet.html`, atomically); returns its path there. */
export function writeSharedFleetPage(sharedState: string, page: string): string {
  const file = path.join(sharedState, PAGE_REL);
  ensureRealDir(sharedState, path.dirname(file));
  writeFileAtomic(file, page);
  return PAGE_REL;
}
