import { DAY_MS, MINUTE_MS } from '../util/time.js';
import { formatDuration, formatTime } from '../util/format.js';
import { readLeaseFile } from '../election/lease.js';
import { newestMessageNames, readMessage } from '../roosync/folder.js';
import { messageDirs } from '../roosync/layout.js';
import { readMachines } from './fleetStatus.js';

/**
 * The clock fleet tasks judge ages by. A leader whose clock runs far ahead would find every message and
 * backup "old" and delete young ones; other machines' writes in the shared state say what time the fleet
 * thinks it is. So the "now" of age decisions is capped at the newest evidence from another machine plus
 * a margin (a heartbeat and a day): a clock ahead of that deletes nothing the fleet's clock calls young,
 * and a fleet that comes back after a week off is still maintained (a week less one margin late, until
 * the others tick again). With no evidence from any other machine, this machine's clock is all there is.
 */

export interface ClockEvidence {
  /** What it is, for the note: `myia-po-2023's last tick`, `message msg-… from myia-po-2026`. */
  source: string;
  ms: number;
}

export interface AgeClock {
  now: number;
  /** Set when the cap bit: what was capped and why, in a sentence for the run's warnings. */
  capped?: string;
}

export function ageClockMargin(heartbeatMinutes: number): number {
  return heartbeatMinutes * MINUTE_MS + DAY_MS;
}

/** Pure: this machine's `now`, or the newest evidence plus the margin when that is earlier. */
export function fleetAgeClock(now: number, evidence: readonly ClockEvidence[], marginMs: number): AgeClock {
  const newest = evidence.reduce<ClockEvidence | undefined>((a, e) => (a && a.ms >= e.ms ? a : e), undefined);
  if (!newest || now <= newest.ms + marginMs) return { now };
  const capped = newest.ms + marginMs;
  return {
    now: capped,
    capped:
      `this machine's clock is ${formatDuration(now - newest.ms)} ahead of the fleet's newest evidence ` +
      `(${newest.source}, ${formatTime(newest.ms)}): ages are judged as of ${formatTime(capped)}, so nothing ` +
      'the fleet’s clock calls young is archived or removed; check this clock (time sync)',
  };
}

/** How many of the newest inbox messages are opened to find one from another machine. */
const NEWEST_MESSAGES = 50;

/** What other machines wrote and when, by their own clocks: status files, the lease, the newest messages. */
export function clockEvidence(sharedState: string, machineId: string, now: number): ClockEvidence[] {
  const out: ClockEvidence[] = [];
  const add = (source: string, iso: unknown) => {
    const ms = typeof iso === 'string' ? Date.parse(iso) : Number.NaN;
    if (Number.isFinite(ms)) out.push({ source, ms });
  };
  for (const m of readMachines(sharedState).machines)
    if (m.machine !== machineId) add(`${m.machine}'s last tick`, m.lastTickAt);
  const lease = readLeaseFile(sharedState);
  if (lease.kind === 'ok' && lease.record.holder !== machineId)
    add(`${lease.record.holder}'s lease renewal`, lease.record.renewedAt);
  const inbox = messageDirs(sharedState).inbox;
  const names = newestMessageNames(inbox, NEWEST_MESSAGES);
  for (const name of names) {
    const read = readMessage(inbox, name, 'file', now);
    if (!read || !('parsed' in read) || !read.parsed.ok) continue;
    const from = String(read.parsed.message.from ?? '');
    if (from.split(':')[0] === machineId) continue;
    add(`message ${read.parsed.message.id} from ${from.split(':')[0]}`, read.parsed.message.timestamp);
    break; // names sort by their id's date: the first from someone else is the newest such
  }
  return out;
}
