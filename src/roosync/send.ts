import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { assertRealFolders } from './folder.js';
import { inRooSyncOrder, newMessageId, writeMessageAtomic, type Priority, type RooSyncMessage } from './message.js';
import type { MessageDirs } from './layout.js';
import { censorText } from '../util/censor.js';

/** Who our messages are from: `<machine>:maintenance` (RooSync's `machine:workspace` form). */
export function maintenanceSender(machineId: string): string {
  return `${machineId}:maintenance`;
}

export interface Outgoing {
  /** `<machine>:<workspace>`; ours is `<machineId>:maintenance`. */
  from: string;
  to: string;
  subject: string;
  body: string;
  priority: Priority;
  tags?: string[];
  thread_id?: string;
  reply_to?: string;
}

/** In a body, stands for the id the message gets when it is sent (an alert names the call that marks it read). */
export const MESSAGE_ID = '{{message_id}}';

/** Our messages' bounds: an alert or a digest is a summary; its details live in files and status. */
export const MAX_BODY = 16 * 1024;
const MAX_SUBJECT = 200;

/** Text cut to `max` characters, saying how much was left out. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `\n\n[… ${text.length - max} more characters left out]`;
  return `${text.slice(0, Math.max(0, max - note.length))}${note}`;
}

/**
 * Sends a message as RooSync does: a new id, the inbox copy and the sender's sent copy, each
 * written to a temp name then renamed. The sent copy goes first, so a run killed in between
 * leaves an unsent draft, never an inbox message without its sender's copy.
 */
export function sendMessage(dirs: MessageDirs, out: Outgoing, now: number): RooSyncMessage {
  const id = newMessageId(now);
  const message = inRooSyncOrder({
    id,
    ...out,
    // what goes to the shared state passes the one secret matcher, and is bounded (a message is read by agents)
    subject: capText(censorText(out.subject), MAX_SUBJECT),
    body: capText(censorText(out.body).split(MESSAGE_ID).join(id), MAX_BODY),
    timestamp: new Date(now).toISOString(),
    status: 'unread',
  });
  // a symlinked message folder would make us write wherever it points (any clone can commit one)
  assertRealFolders(path.dirname(dirs.messages), [dirs.messages, dirs.inbox, dirs.sent]);
  mkdirSync(dirs.sent, { recursive: true });
  mkdirSync(dirs.inbox, { recursive: true });
  writeMessageAtomic(dirs.sent, message);
  writeMessageAtomic(dirs.inbox, message);
  return message;
}
