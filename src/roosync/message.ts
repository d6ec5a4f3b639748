import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'URGENT'] as const;
export const STATUSES = ['unread', 'read', 'archived'] as const;
export type Priority = (typeof PRIORITIES)[number];
export type Status = (typeof STATUSES)[number];

/**
 * A RooSync message (roosync-format.md §2). Only the fields we act on are typed; every other
 * field, known or not, is carried through a rewrite untouched.
 */
export interface RooSyncMessage {
  id: string;
  from: string;
  to: string;
  subject: string;
  body: string;
  priority: Priority;
  timestamp: string;
  status: Status;
  tags?: string[];
  thread_id?: string;
  reply_to?: string;
  auto_destruct?: boolean;
  destroyed_at?: string;
  attachments?: { uuid: string; filename: string; sizeBytes?: number }[];
  [key: string]: unknown;
}

const ID_DATE = /^msg-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})-/;

/** The creation time an id carries (`msg-20260822T020133-x7k2p9`), without opening the file. */
export function dateFromId(id: string): number | undefined {
  const m = ID_DATE.exec(id);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isNaN(ms) || new Date(ms).getUTCDate() !== +m[3]! ? undefined : ms;
}

const COMPACT_ID = /^msg-\d{8}T\d{6}-/;

/**
 * The id a message created exactly at `ms` would start with. RooSync ids sort chronologically
 * as strings, so `name < idPrefixAt(cutoff)` dates 100,000 names without parsing one.
 */
export function idPrefixAt(ms: number): string {
  return `msg-${new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 15)}-`;
}

/** Whether an id carries a parseable creation time (others must be opened to be dated). */
export function hasDatedId(id: string): boolean {
  return COMPACT_ID.test(id) && dateFromId(id) !== undefined;
}

/** RooSync's id: `msg-` + UTC `YYYYMMDDTHHMMSS` + `-` + 6 base36 characters. */
export function newMessageId(now: number, random: () => Buffer = () => randomBytes(6)): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '');
  const suffix = [...random()].map((b) => (b % 36).toString(36)).join('');
  return `msg-${stamp}-${suffix}`;
}

export type Defect = 'empty' | 'bom' | 'not-json' | 'not-object' | 'missing-id' | 'missing-body' | 'bad-priority' | 'bad-status' | 'name-mismatch';

export type Parsed = { ok: true; message: RooSyncMessage; bom: boolean } | { ok: false; defect: Defect; reason: string; bom: boolean };

/**
 * Reads a message file as RooSync would, and says precisely what is wrong when it is not one.
 * A BOM is tolerated for reading (and reported): RooSync itself would skip the file.
 */
export function parseMessage(text: string, fileName: string): Parsed {
  const bom = text.charCodeAt(0) === 0xfeff;
  const body = bom ? text.slice(1) : text;
  if (text.length === 0) return { ok: false, defect: 'empty', reason: '0-byte file (a crashed writer)', bom };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return { ok: false, defect: 'not-json', reason: `not JSON: ${err instanceof Error ? err.message : String(err)}`, bom };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, defect: 'not-object', reason: `not a JSON object (${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}): blanks RooSync's inbox listing`, bom };
  }
  const m = value as Record<string, unknown>;
  if (typeof m.id !== 'string' || m.id === '') return { ok: false, defect: 'missing-id', reason: 'no string "id"', bom };
  if (typeof m.body !== 'string') return { ok: false, defect: 'missing-body', reason: `"body" is ${m.body === undefined ? 'missing' : `a ${m.body === null ? 'null' : typeof m.body}`}, not a string: blanks RooSync's inbox listing`, bom };
  if (!PRIORITIES.includes(m.priority as Priority)) return { ok: false, defect: 'bad-priority', reason: `"priority" is ${JSON.stringify(m.priority)}, not one of ${PRIORITIES.join('|')}`, bom };
  if (!STATUSES.includes(m.status as Status)) return { ok: false, defect: 'bad-status', reason: `"status" is ${JSON.stringify(m.status)}, not one of ${STATUSES.join('|')}`, bom };
  if (`${m.id}.json` !== fileName) return { ok: false, defect: 'name-mismatch', reason: `named ${fileName} but its id is ${m.id}: RooSync skips it as a phantom`, bom };
  if (bom) return { ok: false, defect: 'bom', reason: 'starts with a UTF-8 BOM: RooSync fails to parse it and silently skips it', bom };
  return { ok: true, message: m as RooSyncMessage, bom };
}

/** RooSync's serialisation: 2-space JSON, UTF-8 without BOM, LF, no trailing newline. */
export function serializeMessage(message: RooSyncMessage): string {
  return JSON.stringify(message, null, 2);
}

/** The temp name of a write in progress: not matched by RooSync's `*.json`. */
export function tempNameFor(file: string): string {
  return `${file}.tmp`;
}

/** Writes `<file>.tmp` then renames it over `<file>`: a reader never sees a half-written message. */
export function writeFileAtomic(file: string, content: string): void {
  const tmp = tempNameFor(file);
  writeFileSync(tmp, content, 'utf8');
  renameSync(tmp, file);
}

export function writeMessageAtomic(dir: string, message: RooSyncMessage): void {
  writeFileAtomic(path.join(dir, `${message.id}.json`), serializeMessage(message));
}

/** A message `auto_destruct` has not yet destroyed: RooSync still owes it, so we never touch it. */
export function isPendingAutoDestruct(m: RooSyncMessage): boolean {
  return m.auto_destruct === true && !m.destroyed_at;
}
