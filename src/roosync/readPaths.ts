/**
 * What RooSync's `MessageManager` does with one inbox file, worked out from its code (roo-state-manager,
 * `services/MessageManager.ts` and `utils/message-helpers.ts`) and checked against it by running it.
 *
 * RooSync reads every `inbox/*.json` file into one cache (`ensureInboxCache`); the listing, the
 * counts, the stats, the auto-archive and the auto-destruct passes all go through that cache, and a
 * file that makes any step throw takes the whole step down for every machine. So each file is:
 * - listed: RooSync shows it (possibly with odd fields it tolerates), and we must never hide it;
 * - skipped: RooSync logs a line and leaves it out (not JSON, a BOM, a name ≠ id): safe to move aside;
 * - breaking: one of the read paths throws on it, so it must leave the inbox.
 *
 * The probes below repeat the operations RooSync performs on the parsed value (property reads,
 * `String.prototype` calls, `new Date`, use as an object key), so they throw exactly where RooSync's do.
 */

import path from 'node:path';

/** The RooSync operations every inbox file passes through. */
export type ReadPath = 'listing' | 'count' | 'stats' | 'auto-archive' | 'auto-destruct';

export const ALL_READ_PATHS: readonly ReadPath[] = ['listing', 'count', 'stats', 'auto-archive', 'auto-destruct'];

export type SkipDefect = 'empty' | 'bom' | 'not-json' | 'not-object' | 'name-mismatch';
export type BreakDefect =
  | 'null'
  | 'bad-id'
  | 'bad-body'
  | 'bad-timestamp'
  | 'bad-to'
  | 'bad-read-by'
  | 'bad-from'
  | 'bad-priority'
  | 'bad-expiry';

export type Oddity =
  | 'priority'
  | 'status'
  | 'id-type'
  | 'tags'
  | 'timestamp'
  | 'addressed-to-nobody'
  | 'mark-read-fails';

/** Each oddity as the operator reads it in a digest: "3 messages with a non-standard priority". */
export const ODDITY_TEXT: Record<Oddity, string> = {
  priority: 'a non-standard priority',
  status: 'a non-standard status',
  'id-type': 'an id that is not a string',
  tags: 'tags that are not a list of strings',
  timestamp: 'a timestamp RooSync cannot date (its auto-archive takes them at once)',
  'addressed-to-nobody': 'a recipient no machine matches (`to` is not a string)',
  'mark-read-fails': 'read_by/acknowledged_at of a shape RooSync cannot mark read',
};

export type InboxJudgement =
  | { kind: 'listed'; value: Record<string, unknown>; oddities: Oddity[] }
  | { kind: 'skipped'; defect: SkipDefect; reason: string }
  | { kind: 'breaking'; defect: BreakDefect; reason: string; paths: ReadPath[] };

export const PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'URGENT'] as const;
export const STATUSES = ['unread', 'read', 'archived'] as const;
const isPriority = (v: unknown) => (PRIORITIES as readonly unknown[]).includes(v);
const isStatus = (v: unknown) => (STATUSES as readonly unknown[]).includes(v);

/** Runs `probe`; true if it throws (the value would make RooSync's code throw at that step). */
function throws(probe: () => unknown): boolean {
  try {
    probe();
    return false;
  } catch {
    return true;
  }
}

/** The kind of a JSON value for a reason text: never its content (it may be a secret). */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v === undefined) return 'missing';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

type Dyn = Record<string, (...args: unknown[]) => unknown>;

/**
 * RooSync's recipient test (`matchesRecipient`): broadcast, or machine, or machine:workspace with the
 * workspace compared by basename, case-insensitively. Throws where RooSync's throws (a `to` that has
 * no `indexOf`, or no `substring` once a colon is found).
 */
export function rooSyncMatches(to: unknown, machineId: string, workspaceId: string | undefined): boolean {
  if (to === 'all' || to === 'All') return true;
  const t = to as Dyn;
  const colon = t.indexOf!(':') as number;
  const machine = colon === -1 ? to : t.substring!(0, colon);
  if (machine !== machineId) return false;
  if (colon === -1) return true;
  if (!workspaceId) return false;
  return normalizeWorkspace(t.substring!(colon + 1) as string) === normalizeWorkspace(workspaceId);
}

