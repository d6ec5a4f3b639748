import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readUntrustedFile } from '../util/untrustedJson.js';
import { maintenanceSender } from '../roosync/send.js';
import { mkdirSync, readFileSync, renameSync, existsSync } from 'node:fs';
import path from 'node:path';
import { messageDirs, type MessageDirs } from '../roosync/layout.js';
import {
  assertRealFolders,
  eachEntry,
  type EntryKind,
  kindOf,
  readMessage,
  scanFolder,
  type FolderListing,
} from '../roosync/folder.js';
import {
  dateFromId,
  hasDatedId,
  idPrefixAt,
  isPendingAutoDestruct,
  serializeMessage,
  type RooSyncMessage,
} from '../roosync/message.js';
import { mergeMessageObjects, parseObject } from '../roosync/merge.js';
import { ODDITY_TEXT, type Oddity } from '../roosync/readPaths.js';
import { writeBundle, type PurgedEntry } from '../roosync/purgeBundle.js';
import {
  type ArchivedCopies,
  fileSignature,
  RemovalTrash,
  removeArchivedInboxCopy,
  writeArchivedCopies,
} from '../roosync/archive.js';
import { flushToDisk, readWithSignature, replaceIfUnchanged } from '../util/fs.js';
import { plural } from '../util/format.js';
import { unlessMissing, unlinkIfPresent, writeFileAtomic } from '../util/fs.js';
import type { Entry } from '../retention/plan.js';
import { stateFile } from '../sharedState/localState.js';
import { retentionTask, sharedRule } from './retentionTask.js';
import {
  countUntouched,
  cutoffOf,
  day,
  leftoverTempsReport,
  messageAction,
  messageTask,
  newReport,
  planAndApply,
  removeTemp,
} from './messageSupport.js';
import type { ReportAction, RuleReport, TaskContext } from './types.js';

const idOf = (name: string) => name.slice(0, -'.json'.length);

/**
 * The date a message is aged by: RooSync's own (`new Date(timestamp)`), else the id's date where
 * RooSync's is not a date (RooSync would archive such a message at once; we wait for the id's age).
 */
export function messageDate(m: RooSyncMessage): { ms: number; source: string } | undefined {
  const ts = new Date(m.timestamp).getTime();
  if (!Number.isNaN(ts)) return { ms: ts, source: 'timestamp' };
  const fromId = typeof m.id === 'string' ? dateFromId(m.id) : undefined;
  return fromId === undefined ? undefined : { ms: fromId, source: 'id' };
}

/**
 * Which files of a folder must be opened to decide, one name at a time as the folder is read (scanFolder): those
 * whose id dates them before the cutoff, and those whose id cannot be dated. It counts the rest, decided by name
 * alone (pure).
 */
export function openFilter(cutoff: number): { mustOpen: (name: string) => boolean; newerByName: number } {
  const cutoffId = idPrefixAt(cutoff);
  const filter = {
    newerByName: 0,
    mustOpen: (name: string) => {
      // ids sort chronologically as strings: one comparison per name, no date parsing
      if (name < cutoffId || !hasDatedId(idOf(name))) return true;
      filter.newerByName++;
      return false;
    },
  };
  return filter;
}

export interface ArchivePolicy {
  readDays: number;
  unreadDays: number;
}

/**
 * RooSync's archive rule (`autoArchiveOld(30, true, 90)`), pure: a message whose global status is
 * `unread` is archived after `unreadDays`, any other status after `readDays`. Pending auto-destruct
 * messages are left to RooSync (our safer choice: RooSync would archive them too).
 */
