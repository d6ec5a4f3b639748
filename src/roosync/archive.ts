import { existsSync, lstatSync, mkdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import { errorCode } from '../errors.js';
import { readMessageFile, unlinkIfPresent } from './folder.js';
import { writeMessageAtomic, type RooSyncMessage } from './message.js';
import type { MessageDirs } from './layout.js';

export type ArchiveOutcome = 'archived' | 'already-gone' | 'changed-and-rearchived';

function signature(st: Stats | undefined): string {
  return st ? `${st.size}:${st.mtimeMs}` : 'gone';
}

function statIfPresent(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Archives one message RooSync's way (roosync-format §4): the archived object (status set,
 * nothing else changed, unknown fields kept) is written to archive/ (temp then rename), the
 * sent copy, if any, overwritten, and the inbox file removed. Every step tolerates RooSync
 * doing the same at the same moment, and a run killed between steps is finished by the next.
 * If the inbox file changed since it was read (RooSync marked it read), the newer content is
 * archived instead, so no update is lost.
 */
export function archiveMessage(dirs: MessageDirs, message: RooSyncMessage, readSignature: string): ArchiveOutcome {
  const inboxFile = path.join(dirs.inbox, `${message.id}.json`);
  let current = message;
  let outcome: ArchiveOutcome = 'archived';
  const now = signature(statIfPresent(inboxFile));
  if (now === 'gone') return 'already-gone';
  if (now !== readSignature) {
    const reread = readMessageFile(dirs.inbox, `${message.id}.json`);
    if (!reread) return 'already-gone';
    if (reread.ok) {
      current = reread.message;
      outcome = 'changed-and-rearchived';
    }
  }
  const archived: RooSyncMessage = { ...current, status: 'archived' };
  mkdirSync(dirs.archive, { recursive: true });
  writeMessageAtomic(dirs.archive, archived);
  if (existsSync(path.join(dirs.sent, `${message.id}.json`))) writeMessageAtomic(dirs.sent, archived);
  // Removing the inbox file is the commit point, so it comes last (RooSync updates sent/ after it):
  // a run killed before it finds the message still due next time and redoes every step.
  unlinkIfPresent(inboxFile);
  return outcome;
}

export function fileSignature(file: string): string {
  return signature(statIfPresent(file));
}
