import { linkSync, lstatSync, mkdirSync, unlinkSync, type Stats } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { flushToDisk, listDirIfPresent, unlessMissing, unlessMissingAsync, writeFileAtomicAsync } from '../util/fs.js';
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
 * Step 1 of archiving one message RooSync's way (docs/roosync-format.md): the archived object (status set,
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
  now: number,
): Promise<ArchivedCopies> {
  const inboxFile = path.join(dirs.inbox, `${message.id}.json`);
  let current = message;
  let outcome: ArchiveOutcome = 'archived';
  let from = readSignature;
  const seen = signature(await unlessMissingAsync(lstat(inboxFile), undefined));
  if (seen === 'gone') return { outcome: 'already-gone', written: [] };
  if (seen !== readSignature) {
    const reread = readMessage(dirs.inbox, `${message.id}.json`, 'file', now);
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
export async function removeArchivedInboxCopy(
  dirs: MessageDirs,
  id: string,
  inboxSignature: string,
  trash?: RemovalTrash,
): Promise<boolean> {
  const inboxFile = path.join(dirs.inbox, `${id}.json`);
  if (fileSignature(inboxFile) !== inboxSignature) return false;
  if (trash?.keep(inboxFile, id, inboxSignature)) return true;
  await unlessMissingAsync(unlink(inboxFile), undefined);
  return true;
}

/**
 * RooSync writes in place: opening a file truncates it, then it writes. One that opens an inbox copy in the
 * instant between our last check and the unlink would write into a file no name reaches any more, and its
 * edit would be lost. So a removal first hard-links the copy into a private folder, then unlinks it, and
 * `settle()` looks at each kept inode once the batch is done: one whose size or mtime moved (RooSync wrote
 * into it) goes back to the inbox — the next archive takes it with that edit — and the rest are deleted.
 * Where a hard link cannot be made (another file system), the removal is a plain unlink, as before.
 */
export class RemovalTrash {
  private readonly kept: { file: string; id: string; signature: string }[] = [];
  private counter = 0;

  constructor(
    private readonly dir: string,
    private readonly inbox: string,
  ) {}

  keep(inboxFile: string, id: string, signature: string): boolean {
    const file = path.join(this.dir, `${id}.json.${process.pid.toString(36)}-${(this.counter++).toString(36)}`);
    try {
      mkdirSync(this.dir, { recursive: true });
      linkSync(inboxFile, file);
    } catch {
      return false;
    }
    unlessMissing(() => unlinkSync(inboxFile), undefined);
    this.kept.push({ file, id, signature });
    return true;
  }

  /** Deletes what nobody wrote into since; puts back what RooSync wrote into meanwhile. The ids put back. */
  settle(): string[] {
    const back: string[] = [];
    for (const k of this.kept.splice(0)) {
      if (fileSignature(k.file) === k.signature) {
        unlessMissing(() => unlinkSync(k.file), undefined);
        continue;
      }
      back.push(k.id);
      putBack(k.file, path.join(this.inbox, `${k.id}.json`));
    }
    return back;
  }

  /** Files a killed run left here: each goes back to the inbox if its message is not there (nothing is lost). */
  recover(): string[] {
    const back: string[] = [];
    for (const name of listDirIfPresent(this.dir)) {
      const id = name.replace(/\.json\.[0-9a-z]+-[0-9a-z]+$/, '');
      if (id === name) continue;
      back.push(id);
      putBack(path.join(this.dir, name), path.join(this.inbox, `${id}.json`));
    }
    return back;
  }
}

/** A kept inode goes back under the inbox name, unless RooSync made a new file there meanwhile (that one is newer). */
function putBack(kept: string, inboxFile: string): void {
  try {
    linkSync(kept, inboxFile); // fails if a file is there: the newer one stays
  } catch {
    // RooSync wrote the message anew: its copy stays and is archived by the next run
  }
  unlessMissing(() => unlinkSync(kept), undefined);
}

/** All the steps for one message alone; a batch writes all copies, flushes once, then removes. */
export async function archiveMessage(
  dirs: MessageDirs,
  message: RooSyncMessage,
  readSignature: string,
  hasSentCopy: boolean,
  now: number,
): Promise<ArchiveOutcome> {
  const copies = await writeArchivedCopies(dirs, message, readSignature, hasSentCopy, now);
  if (copies.written.length === 0) return copies.outcome;
  await flushToDisk(copies.written);
  const removed = await removeArchivedInboxCopy(dirs, String(message.id), copies.inboxSignature!);
  return removed ? copies.outcome : 'changed-and-left';
}

export function fileSignature(file: string): string {
  return signature(unlessMissing(() => lstatSync(file), undefined));
}