export function decideArchive(rel: string, m: RooSyncMessage, now: number, p: ArchivePolicy, bytes = 0): ReportAction {
  if (isPendingAutoDestruct(m)) return messageAction(rel, 'skip', 'pending auto-destruct: left for RooSync', 0, bytes);
  const date = messageDate(m);
  if (!date) return messageAction(rel, 'skip', 'neither its timestamp nor its id can be dated: left alone', 0, bytes);
  const unread = m.status === 'unread';
  const days = unread ? p.unreadDays : p.readDays;
  const state = unread ? 'unread' : `read (status ${JSON.stringify(m.status ?? null)})`;
  const when = `${day(date.ms)} by its ${date.source}`;
  if (date.ms >= cutoffOf(now, days))
    return messageAction(rel, 'keep', `${state}, newer than ${days} days (${when})`, date.ms, bytes);
  return messageAction(rel, 'archive', `${state} and older than ${days} days: ${when}`, date.ms, bytes);
}

/** Who read a message, as RooSync records it: `read_by` entries and `acknowledged_at` keys. */
export function readersOf(m: RooSyncMessage): string[] {
  const readers = new Set<string>();
  if (Array.isArray(m.read_by)) for (const r of m.read_by) if (typeof r === 'string') readers.add(r);
  const acked = m.acknowledged_at;
  if (acked && typeof acked === 'object' && !Array.isArray(acked)) for (const k of Object.keys(acked)) readers.add(k);
  return [...readers];
}

export interface PurgePolicy {
  days: number;
  /** Set only by the operator: without it, a message nobody read is never purged. */
  unreadDays?: number;
  /** Ids archived earlier in this run: never purged in the run that archived them. */
  archivedThisRun: ReadonlySet<string>;
}

/** The purge rule, pure: old, archived, and read by someone (or past the operator's explicit unread limit). */
export function decidePurge(rel: string, m: RooSyncMessage, now: number, p: PurgePolicy, bytes = 0): ReportAction {
  const keep = (reason: string, ms = 0) => messageAction(rel, 'keep', reason, ms, bytes);
  if (isPendingAutoDestruct(m)) return keep('pending auto-destruct: left for RooSync');
  if (p.archivedThisRun.has(String(m.id))) return keep('archived in this run: purged at the earliest by the next one');
  const date = messageDate(m);
  if (!date) return messageAction(rel, 'skip', 'neither its timestamp nor its id can be dated: left alone', 0, bytes);
  const when = `${day(date.ms)} by its ${date.source}`;
  if (date.ms >= cutoffOf(now, p.days)) return keep(`newer than ${p.days} days (${when})`, date.ms);
  const readers = readersOf(m);
  if (readers.length > 0) {
    const who =
      readers.length > 2 ? `${readers.slice(0, 2).join(', ')} and ${readers.length - 2} more` : readers.join(', ');
    return messageAction(rel, 'remove', `read by ${who}, older than ${p.days} days: ${when}`, date.ms, bytes);
  }
  if (p.unreadDays !== undefined && date.ms < cutoffOf(now, p.unreadDays)) {
    const why = `nobody read it, older than messages.purgeUnreadAfterDays (${p.unreadDays}): ${when}`;
    return messageAction(rel, 'remove', why, date.ms, bytes);
  }
  return keep(
    p.unreadDays === undefined
      ? 'nobody read it: never purged (unless messages.purgeUnreadAfterDays is set)'
      : `nobody read it: kept until ${p.unreadDays} days (messages.purgeUnreadAfterDays)`,
    date.ms,
  );
}

type Opened = { message: RooSyncMessage; signature: string; text?: string };

/** Reads the files to open and turns each into an action; what could not be read or is not listed becomes a skip. */
function openAndDecide(
  dir: string,
  folder: string,
  listing: FolderListing,
  names: readonly string[],
  ctx: TaskContext,
  decide: (rel: string, m: RooSyncMessage, bytes: number) => ReportAction,
  report: RuleReport,
): Map<string, Opened> {
  const opened = new Map<string, Opened>();
  for (const name of names) {
    const rel = `${folder}/${name}`;
    const read = readMessage(dir, name, listing.kinds.get(name), ctx.now);
    if (!read) {
      countUntouched(report, 'moved away while we looked (RooSync moved it)');
      continue;
    }
    if ('unreadable' in read) {
      report.actions.push(messageAction(rel, 'skip', `${read.unreadable}: left alone`, 0, read.bytes));
      continue;
    }
    if (!read.parsed.ok) {
      const owner = folder === 'inbox' ? 'left for inbox-hygiene' : 'left alone';
      report.actions.push(
        messageAction(rel, 'skip', `not a message RooSync lists (${read.parsed.reason}): ${owner}`, 0, read.bytes),
      );
      continue;
    }
    const action = decide(rel, read.parsed.message, read.bytes);
    if (action.verdict !== 'keep' && action.verdict !== 'skip')
      opened.set(rel, { message: read.parsed.message, signature: read.signature });
    report.actions.push(action);
  }
  return opened;
}

