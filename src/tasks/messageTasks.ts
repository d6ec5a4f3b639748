import { mkdirSync, readFileSync, renameSync, existsSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { messageDirs, type MessageDirs } from '../roosync/layout.js';
import { listFolder, listMessageNames, readMessageFile, readMessageWithSignature, unlinkIfPresent } from '../roosync/folder.js';
import { dateFromId, hasDatedId, idPrefixAt, isPendingAutoDestruct, writeFileAtomic, type Parsed, type RooSyncMessage } from '../roosync/message.js';
import { archiveMessage } from '../roosync/archive.js';
import type { Entry } from '../retention/plan.js';
import { retentionTask, sharedRule } from './retentionTask.js';
import { countUntouched, cutoffOf, day, leftoverTempsReport, messageAction, messageTask, newReport, planAndApply, removeTemp } from './messageSupport.js';
import type { ReportAction, TaskContext } from './types.js';

const idOf = (name: string) => name.slice(0, -'.json'.length);

/** The authoritative date of an opened message: its `timestamp`, else its id. */
function messageDate(m: RooSyncMessage): { ms: number; source: string } | undefined {
  const ts = Date.parse(m.timestamp);
  if (!Number.isNaN(ts)) return { ms: ts, source: 'timestamp' };
  const fromId = dateFromId(m.id);
  return fromId === undefined ? undefined : { ms: fromId, source: 'id' };
}

/**
 * Which files of a folder must be opened to decide: those whose id dates them before the
 * cutoff, and those whose id cannot be dated. The rest are decided by name alone (pure).
 */
export function filesToOpen(names: readonly string[], cutoff: number): { open: string[]; newerByName: number } {
  const open: string[] = [];
  const cutoffId = idPrefixAt(cutoff);
  let newerByName = 0;
  for (const name of names) {
    // ids sort chronologically as strings: one comparison per name, no date parsing
    if (name >= cutoffId && hasDatedId(idOf(name))) newerByName++;
    else open.push(name);
  }
  return { open, newerByName };
}

/** The decision for one opened message, pure: archive (or purge), keep, or leave it for someone else. */
export function decideAged(name: string, parsed: Parsed, cutoff: number, days: number, verb: 'archive' | 'remove', folder: string): ReportAction {
  const rel = `${folder}/${name}`;
  if (!parsed.ok) return messageAction(rel, 'skip', `malformed (${parsed.reason}): left for inbox-hygiene`);
  const m = parsed.message;
  if (isPendingAutoDestruct(m)) return messageAction(rel, 'skip', 'pending auto-destruct: left for RooSync');
  const date = messageDate(m);
  if (!date) return messageAction(rel, 'skip', 'neither its timestamp nor its id can be dated: left alone');
  if (date.ms >= cutoff) return messageAction(rel, 'keep', `newer than ${days} days by its ${date.source} (${day(date.ms)})`, date.ms);
  return messageAction(rel, verb, `older than ${days} days: ${day(date.ms)} by its ${date.source}`, date.ms);
}

export const messagesArchive = messageTask('messages-archive', async (ctx, result) => {
  const dirs = messageDirs(ctx.sharedState);
  const days = ctx.config.config.messages.archiveAfterDays;
  const cutoff = cutoffOf(ctx.now, days);
  const report = newReport('messages-archive', `in messages/inbox/: messages older than ${days} days (by the id's date, confirmed by the timestamp once opened) move to messages/archive/ as RooSync archives them; pending auto-destruct messages are left to RooSync`, dirs.inbox);
  const listings = { inbox: listFolder(dirs.inbox), archive: listFolder(dirs.archive), sent: listFolder(dirs.sent) };
  const sentNames = new Set(listings.sent.names);
  const { open, newerByName } = filesToOpen(listings.inbox.names, cutoff);
  countUntouched(report, `newer than ${days} days by the id's date (not opened)`, newerByName);
  const due = new Map<string, { message: RooSyncMessage; signature: string }>();
  for (const name of open) {
    const read = readMessageWithSignature(dirs.inbox, name);
    if (!read) {
      countUntouched(report, 'moved away while we looked (RooSync archived it)');
      continue;
    }
    const action = decideAged(name, read.parsed, cutoff, days, 'archive', 'inbox');
    if (action.verdict === 'archive' && read.parsed.ok) due.set(action.rel, { message: read.parsed.message, signature: read.signature });
    report.actions.push(action);
  }
  if (!ctx.dryRun && due.size > 0) mkdirSync(dirs.archive, { recursive: true });
  await planAndApply(result, ctx, [
    { report: leftoverTempsReport('messages-archive', path.dirname(dirs.inbox), listings), act: removeTemp(path.dirname(dirs.inbox)) },
    {
      report,
      act: async (a) => {
        const d = due.get(a.rel)!;
        return (await archiveMessage(dirs, d.message, d.signature, sentNames.has(a.rel.slice('inbox/'.length)))) !== 'already-gone';
      },
      concurrency: 8,
    },
  ]);
});

export const messagesPurge = messageTask('messages-purge', async (ctx, result) => {
  const dirs = messageDirs(ctx.sharedState);
  const days = ctx.config.config.messages.deleteAfterDays;
  const cutoff = cutoffOf(ctx.now, days);
  const inInbox = new Set(listMessageNames(dirs.inbox));
  const listings = { archive: listFolder(dirs.archive), sent: listFolder(dirs.sent) };
  const steps = [{ report: leftoverTempsReport('messages-purge', path.dirname(dirs.inbox), listings), act: removeTemp(path.dirname(dirs.inbox)) }];
  for (const folder of ['archive', 'sent'] as const) {
    const dir = dirs[folder];
    const report = newReport(`messages-purge/${folder}`, `in messages/${folder}/: messages older than ${days} days are removed (they stay in git history: \`roosync-maint restore <id>\`); pending auto-destruct messages and sent copies still in the inbox are kept`, dir);
    const { open, newerByName } = filesToOpen(listings[folder].names, cutoff);
    countUntouched(report, `newer than ${days} days by the id's date (not opened)`, newerByName);
    for (const name of open) {
      if (folder === 'sent' && inInbox.has(name)) {
        report.actions.push(messageAction(`${folder}/${name}`, 'keep', 'its inbox copy is still there (RooSync reads sent/ for replies)'));
        continue;
      }
      const parsed = readMessageFile(dir, name);
      if (!parsed) continue;
      const action = decideAged(name, parsed, cutoff, days, 'remove', folder);
      // In archive/ and sent/ a malformed file is RooSync's history, not ours to judge.
      report.actions.push(action.verdict === 'skip' && action.reason.startsWith('malformed') ? { ...action, reason: action.reason.replace('left for inbox-hygiene', 'left alone') } : action);
    }
    steps.push({ report, act: (a) => unlinkIfPresent(path.join(path.dirname(dirs.inbox), a.rel)) });
  }
  await planAndApply(result, ctx, steps);
});

/** Moves one inbox file to quarantine/ with a sidecar saying why. The sidecar goes first: a killed run leaves at worst an orphan note. */
function quarantineFile(dirs: MessageDirs, name: string, reason: string, ctx: TaskContext): boolean {
  mkdirSync(dirs.quarantine, { recursive: true });
  let target = name;
  for (let n = 2; existsSync(path.join(dirs.quarantine, target)); n++) target = `${name}.${n}`;
  const note = path.join(dirs.quarantine, `${target}.why.json`);
  writeFileAtomic(note, JSON.stringify({ file: `messages/inbox/${name}`, reason, quarantinedAt: new Date(ctx.now).toISOString(), by: `${ctx.machineId}:maintenance`, restore: `move it back to messages/inbox/ once fixed` }, null, 2));
  try {
    renameSync(path.join(dirs.inbox, name), path.join(dirs.quarantine, target));
    return true;
  } catch (err) {
    unlinkSync(note);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

export const inboxHygiene = messageTask('inbox-hygiene', async (ctx, result) => {
  const dirs = messageDirs(ctx.sharedState);
  const report = newReport('inbox-hygiene', 'in messages/inbox/: every file RooSync would choke on (empty, BOM, not JSON, not an object, no string id/body, bad priority/status, name ≠ <id>.json) moves to messages/quarantine/ with a note of why; nothing is deleted', dirs.inbox);
  const reasons = new Map<string, string>();
  for (const name of listMessageNames(dirs.inbox)) {
    const parsed = readMessageFile(dirs.inbox, name);
    if (!parsed) continue;
    if (parsed.ok) countUntouched(report, 'a valid RooSync message');
    else {
      reasons.set(name, parsed.reason);
      report.actions.push(messageAction(`inbox/${name}`, 'quarantine', parsed.reason));
    }
  }
  await planAndApply(result, ctx, [{ report, act: (a) => quarantineFile(dirs, a.rel.slice('inbox/'.length), reasons.get(a.rel.slice('inbox/'.length))!, ctx) }]);
});

/** Ids that still exist in inbox/, sent/ or archive/: an attachment of theirs is never an orphan. */
function liveMessageIds(dirs: MessageDirs): Set<string> {
  return new Set([dirs.inbox, dirs.sent, dirs.archive].flatMap((d) => listMessageNames(d).map(idOf)));
}

function readMetadata(folder: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(path.join(folder, 'metadata.json'), 'utf8').replace(/^\uFEFF/, ''));
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return undefined;
  }
}

/** uuids mentioned by any message file (only read when some attachment's owner is unknown). */
function referencedUuids(dirs: MessageDirs, candidates: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const dir of [dirs.inbox, dirs.sent, dirs.archive]) {
    for (const name of listMessageNames(dir)) {
      let text: string;
      try {
        text = readFileSync(path.join(dir, name), 'utf8');
      } catch {
        continue;
      }
      for (const uuid of candidates) if (text.includes(uuid)) found.add(uuid);
    }
  }
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
    const live = liveMessageIds(dirs);
    const unknownOwner: string[] = [];
    for (const e of entries) {
      const meta = readMetadata(path.join(realRoot, e.rel));
      if (rule === 'interrupted') {
        if (meta) protectedRels.set(e.rel, 'has metadata.json: not an interrupted upload');
        continue;
      }
      if (!meta) {
        protectedRels.set(e.rel, 'no metadata.json: handled as an interrupted upload');
        continue;
      }
      const owner = meta.messageId ?? meta.message_id;
      if (typeof owner === 'string' && live.has(owner)) protectedRels.set(e.rel, `its message ${owner} still exists`);
      else unknownOwner.push(e.rel);
    }
    if (unknownOwner.length > 0) for (const uuid of referencedUuids(dirs, unknownOwner)) protectedRels.set(uuid, 'referenced by a message that still exists');
    return protectedRels;
  };
}

export const attachmentsCleanup = retentionTask('attachments-cleanup', (ctx) => {
  const grace = ctx.config.config.messages.attachmentsGraceDays;
  return [
    {
      rule: sharedRule(ctx, 'attachments', { name: 'attachments-cleanup/orphans', match: ['*'], unit: 'dir', olderThanDays: grace, groupBy: 'none', exclude: [], dateFrom: 'mtime' }),
      protect: attachmentProtection(ctx, 'orphans'),
    },
    {
      rule: sharedRule(ctx, 'attachments', { name: 'attachments-cleanup/interrupted-uploads', match: ['*'], unit: 'dir', olderThanDays: 1, groupBy: 'none', exclude: [], dateFrom: 'mtime' }),
      protect: attachmentProtection(ctx, 'interrupted'),
    },
  ];
});
