import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { compareText } from '../util/order.js';

/**
 * RooSync's own liveness files: `listener-heartbeats/<machine>.heartbeat` (since 2026-06) and
 * `worker-heartbeats/<machine>.heartbeat` (since 2026-08), one per machine, rewritten every few minutes by
 * RooSync's listener and worker. RooSync's coordinator judges them by their modification time and calls one
 * older than 2 h dead. They are read here, never written, moved or cleaned (config/load.ts refuses rules there).
 */
export const ROO_HEARTBEAT_FOLDERS = { listener: 'listener-heartbeats', worker: 'worker-heartbeats' } as const;

export type RooHeartbeatKind = keyof typeof ROO_HEARTBEAT_FOLDERS;

export interface RooHeartbeat {
  kind: RooHeartbeatKind;
  machine: string;
  /** The file's modification time, as RooSync judges it (ISO). */
  at: string;
  ageMinutes: number;
  stale: boolean;
}

/** Every heartbeat file of both folders (regular files only, never through a link), stale past `staleHours`. */
export function readRooHeartbeats(sharedState: string, now: number, staleHours = 2): RooHeartbeat[] {
  const out: RooHeartbeat[] = [];
  for (const [kind, folder] of Object.entries(ROO_HEARTBEAT_FOLDERS) as [RooHeartbeatKind, string][]) {
    let names: string[];
    try {
      names = readdirSync(path.join(sharedState, folder));
    } catch {
      continue; // no such folder on this fleet
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      try {
        const st = lstatSync(path.join(sharedState, folder, name));
        if (!st.isFile()) continue;
        const ageMinutes = Math.round((now - st.mtimeMs) / 60_000);
        const machine = name.replace(/\.heartbeat$/i, '');
        out.push({
          kind,
          machine,
          at: new Date(st.mtimeMs).toISOString(),
          ageMinutes,
          stale: ageMinutes > staleHours * 60,
        });
      } catch {
        // gone meanwhile
      }
    }
  }
  return out.sort((a, b) => compareText(a.kind, b.kind) || compareText(a.machine, b.machine));
}