/** The message folders a task works in, refused whole if any is a symbolic link. */
function realMessageDirs(ctx: TaskContext, ...folders: (keyof MessageDirs)[]): MessageDirs {
  const dirs = messageDirs(ctx.sharedState);
  assertRealFolders(ctx.sharedState, [dirs.messages, ...folders.map((f) => dirs[f])]);
  return dirs;
}

export const messagesArchive = messageTask('messages-archive', async (ctx, result) => {
  const dirs = realMessageDirs(ctx, 'inbox', 'archive', 'sent');
  // copies a killed run was removing go back first, so this run's listing sees (and archives) them
  const trash = removalTrash(ctx, dirs);
  if (!ctx.dryRun) {
    const back = trash.recover();
    if (back.length > 0)
      result.warnings.push(
        `${plural(back.length, 'inbox copy', 'inbox copies')} a killed run was removing went back to the inbox`,
      );
  }

  const { archiveAfterDays: readDays, archiveUnreadAfterDays: unreadDays } = ctx.config.config.messages;
  const policy = { readDays, unreadDays };
  const horizon = Math.min(readDays, unreadDays);
  const report = newReport(
    'messages-archive',
    `in messages/inbox/: read messages older than ${readDays} days and unread ones older than ${unreadDays} ` +
      `days move to messages/archive/ as RooSync archives them; pending auto-destruct messages are left to RooSync`,
    dirs.inbox,
  );
  // one pass a folder, keeping only what may be acted on: memory follows the due messages, not the inbox
  const filter = openFilter(cutoffOf(ctx.now, horizon));
  const inbox = scanFolder(dirs.inbox, filter.mustOpen);
  const open = inbox.names;
  const wanted = new Set(open);
  const listings = {
    inbox,
    archive: scanFolder(dirs.archive, () => false),
    sent: scanFolder(dirs.sent, (name) => wanted.has(name)),
  };
  const sentNames = new Set(listings.sent.names);
  countUntouched(report, `newer than ${horizon} days by the id's date (not opened)`, filter.newerByName);
  const due = openAndDecide(
    dirs.inbox,
    'inbox',
    listings.inbox,
    open,
    ctx,
    (rel, m, bytes) => decideArchive(rel, m, ctx.now, policy, bytes),
    report,
  );
  if (!ctx.dryRun && due.size > 0) mkdirSync(dirs.archive, { recursive: true });
  // three phases: every archived copy written, all flushed to disk at once, then the inbox copies removed
  const copies = new Map<string, ArchivedCopies>();
  await planAndApply(result, ctx, [
    { report: leftoverTempsReport('messages-archive', dirs.messages, listings), act: removeTemp(dirs.messages) },
    {
      report,
      act: async (a) => {
        const d = due.get(a.rel)!;
        const name = a.rel.slice('inbox/'.length);
        const written = await writeArchivedCopies(dirs, d.message, d.signature, sentNames.has(name), ctx.now);
        if (written.written.length > 0) copies.set(name, written);
        return written.written.length > 0;
      },
      concurrency: 8,
    },
  ]);
  if (copies.size === 0) return;
  ctx.progress.update(`messages-archive: flushing ${copies.size} archived copies to disk`);
  await flushToDisk([...copies.values()].flatMap((c) => c.written));
  await removeInboxCopies(ctx, dirs, copies, report, trash);
  // RooSync wrote into a copy as it was removed: it is back in the inbox, with that edit, for the next run
  for (const id of trash.settle()) {
    report.acted--;
    ctx.archivedThisRun?.delete(id);
    countUntouched(report, 'RooSync wrote into it as it was removed: back in the inbox, archived again next run');
  }
});