function normalizeWorkspace(ws: string): string {
  return path.posix.basename(ws.replace(/\\/g, '/')).toLowerCase();
}

/** The machine part of a sender id, as RooSync's stats key it (throws where RooSync's parse throws). */
function senderMachine(from: unknown): unknown {
  const f = from as Dyn;
  const colon = f.indexOf!(':') as number;
  return colon === -1 ? from : f.substring!(0, colon);
}

/** Uses a value as an object key, as RooSync's counters do (throws where that conversion throws). */
function asKey(v: unknown): unknown {
  const counts: Record<string, number> = {};
  counts[v as string] = 1;
  return counts;
}

const isBroadcast = (to: unknown) => to === 'all' || to === 'All';

/** Whether RooSync lists the message for `machine` (and `workspace`), and as read or unread there. */
export function rooSyncView(
  v: Record<string, unknown>,
  machineId: string,
  workspaceId: string | undefined,
): { visible: boolean; unread: boolean } {
  if (!rooSyncMatches(v.to, machineId, workspaceId)) return { visible: false, unread: false };
  const readBy = v.read_by as { includes?: (x: string) => boolean } | undefined;
  if (isBroadcast(v.to) && readBy) return { visible: true, unread: !readBy.includes!(machineId) };
  return { visible: true, unread: v.status === 'unread' };
}

/**
 * The paths a listed-shaped value breaks. Each check is one RooSync step applied to the value;
 * the first that throws names the defect.
 */
function breakingProbe(
  v: Record<string, unknown>,
  now: number,
): { defect: BreakDefect; reason: string; paths: ReadPath[] } | undefined {
  if (typeof v.body !== 'string') {
    return {
      defect: 'bad-body',
      reason: `"body" is ${kindOf(v.body)}, not a string: RooSync's listing takes a preview of every body and throws`,
      paths: [...ALL_READ_PATHS],
    };
  }
  if (throws(() => new Date(v.timestamp as string).getTime())) {
    return {
      defect: 'bad-timestamp',
      reason: `"timestamp" is ${kindOf(v.timestamp)} that cannot become a date`,
      paths: [...ALL_READ_PATHS],
    };
  }
  if (throws(() => rooSyncMatches(v.to, 'myia-probe', 'probe'))) {
    return {
      defect: 'bad-to',
      reason: `"to" is ${kindOf(v.to)}, not a string: RooSync's recipient filter throws`,
      paths: ['listing', 'count', 'stats'],
    };
  }
  if (isBroadcast(v.to) && v.read_by && throws(() => (v.read_by as Dyn).includes!('myia-probe'))) {
    return {
      defect: 'bad-read-by',
      reason: `a broadcast whose "read_by" is ${kindOf(v.read_by)}: RooSync's per-machine read filter throws`,
      paths: ['listing', 'count', 'stats'],
    };
  }
  if (throws(() => asKey(senderMachine(v.from)))) {
    return {
      defect: 'bad-from',
      reason: `"from" is ${kindOf(v.from)}, not a string: RooSync's inbox stats throw`,
      paths: ['stats'],
    };
  }
  if (throws(() => asKey(v.priority || 'MEDIUM'))) {
    return {
      defect: 'bad-priority',
      reason: `"priority" is ${kindOf(v.priority)} that cannot be counted: RooSync's stats throw`,
      paths: ['stats'],
    };
  }
  if (breaksAutoDestruct(v, now)) {
    return {
      defect: 'bad-expiry',
      reason:
        'auto-destruct fields of a shape RooSync cannot read (expires_at not a date, or destruct_after not a string)',
      paths: ['auto-destruct'],
    };
  }
  return undefined;
}

