import { lstatSync, type Stats } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { unlessMissing, unlessMissingAsync, writeFileAtomicAsync } from '../util/fs.js';
import { readMessage, signatureOf } from './folder.js';
import { serializeMessage, type RooSyncMessage } from './message.js';
import type { MessageDirs } from './layout.js';

export type ArchiveOutcome = 'archived' | 'already-gone' | 'changed-and-rearchived' | 'changed-and-left';

function signature(st: Stats | undefined): string {
  return st ? signatureOf(st.size, st.mtimeMs) : 'gone';
}

/**
 * Archives one message RooSync's way (roosync-format §4): the archived object (status set,
 * nothing else changed, unknown fields kept) is written to archive/ (temp then rename), the
 * sent copy, if any, overwritten, and the inbox file removed. Every step tolerates RooSync
 * doing the same at the same moment, and a run killed between steps is finished by the next.
 * If the inbox file changed since it was read (RooSync marked it read), the newer content is
 * archived instead, so no update is lost; if it changed into something RooSync does not list, it
 * is left where it is.
 */
export async function archiveMessage(
  dirs: MessageDirs,
  message: RooSyncMessage,
  readSignature: string,
  hasSentCopy: boolean,
): Promise<ArchiveOutcome> {
  const inboxFile = path.join(dirs.inbox, `${message.id}.json`);
  let current = message;
  let outcome: ArchiveOutcome = 'archived';
  const now = signature(await unlessMissingAsync(lstat(inboxFile), undefined));
  if (now === 'gone') return 'already-gone';
  if (now !== readSignature) {
    const reread = readMessage(dirs.inbox, `${message.id}.json`);
    if (!reread) return 'already-gone';
    // rewritten into something RooSync does not list: not ours to archive (inbox-hygiene judges it)
    if ('unreadable' in reread || !reread.parsed.ok) return 'changed-and-left';
    current = reread.parsed.message;
    outcome = 'changed-and-rearchived';
  }
  const archived: RooSyncMessage = { ...current, status: 'archived' };
  await writeFileAtomicAsync(path.join(dirs.archive, `${message.id}.json`), serializeMessage(archived));
  if (hasSentCopy) await writeFileAtomicAsync(path.join(dirs.sent, `${message.id}.json`), serializeMessage(archived));
  // Removing the inbox file is the commit point, so it comes last (RooSync updates sent/ after it):
  // a run killed before it finds the message still due next time and redoes every step.
  await unlessMissingAsync(unlink(inboxFile), undefined);
  return outcome;
}

export function fileSignature(file: string): string {
  return signature(unlessMissing(() => lstatSync(file), undefined));
}
