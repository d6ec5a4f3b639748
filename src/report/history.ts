import { HOUR_MS } from '../util/time.js';
import path from 'node:path';
import { z } from 'zod';
import { ensureRealDir, writeFileAtomic } from '../util/fs.js';
import { readUntrustedFile } from '../util/untrustedJson.js';

/**
 * `maintenance/fleet-history.json`: one entry per fleet digest, appended by the leader that sent it. It is the
 * digests' history in the shared state (the digests themselves get archived and purged): the fleet page's trend
 * charts and "who led when" come from it, and its last entry says when the fleet digest was last sent.
 */
export const HISTORY_REL = 'maintenance/fleet-history.json';

/** Entries kept: a digest a day for a little over three months. */
export const HISTORY_LIMIT = 100;

const num = z.number().finite().nullable().catch(null);
const entrySchema = z.object({
  at: z.iso.datetime(),
  leader: z.string().nullable().catch(null),
  term: num,
  machines: z.number().int().min(0).catch(0),
  silent: z.number().int().min(0).catch(0),
  inbox: num,
  rollbackDirs: num,
  /** Bytes freed by the leader's tasks since the previous fleet digest. */
  freedBytes: num,
  mcpUptimePercent: num,
  mttrMinutes: num,
  attention: z.number().int().min(0).catch(0),
});
export type HistoryEntry = z.output<typeof entrySchema>;

/**
 * The fleet history, oldest first. Another machine wrote it: an entry that does not parse is dropped, a damaged
 * file counts as no history (the next digest starts a new one).
 */
export function readHistory(sharedState: string): HistoryEntry[] {
  const r = readUntrustedFile(path.join(sharedState, HISTORY_REL), z.array(z.unknown()));
  if (!r.ok) return [];
  return r.value
    .map((e) => entrySchema.safeParse(e))
    .filter((p) => p.success)
    .map((p) => p.data)
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/**
 * Appends one entry to the history as read (`history`), keeping the newest HISTORY_LIMIT; returns the path written
 * (relative to the shared state) and the history now on file.
 */
export function appendHistory(
  sharedState: string,
  history: readonly HistoryEntry[],
  entry: HistoryEntry,
): { rel: string; history: HistoryEntry[] } {
  const all = [...history, entry].slice(-HISTORY_LIMIT);
  const file = path.join(sharedState, HISTORY_REL);
  ensureRealDir(sharedState, path.dirname(file));
  writeFileAtomic(file, `${JSON.stringify(all, null, 2)}\n`);
  return { rel: HISTORY_REL, history: all };
}

/**
 * When the fleet digest is next due: a day (`reports.digestHours`) after the last one any leader sent, or at once.
 * An entry from the future (a clock that ran ahead) does not hold the digest back.
 */
export function fleetDigestDueAt(history: readonly HistoryEntry[], now: number, digestHours: number): number {
  const past = history.filter((e) => Date.parse(e.at) <= now);
  const last = past.at(-1);
  return last ? Date.parse(last.at) + digestHours * HOUR_MS : Number.NEGATIVE_INFINITY;
}