/** RooSync's TTL pass (`cleanupExpiredMessages`) and reminder pass (`sendExpiryReminders`) on one message. */
function breaksAutoDestruct(v: Record<string, unknown>, now: number): boolean {
  if (!v.auto_destruct || !v.expires_at || v.destroyed_at) return false;
  if (throws(() => new Date(v.expires_at as string))) return true;
  if (!v.destruct_after || v.reminder_sent) return false;
  // the reminder pass only parses destruct_after while the message has not expired (or cannot be dated)
  const expires = new Date(v.expires_at as string).getTime();
  if (expires <= now) return false;
  return throws(() => {
    (v.destruct_after as Dyn).match!(/^(\d+)(m|h|d)$/);
    return `${v.subject as string}${v.from as string}`;
  });
}

/** What RooSync tolerates but an operator may want to know about; never a reason to move the file. */
function odditiesOf(v: Record<string, unknown>): Oddity[] {
  const odd: Oddity[] = [];
  if (!isPriority(v.priority)) odd.push('priority');
  if (!isStatus(v.status)) odd.push('status');
  if (typeof v.id !== 'string') odd.push('id-type');
  if (v.tags !== undefined && !(Array.isArray(v.tags) && v.tags.every((t) => typeof t === 'string'))) odd.push('tags');
  if (Number.isNaN(new Date(v.timestamp as string).getTime())) odd.push('timestamp');
  if (typeof v.to !== 'string') odd.push('addressed-to-nobody');
  if (markReadFails(v)) odd.push('mark-read-fails');
  return odd;
}

/** RooSync's `markAsRead` adds the reader to read_by and acknowledged_at; it fails (returns false) on other shapes. */
function markReadFails(v: Record<string, unknown>): boolean {
  const readBy = v.read_by;
  if (readBy && !Array.isArray(readBy)) return true;
  const acked = v.acknowledged_at;
  if (acked && (typeof acked !== 'object' || Array.isArray(acked))) return true;
  const needed = v.destruct_after_read_by;
  return Boolean(needed) && !Array.isArray(needed) && typeof needed !== 'string';
}

/** Judges one inbox file's text as RooSync reads it (UTF-8, `JSON.parse`, name = `<id>.json`). */
export function judgeInboxFile(name: string, text: string, now: number): InboxJudgement {
  if (text.length === 0)
    return { kind: 'skipped', defect: 'empty', reason: '0-byte file (a crashed writer): RooSync skips it' };
  if (text.charCodeAt(0) === 0xfeff) {
    return { kind: 'skipped', defect: 'bom', reason: 'starts with a UTF-8 BOM: RooSync cannot parse it and skips it' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const why = err instanceof SyntaxError ? 'not valid JSON' : 'unreadable JSON';
    return { kind: 'skipped', defect: 'not-json', reason: `${why} (${text.length} characters): RooSync skips it` };
  }
  if (value === null) {
    return {
      kind: 'breaking',
      defect: 'null',
      reason: 'holds null: RooSync reads its id and throws, so the inbox listing comes back empty for every machine',
      paths: [...ALL_READ_PATHS],
    };
  }
  let expectedName: string;
  try {
    expectedName = `${(value as Record<string, unknown>).id as string}.json`;
  } catch {
    return {
      kind: 'breaking',
      defect: 'bad-id',
      reason: '"id" cannot be turned into a file name: RooSync throws',
      paths: [...ALL_READ_PATHS],
    };
  }
  if (expectedName !== name) {
    if (typeof value !== 'object' || Array.isArray(value)) {
      return {
        kind: 'skipped',
        defect: 'not-object',
        reason: `${kindOf(value)}, not a message object: RooSync skips it`,
      };
    }
    const id = (value as Record<string, unknown>).id;
    const idText = typeof id === 'string' ? id : kindOf(id);
    return {
      kind: 'skipped',
      defect: 'name-mismatch',
      reason: `its id is ${idText}, not ${name.slice(0, -5)}: RooSync skips it as a phantom`,
    };
  }
  const v = value as Record<string, unknown>;
  const broken = breakingProbe(v, now);
  if (broken) return { kind: 'breaking', ...broken };
  return { kind: 'listed', value: v, oddities: odditiesOf(v) };
}
