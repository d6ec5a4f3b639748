import { z } from 'zod';
import { MAX_MESSAGE_BYTES } from './folder.js';
import { parseUntrusted, UNTRUSTED_LIMITS } from '../util/untrustedJson.js';
import { isDeepStrictEqual } from 'node:util';
import { serializeMessage, type RooSyncMessage } from './message.js';

/**
 * Two edits of the same message merged as RooSync means them, never textually: readers are a
 * union, the earliest acknowledgement per machine wins, status moves only forward (unread → read →
 * archived), a destruction is final. Any other field changed differently on both sides cannot be
 * merged: the remote's value is kept for it, and the caller sets the local version aside.
 */

type Obj = Record<string, unknown>;

const MESSAGE_LIMITS = { ...UNTRUSTED_LIMITS, maxBytes: MAX_MESSAGE_BYTES };

/** The merged message, and the fields both sides changed differently (the remote's value kept for those). */
export interface MergeOutcome {
  value: Obj;
  conflicts: string[];
}

const STATUS_RANK: Record<string, number> = { unread: 0, read: 1, archived: 2 };
const rank = (s: unknown) => STATUS_RANK[s as string] ?? 1;

function unionReaders(a: unknown, b: unknown): unknown {
  if (!Array.isArray(a) || !Array.isArray(b)) return undefined;
  return [...new Set([...b, ...a])];
}

function unionAcks(a: unknown, b: unknown): unknown {
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(a) || !isMap(b)) return undefined;
  const out: Record<string, unknown> = { ...b };
  for (const [k, v] of Object.entries(a)) {
    const theirs = out[k];
    out[k] = typeof theirs === 'string' && typeof v === 'string' && theirs < v ? theirs : (theirs ?? v);
  }
  return out;
}

/** The destruction fields travel together: the side that destroyed the message wins them all. */
const DESTRUCTION = ['body', 'destroyed_at', 'destroyed_reason', 'attachments'];

export function mergeMessageObjects(base: Obj | undefined, local: Obj, remote: Obj): MergeOutcome {
  const destroyed = remote.destroyed_at ? remote : local.destroyed_at ? local : undefined;
  const keys = [...new Set([...Object.keys(remote), ...Object.keys(local)])];
  const out: Obj = {};
  const conflicts: string[] = [];
  for (const k of keys) {
    const l = local[k];
    const r = remote[k];
    if (destroyed && DESTRUCTION.includes(k)) {
      if (destroyed[k] !== undefined) out[k] = destroyed[k];
      continue;
    }
    if (k === 'status') {
      out[k] = rank(l) > rank(r) ? l : r;
      continue;
    }
    if (k === 'reminder_sent') {
      out[k] = l === true || r === true ? true : (r ?? l);
      continue;
    }
    const union = k === 'read_by' ? unionReaders(l, r) : k === 'acknowledged_at' ? unionAcks(l, r) : undefined;
    if (union !== undefined) {
      out[k] = union;
      continue;
    }
    const b = base?.[k];
    if (isDeepStrictEqual(l, r)) out[k] = r;
    else if (base && isDeepStrictEqual(l, b)) out[k] = r;
    else if (base && isDeepStrictEqual(r, b)) out[k] = l;
    else if (!base && (l === undefined || r === undefined)) out[k] = r ?? l;
    else {
      out[k] = r;
      conflicts.push(k);
    }
    if (out[k] === undefined) delete out[k];
  }
  return { value: out, conflicts };
}

/** One message's copies as a side sees them: text per folder, absent when missing. */
export interface Copies {
  inbox?: string;
  archive?: string;
  sent?: string;
}

export interface Reconciled {
  /** What each folder must hold afterwards (absent: no file). */
  final: Copies;
  /** A local version that could not be merged: kept aside (quarantine) with the reason. */
  aside?: { text: string; reason: string };
}

/** A message file's text as a JSON object (RooSync's size and depth limits), or undefined when it is not one. */
export function parseObject(text: string | undefined): Obj | undefined {
  if (text === undefined) return undefined;
  const r = parseUntrusted(text, z.record(z.string(), z.unknown()), MESSAGE_LIMITS);
  return r.ok ? r.value : undefined;
}

/** A merged value as text: one side's exact bytes when it equals that side, else RooSync's serialisation. */
function textOf(value: Obj, candidates: (string | undefined)[]): string {
  for (const c of candidates) if (c !== undefined && isDeepStrictEqual(parseObject(c), value)) return c;
  return serializeMessage(value as RooSyncMessage);
}

/** Three-way choice for one opaque text (or a message that cannot be parsed). */
function threeWay(
  base: string | undefined,
  local: string | undefined,
  remote: string | undefined,
): { text: string | undefined; conflict: boolean } {
  if (local === remote) return { text: remote, conflict: false };
  if (local === base) return { text: remote, conflict: false };
  if (remote === base) return { text: local, conflict: false };
  return { text: remote, conflict: true };
}

const primary = (c: Copies) => c.archive ?? c.inbox;

/**
 * Where one message ends up and with what content, given the base and the local and remote sides:
 * archived anywhere stays archived (the inbox copy goes), the copies are merged as RooSync means them,
 * and a sent copy follows the merged message. Pure.
 */
export function reconcileMessage(base: Copies, local: Copies, remote: Copies): Reconciled {
  const [b, l, r] = [primary(base), primary(local), primary(remote)];
  const archived = local.archive !== undefined || remote.archive !== undefined;
  let content: string | undefined;
  let aside: Reconciled['aside'];
  if (l === undefined || r === undefined) {
    // deleted on one side (purged, quarantined): the deletion stands unless the other side changed it since
    const pick = threeWay(b, l, r);
    content = pick.text;
    if (pick.conflict && l !== undefined)
      aside = { text: l, reason: 'changed here while it was removed on the remote' };
  } else {
    const [bo, lo, ro] = [parseObject(b), parseObject(l), parseObject(r)];
    const merged = lo && ro ? mergeMessageObjects(bo, lo, ro) : undefined;
    if (merged) {
      const value = archived ? { ...merged.value, status: 'archived' } : merged.value;
      content = textOf(value, [r, l]);
      const fields = merged.conflicts.map((k) => `"${k}"`).join(', ');
      if (merged.conflicts.length > 0)
        aside = {
          text: l,
          reason: `${fields} changed differently here and on the remote: the remote's kept, the rest merged`,
        };
    } else {
      const pick = threeWay(b, l, r);
      content = pick.text;
      if (pick.conflict)
        aside = { text: l, reason: 'changed differently here and on the remote (not a message object)' };
    }
  }
  const final: Copies = {};
  if (content !== undefined) final[archived ? 'archive' : 'inbox'] = content;
  const sentGone = threeWay(base.sent, local.sent, remote.sent).text === undefined;
  if (content !== undefined && !sentGone) final.sent = content;
  else if (content === undefined && !sentGone) final.sent = remote.sent ?? local.sent;
  return { final, ...(aside && { aside }) };
}