/** Where removed inbox copies wait until the batch is done (see RemovalTrash): never a folder RooSync lists. */
function removalTrash(ctx: TaskContext, dirs: MessageDirs): RemovalTrash {
  const dir = ctx.git
    ? path.join(ctx.git.repo.gitDir, 'roosync-maint', 'trash')
    : path.join(dirs.messages, '.roosync-maint-trash');
  return new RemovalTrash(dir, dirs.inbox);
}

/** Phase 3 of the archive: each inbox copy goes, unless it changed since it was archived (the next run takes it). */
async function removeInboxCopies(
  ctx: TaskContext,
  dirs: MessageDirs,
  copies: Map<string, ArchivedCopies>,
  report: RuleReport,
  trash: RemovalTrash,
) {
  const names = [...copies.keys()];
  const worker = async () => {
    for (let name = names.pop(); name !== undefined; name = names.pop()) {
      if (await removeArchivedInboxCopy(dirs, idOf(name), copies.get(name)!.inboxSignature!, trash)) {
        ctx.archivedThisRun?.add(idOf(name));
        continue;
      }
      report.acted--;
      countUntouched(report, 'changed after it was archived: archived again by the next run');
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Where a purged message can be found again, as the report says it. */
function purgeHome(gitMode: boolean): string {
  return gitMode
    ? 'removed files stay in git history: `roosync-maint restore <id>`'
    : 'removed files are kept in a bundle in messages/purged/ read back before anything is removed: `roosync-maint restore <id>`';
}

export const messagesPurge = messageTask('messages-purge', async (ctx, result) => {
  const dirs = realMessageDirs(ctx, 'inbox', 'archive', 'sent');
  const m = ctx.config.config.messages;
  const gitMode = ctx.git !== undefined;
  const policy: PurgePolicy = {
    days: m.deleteAfterDays,
    unreadDays: m.purgeUnreadAfterDays,
    archivedThisRun: ctx.archivedThisRun ?? new Set(),
  };
  const filters = {
    archive: openFilter(cutoffOf(ctx.now, m.deleteAfterDays)),
    sent: openFilter(cutoffOf(ctx.now, m.deleteAfterDays)),
  };
  const listings = {
    archive: scanFolder(dirs.archive, filters.archive.mustOpen),
    sent: scanFolder(dirs.sent, filters.sent.mustOpen),
  };
  const candidates = new Set([...listings.archive.names, ...listings.sent.names]);
  const inInbox = new Set(scanFolder(dirs.inbox, (name) => candidates.has(name)).names);
  const uncommitted = gitMode
    ? await ctx.git!.repo.uncommitted(['messages/archive', 'messages/sent'])
    : new Set<string>();
  const unread =
    m.purgeUnreadAfterDays === undefined
      ? 'never one nobody read'
      : `one nobody read only after ${m.purgeUnreadAfterDays} days`;
  const reports: RuleReport[] = [];
  const opened = new Map<string, Opened>();
  for (const folder of ['archive', 'sent'] as const) {
    const dir = dirs[folder];
    const policyText =
      `in messages/${folder}/: messages older than ${m.deleteAfterDays} days that someone ` +
      `read are removed (${unread}; never in the run that archived them; never a pending auto-destruct one; ` +
      `never while the message is in the inbox); ${purgeHome(gitMode)}`;
    const report = newReport(`messages-purge/${folder}`, policyText, dir);
    const open = listings[folder].names;
    const { newerByName } = filters[folder];
    countUntouched(report, `newer than ${m.deleteAfterDays} days by the id's date (not opened)`, newerByName);
    const decide = (rel: string, msg: RooSyncMessage, bytes: number): ReportAction => {
      if (inInbox.has(rel.slice(folder.length + 1)))
        return messageAction(rel, 'keep', 'its inbox copy is still there (RooSync reads it first)', 0, bytes);
      const action = decidePurge(rel, msg, ctx.now, policy, bytes);
      if (action.verdict === 'remove' && uncommitted.has(`messages/${rel}`)) {
        return {
          ...action,
          verdict: 'keep',
          reason: 'not in git history yet (uncommitted): purged once a tick has committed it',
        };
      }
      return action;
    };
    for (const [rel, o] of openAndDecide(dir, folder, listings[folder], open, ctx, decide, report)) opened.set(rel, o);
    capRemovals(report, ctx.config.config.limits.maxDeletionsPerRun - reports.reduce((n, r) => n + removals(r), 0));
    reports.push(report);
  }
  const steps = [
    { report: leftoverTempsReport('messages-purge', dirs.messages, listings), act: removeTemp(dirs.messages) },
  ];
  if (!ctx.dryRun && !gitMode) {
    const bundled = bundleRemovals(ctx, reports, opened);
    if (bundled) for (const r of reports) r.policy = r.policy.replace('a bundle in messages/purged/', bundled);
  }
  for (const report of reports) {
    steps.push({
      report,
      act: (a) => {
        const file = path.join(dirs.messages, a.rel);
        // changed since read (RooSync rewrote it): what was kept or bundled is not what is there now
        if (fileSignature(file) !== opened.get(a.rel)?.signature) return false;
        return unlinkIfPresent(file);
      },
    });
  }
  await planAndApply(result, ctx, steps);
});

const removals = (r: RuleReport) => r.actions.filter((a) => a.verdict === 'remove').length;

/** At most `left` removals in this run (limits.maxDeletionsPerRun); the rest wait for the next. */
function capRemovals(report: RuleReport, left: number): void {
  let n = 0;
  report.actions = report.actions.map((a) =>
    a.verdict === 'remove' && ++n > Math.max(0, left)
      ? { ...a, verdict: 'keep', reason: 'over limits.maxDeletionsPerRun for this run: next run' }
      : a,
  );
}

/**
 * Plain-folder mode: every file about to be removed goes into this run's purge bundle first (its exact
 * text, read again now), read back whole, so `restore` can bring it back; a bundle that cannot be written
 * throws, and nothing is removed. Returns the bundle's path.
 */
function bundleRemovals(
  ctx: TaskContext,
  reports: readonly RuleReport[],
  opened: Map<string, Opened>,
): string | undefined {
  const dirs = messageDirs(ctx.sharedState);
  const entries: PurgedEntry[] = [];
  for (const a of reports.flatMap((r) => r.actions.filter((x) => x.verdict === 'remove'))) {
    const file = path.join(dirs.messages, a.rel);
    const o = opened.get(a.rel)!;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // gone meanwhile: nothing to keep, and the unlink finds nothing
    }
    if (fileSignature(file) !== o.signature) continue; // changed: the unlink skips it too
    const folder = a.rel.startsWith('sent/') ? 'sent' : 'archive';
    entries.push({
      id: idOf(a.rel.slice(folder.length + 1)),
      folder,
      purgedAt: new Date(ctx.now).toISOString(),
      by: ctx.machineId,
      text,
    });
  }
  return entries.length > 0 ? writeBundle(ctx.sharedState, ctx.now, ctx.machineId, entries) : undefined;
}

/**
 * Moves one inbox entry to quarantine/ with a note of why, if it still is what the plan judged (same size
 * and mtime, still not a message RooSync lists): a file RooSync rewrote meanwhile stays. The note goes
 * first: a killed run leaves at worst an orphan note. False when it was left or already gone.
 */
function quarantineFile(dirs: MessageDirs, a: ReportAction, signature: string | undefined, ctx: TaskContext): boolean {
  const name = a.rel.slice('inbox/'.length);
  if (signature !== undefined) {
    if (fileSignature(path.join(dirs.inbox, name)) !== signature) return false;
    const again = readMessage(dirs.inbox, name, 'file', ctx.now);
    if (!again || !('parsed' in again) || again.parsed.ok || again.signature !== signature) return false;
  }
  mkdirSync(dirs.quarantine, { recursive: true });
  let target = name;
  for (let n = 2; existsSync(path.join(dirs.quarantine, target)); n++) target = `${name}.${n}`;
  const note = path.join(dirs.quarantine, `${target}.why.json`);
  const why = {
    file: `messages/inbox/${name}`,
    reason: a.reason,
    quarantinedAt: new Date(ctx.now).toISOString(),
    by: maintenanceSender(ctx.machineId),
    restore: 'move it back to messages/inbox/ once fixed',
    // which writer wrote this note: a second leader that lost the move removes only its own note
    writer: `${ctx.machineId}:${process.pid}:${randomBytes(4).toString('hex')}`,
  };
  writeFileAtomic(note, JSON.stringify(why, null, 2));
  try {
    renameSync(path.join(dirs.inbox, name), path.join(dirs.quarantine, target));
    return true;
  } catch (err) {
    const mine = unlessMissing(() => readFileSync(note, 'utf8'), '').includes(why.writer);
    if (mine) unlinkIfPresent(note);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** A file RooSync wrote this recently may be half-written (it writes in place): judged by a later run. */
export const HYGIENE_SETTLE_MS = 60_000;

/** What inbox-hygiene does with one inbox entry: RooSync's judgement decides, never our taste. */
function hygieneAction(
  dirs: MessageDirs,
  kind: EntryKind,
  name: string,
  ctx: TaskContext,
  odd: Map<Oddity, number>,
): { action: ReportAction; signature?: string } | undefined {
  const rel = `inbox/${name}`;
  if (kind === 'symlink')
    return {
      action: messageAction(
        rel,
        'quarantine',
        'a symbolic link: never read or followed by us (RooSync would follow it)',
      ),
    };
  const read = readMessage(dirs.inbox, name, kind, ctx.now);
  if (!read) return undefined;
  if ('unreadable' in read)
    return { action: messageAction(rel, 'skip', `${read.unreadable}: reported, left in place`, 0, read.bytes) };
  if (read.parsed.ok) {
    for (const o of read.parsed.oddities) odd.set(o, (odd.get(o) ?? 0) + 1);
    return undefined;
  }
  // a file's age on disk is measured by the file system's clock, whatever clock the run was given
  const mtimeMs = Number(read.signature.split(':')[1]);
  if (Date.now() - mtimeMs < HYGIENE_SETTLE_MS)
    return {
      action: messageAction(
        rel,
        'skip',
        `${read.parsed.reason}, but written less than a minute ago: RooSync may still be writing it (judged again next run)`,
        0,
        read.bytes,
      ),
    };
  const { reason, breaks } = read.parsed;
  const why = breaks.length > 0 ? `${reason} (breaks RooSync's ${breaks.join(', ')})` : reason;
  return { action: messageAction(rel, 'quarantine', why, 0, read.bytes), signature: read.signature };
}

export const inboxHygiene = messageTask('inbox-hygiene', async (ctx, result) => {
  const dirs = realMessageDirs(ctx, 'inbox', 'quarantine');
  const policy =
    'in messages/inbox/: files that break one of RooSync’s read paths (listing, counts, stats, auto-archive, ' +
    'auto-destruct), or that RooSync skips (empty, BOM, not JSON, name ≠ <id>.json, symbolic links), move ' +
    'to messages/quarantine/ with a note of why, once they have not changed for a minute (RooSync writes in place) ' +
    'and only if they still are what was judged; every file RooSync lists stays; nothing is deleted';
  const report = newReport('inbox-hygiene', policy, dirs.inbox);
  const odd = new Map<Oddity, number>();
  const signatures = new Map<string, string | undefined>();
  // one file at a time as the folder is read: memory follows what is quarantined, not the inbox
  eachEntry(dirs.inbox, (d) => {
    if (!d.name.endsWith('.json')) return;
    const name = d.name;
    const judged = hygieneAction(dirs, kindOf(d), name, ctx, odd);
    if (!judged) {
      countUntouched(report, 'listed by RooSync');
      return;
    }
    const copyOf = driveCopyOf(dirs, name);
    if (copyOf && judged.action.verdict === 'quarantine')
      judged.action.reason =
        `a Google Drive conflict copy of ${copyOf}: what it adds (readers, acknowledgements, status) ` +
        'is merged into the original, then it moves here';
    report.actions.push(judged.action);
    signatures.set(judged.action.rel, judged.signature);
  });
  for (const [o, n] of odd) {
    const stays = n === 1 ? 'RooSync shows it, so it stays' : 'RooSync shows them, so they stay';
    result.warnings.push(`${plural(n, 'message')} with ${ODDITY_TEXT[o]}; ${stays}`);
  }
  const act = (a: ReportAction) => {
    const name = a.rel.slice('inbox/'.length);
    const copyOf = driveCopyOf(dirs, name);
    if (copyOf && !mergeDriveCopy(dirs, name, copyOf)) return false; // the original changed meanwhile: next run
    return quarantineFile(dirs, a, signatures.get(a.rel), ctx);
  };
  await planAndApply(result, ctx, [{ report, act }]);
});

/** Google Drive names a conflicting upload `<name> (1).json`: the id of the original it copies, when that is in inbox/. */
const DRIVE_COPY = /^(.+) \((\d+)\)\.json$/;

function driveCopyOf(dirs: MessageDirs, name: string): string | undefined {
  const id = DRIVE_COPY.exec(name)?.[1];
  return id && existsSync(path.join(dirs.inbox, `${id}.json`)) ? id : undefined;
}

/**
 * A Drive conflict copy often carries a newer acknowledgement: merged into the original as RooSync means a
 * message (readers and acknowledgements a union, status only forward; other fields keep the original's),
 * written only if the original still holds what was read. False when it changed meanwhile.
 */
function mergeDriveCopy(dirs: MessageDirs, copyName: string, id: string): boolean {
  const originalFile = path.join(dirs.inbox, `${id}.json`);
  const original = readWithSignature(originalFile);
  const copy = readWithSignature(path.join(dirs.inbox, copyName));
  const [o, c] = [parseObject(original?.content.toString('utf8')), parseObject(copy?.content.toString('utf8'))];
  if (!o || !c) return true; // nothing to merge: the copy is only moved aside
  const merged = mergeMessageObjects(undefined, c, o).value;
  const text = serializeMessage(merged as RooSyncMessage);
  if (text === original!.content.toString('utf8')) return true;
  return replaceIfUnchanged(originalFile, original, Buffer.from(text, 'utf8'));
}

/** Ids that still exist in inbox/, sent/ or archive/: an attachment of theirs is never an orphan. */
function liveAmong(dirs: MessageDirs, ids: ReadonlySet<string>): Set<string> {
  const live = new Set<string>();
  for (const dir of [dirs.inbox, dirs.sent, dirs.archive])
    eachEntry(dir, (d) => {
      if (d.name.endsWith('.json') && ids.has(idOf(d.name))) live.add(idOf(d.name));
    });
  return live;
}

/** An attachment's metadata.json: undefined when there is none; a damaged one reads as empty (it exists). */
function readMetadata(folder: string): Record<string, unknown> | undefined {
  const r = readUntrustedFile(path.join(folder, 'metadata.json'), z.record(z.string(), z.unknown()));
  if (r.ok) return r.value;
  return 'missing' in r ? undefined : {};
}

/** uuids mentioned by any message file (only read when some attachment's owner is unknown). */
function referencedUuids(dirs: MessageDirs, candidates: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const dir of [dirs.inbox, dirs.sent, dirs.archive])
    eachEntry(dir, (d) => {
      if (!d.name.endsWith('.json')) return;
      let text: string;
      try {
        text = readFileSync(path.join(dir, d.name), 'utf8');
      } catch {
        return;
      }
      for (const uuid of candidates) if (text.includes(uuid)) found.add(uuid);
    });
  return found;
}

/**
 * Protection for the attachments rules, read during the snapshot: a folder whose message still
 * exists (by metadata `messageId`, or referenced from any message) is never an orphan; each of
 * the two rules also leaves the other's folders alone (with or without metadata.json).
 */
function attachmentProtection(ctx: TaskContext, rule: 'orphans' | 'interrupted') {
  return async (realRoot: string, entries: readonly Entry[]): Promise<Map<string, string>> => {
    const dirs = messageDirs(ctx.sharedState);
    const protectedRels = new Map<string, string>();
    const unknownOwner: string[] = [];
    // an attachment folder arrives with its sender's mtime (a sync keeps it): its age is counted from when
    // this machine first saw it, so one that synced before its message is not an orphan at once
    const grace = rule === 'orphans' ? ctx.config.config.messages.attachmentsGraceDays : 1;
    for (const [rel, why] of firstSeenProtection(ctx, realRoot, entries, grace)) protectedRels.set(rel, why);
    const metas = entries.map((e) => ({ e, meta: readMetadata(path.join(realRoot, e.rel)) }));
    const ownerOf = (meta: Record<string, unknown>) => meta.messageId ?? meta.message_id;
    // only the owners named here are looked for: one pass a folder, nothing kept of the rest (a large store)
    const owners = new Set(metas.map(({ meta }) => meta && ownerOf(meta)).filter((o) => typeof o === 'string'));
    const live = owners.size > 0 ? liveAmong(dirs, owners) : new Set<string>();
    for (const { e, meta } of metas) {
      if (rule === 'interrupted') {
        if (meta) protectedRels.set(e.rel, 'has metadata.json: not an interrupted upload');
        continue;
      }
      if (!meta) {
        protectedRels.set(e.rel, 'no metadata.json: handled as an interrupted upload');
        continue;
      }
      const owner = ownerOf(meta);
      if (typeof owner === 'string' && live.has(owner)) protectedRels.set(e.rel, `its message ${owner} still exists`);
      else unknownOwner.push(e.rel);
    }
    if (unknownOwner.length > 0)
      for (const uuid of referencedUuids(dirs, unknownOwner))
        protectedRels.set(uuid, 'referenced by a message that still exists');
    return protectedRels;
  };
}

const seenSchema = z.record(z.string(), z.number());

/** Attachment folders first seen here less than `graceDays` ago (by this machine's record in its local state). */
function firstSeenProtection(
  ctx: TaskContext,
  root: string,
  entries: readonly Entry[],
  graceDays: number,
): Map<string, string> {
  const out = new Map<string, string>();
  const file = path.join(ctx.stateDir, 'attachments-seen.json');
  const store = stateFile<Record<string, number>, Record<string, number>>(file, seenSchema, ctx.log, () => ({}));
  const seen = store.load();
  // folders gone from the shared state are forgotten
  const next: Record<string, number> = Object.fromEntries(
    Object.entries(seen).filter(([rel]) => existsSync(path.join(root, rel))),
  );
  for (const e of entries) {
    const first = seen[e.rel] ?? ctx.now;
    next[e.rel] = first;
    if (first > cutoffOf(ctx.now, graceDays))
      out.set(e.rel, `first seen on this machine ${day(first)}: younger than ${graceDays} days by that`);
  }
  if (!ctx.dryRun) store.save(next);
  return out;
}

export const attachmentsCleanup = retentionTask('attachments-cleanup', (ctx) => {
  const grace = ctx.config.config.messages.attachmentsGraceDays;
  return [
    {
      rule: sharedRule(ctx, 'attachments', {
        name: 'attachments-cleanup/orphans',
        match: ['*'],
        unit: 'dir',
        olderThanDays: grace,
        groupBy: 'none',
        exclude: [],
        dateFrom: 'mtime',
      }),
      protect: attachmentProtection(ctx, 'orphans'),
    },
    {
      rule: sharedRule(ctx, 'attachments', {
        name: 'attachments-cleanup/interrupted-uploads',
        match: ['*'],
        unit: 'dir',
        olderThanDays: 1,
        groupBy: 'none',
        exclude: [],
        dateFrom: 'mtime',
      }),
      protect: attachmentProtection(ctx, 'interrupted'),
    },
  ];
});
