import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import {
  judgeInboxFile,
  type PRIORITIES,
  type STATUSES,
  type BreakDefect,
  type Oddity,
  type ReadPath,
  type SkipDefect,
} from './readPaths.js';

export { PRIORITIES, STATUSES } from './readPaths.js';
export type Priority = (typeof PRIORITIES)[number];
export type Status = (typeof STATUSES)[number];

/**
 * A RooSync message (docs/roosync-format.md). Only the fields we act on are typed; every other
 * field, known or not, is carried through a rewrite untouched. A message read from disk may hold
 * values RooSync tolerates outside these types (a lower-case priority, a number id: readPaths.ts).
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
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, '');
  const suffix = [...random()].map((b) => (b % 36).toString(36)).join('');
  return `msg-${stamp}-${suffix}`;
}

export type Parsed =
  | { ok: true; message: RooSyncMessage; oddities: Oddity[] }
  | { ok: false; defect: SkipDefect | BreakDefect; reason: string; breaks: ReadPath[] };

/**
 * Reads a message file as RooSync does (readPaths.ts): ok when RooSync lists it, with the odd fields it
 * tolerates; otherwise what is wrong and which of RooSync's read paths it breaks (none: RooSync skips it).
 */
export function parseMessage(text: string, fileName: string, now: number): Parsed {
  const j = judgeInboxFile(fileName, text, now);
  if (j.kind === 'listed') return { ok: true, message: j.value as RooSyncMessage, oddities: j.oddities };
  return { ok: false, defect: j.defect, reason: j.reason, breaks: j.kind === 'breaking' ? j.paths : [] };
}

/** The key order RooSync writes: these first, then every other field in its own order. */
const KEY_ORDER = ['id', 'from', 'to', 'subject', 'body', 'priority', 'timestamp', 'status', 'tags'];

export function inRooSyncOrder(message: RooSyncMessage): RooSyncMessage {
  const ordered: Record<string, unknown> = {};
  for (const k of KEY_ORDER) if (k in message) ordered[k] = message[k];
  for (const [k, v] of Object.entries(message)) if (!(k in ordered)) ordered[k] = v;
  return ordered as RooSyncMessage;
}

/** RooSync's serialisation: 2-space JSON, UTF-8 without BOM, LF, no trailing newline. */
export function serializeMessage(message: RooSyncMessage): string {
  return JSON.stringify(message, null, 2);
}

export function writeMessageAtomic(dir: string, message: RooSyncMessage): void {
  writeFileAtomic(path.join(dir, `${message.id}.json`), serializeMessage(message));
}

/** A message `auto_destruct` has not yet destroyed: RooSync still owes it, so we never touch it. */
export function isPendingAutoDestruct(m: RooSyncMessage): boolean {
  return m.auto_destruct === true && !m.destroyed_at;
}
