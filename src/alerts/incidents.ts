import path from 'node:path';
import { z } from 'zod';
import { readUntrustedFile } from '../util/untrustedJson.js';
import type { Incident } from './engine.js';

/** Closed incidents of one machine, in the synced tree: `maintenance/history/<machine>/incidents.json`. */
export function incidentsFileRel(machineId: string): string {
  return `maintenance/history/${machineId}/incidents.json`;
}

const incidentSchema = z.looseObject({
  key: z.string(),
  check: z.string(),
  subject: z.string(),
  machine: z.string(),
  start: z.string(),
  end: z.string(),
});

/** A machine's incident history; a damaged file (another machine's, or hand-edited) counts as none. */
export function readIncidents(sharedState: string, machineId: string): Incident[] {
  const r = readUntrustedFile(path.join(sharedState, incidentsFileRel(machineId)), z.array(incidentSchema));
  return r.ok ? r.value : [];
}
