import { lstatSync, type Stats } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { flushToDisk, unlessMissing, unlessMissingAsync, writeFileAtomicAsync } from '../util/fs.js';
import { readMessage, signatureOf } from './folder.js';
import { serializeMessage, type RooSyncMessage } from './message.js';
import type { MessageDirs } from './layout.js';

export type ArchiveOutcome = 'archived' | 'already-gone' | 'changed-and-rearchived' | 'changed-and-left';

function signature(st: Stats | undefined): string {
  return st ? signatureOf(st.size, st.mtimeMs) : 'gone';
}

/** What writing a message's archived copies did: the files written, and the inbox version they were made from. */
export interface ArchivedCopies {
  outcome: ArchiveOutcome;
  written: string[];
  inboxSignature?: string;
}

/**
 * Step 1 of archiving one message RooSync's way (roosync-format §4): the archived object (status set,
 * nothing else changed, unknown fields kept) is written to archive/ and over the sent copy, if any; the
 * inbox copy is untouched. If the inbox file changed since it was read (RooSync marked it read), the newer
 * content is archived, so no update is lost; if it changed into something RooSync does not list, it is
 * left where it is. The copies are not flushed yet: `flushToDisk` does it once for a whole batch.
 */
export async function writeArchivedCopies(
  dirs: MessageDirs,
  message: RooSyncMessage,
  readSignature: string,
  hasSentCopy: boolean,
): Promise<ArchivedCopies> {
  const inboxFile = path.join(dirs.inbox, `${message.id}.json`);
  let current = message;
  let outcome: ArchiveOutcome = 'archived';
  let from = readSignature;
  const now = signature(await unlessMissingAsync(lstat(inboxFile), undefined));
  if (now === 'gone') return { outcome: 'already-gone', written: [] };
  if (now !== readSignature) {
    const reread = readMessage(dirs.inbox, `${message.id}.json`);
    if (!reread) return { outcome: 'already-gone', written: [] };
    // rewritten into something RooSync does not list: not ours to archive (inbox-hygiene judges it)
    if ('unreadable' in reread || !reread.parsed.ok) return { outcome: 'changed-and-left', written: [] };
    current = reread.parsed.message;
    from = reread.signature;
    outcome = 'changed-and-rearchived';
  }
  const text = serializeMessage({ ...current, status: 'archived' });
  const written = [path.join(dirs.archive, `${message.id}.json`)];
  if (hasSentCopy) written.push(path.join(dirs.sent, `${message.id}.json`));
  for (const file of written) await writeFileAtomicAsync(file, text, false);
  return { outcome, written, inboxSignature: from };
}

/**
 * Step 3: the inbox copy goes — the commit point, once the archived copy is on disk — unless it changed
 * since it was archived (then the next run archives the newer version). False when it was left.
 */
export async function removeArchivedInboxCopy(dirs: MessageDirs, id: string, inboxSignature: string): Promise<boolean> {
  const inboxFile = path.join(dirs.inbox, `${id}.json`);
  if (fileSignature(inboxFile) !== inboxSignature) return false;
  await unlessMissingAsync(unlink(inboxFile), undefined);
  return true;
}

/** All the steps for one message alone; a batch writes all copies, flushes once, then removes. */
export async function archiveMessage(
  dirs: MessageDirs,
  message: RooSyncMessage,
  readSignature: string,
  hasSentCopy: boolean,
): Promise<ArchiveOutcome> {
  const copies = await writeArchivedCopies(dirs, message, readSignature, hasSentCopy);
  if (copies.written.length === 0) return copies.outcome;
  await flushToDisk(copies.written);
  const removed = await removeArchivedInboxCopy(dirs, String(message.id), copies.inboxSignature!);
  return removed ? copies.outcome : 'changed-and-left';
}

export function fileSignature(file: string): string {
  return signature(unlessMissing(() => lstatSync(file), undefined));
}
