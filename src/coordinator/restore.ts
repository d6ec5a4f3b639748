import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { GitRepo } from '../git/repo.js';
import { parseMessage, writeMessageAtomic } from '../roosync/message.js';
import { ensureRealDir, writeFileAtomic } from '../util/fs.js';
import { messageDirs } from '../roosync/layout.js';
import { findPurged } from '../roosync/purgeBundle.js';
import { pushPolicy, pushUntilLanded, syncWithFence } from './sync.js';

export interface RestoreResult {
  restored: string[];
  fromCommit: string;
  committed: boolean;
  pushed: boolean;
  note?: string;
}

const MESSAGE_ID = /^msg-[A-Za-z0-9-]+$/;

export function isMessageId(target: string): boolean {
  return MESSAGE_ID.test(target) && !target.includes('/');
}

/**
 * Brings a purged message back from the purge bundles in `messages/purged/` (plain-folder mode), each
 * copy to the folder it was purged from, byte for byte. `undefined` when no bundle holds it; an
 * error naming the bundle when one that might hold it cannot be read.
 */
export function restoreFromBundles(
  sharedState: string,
  id: string,
  dryRun: boolean,
  now: number,
): RestoreResult | undefined {
  const { found, corrupt } = findPurged(sharedState, id);
  if (found.length === 0) {
    if (corrupt.length === 0) return undefined;
    const which = corrupt.map((c) => `${c.file} (${c.reason})`).join('; ');
    throw new Error(
      `${id} is in no readable purge bundle, and these cannot be read: ${which}; it may be in one of them`,
    );
  }
  const restored: string[] = [];
  const already: string[] = [];
  for (const e of found) {
    const rel = `messages/${e.folder}/${id}.json`;
    const dest = path.join(sharedState, rel);
    if (existsSync(dest)) {
      already.push(rel);
      continue;
    }
    // a bundle is anyone's file: what it gives back must be a message, and that message
    const parsed = parseMessage(e.text, `${id}.json`, now);
    if (!parsed.ok || parsed.message.id !== id)
      throw new Error(
        `the purge bundle's copy of ${id} is not that message (${parsed.ok ? `id ${parsed.message.id}` : parsed.reason}): not restored`,
      );
    restored.push(rel);
    if (dryRun) continue;
    ensureRealDir(sharedState, path.dirname(dest));
    writeFileAtomic(dest, e.text);
  }
  const notes = [
    ...(already.length ? [`already there: ${already.join(', ')}`] : []),
    ...(dryRun ? ['dry run: nothing written'] : []),
  ];
  const from = `purge bundle (purged ${found
    .map((e) => e.purgedAt)
    .sort()
    .pop()} by ${found[0]!.by})`;
  return {
    restored,
    fromCommit: from,
    committed: false,
    pushed: false,
    ...(notes.length && { note: notes.join('; ') }),
  };
}

async function lastDeletion(repo: GitRepo, paths: string[]): Promise<{ commit: string; path: string } | undefined> {
  const found = await repo.lastDeletion(paths);
  if (!found) return undefined;
  const { commit, files } = found;
  const file = files.find((f) => paths.some((p) => f === repo.inRepo(p) || f.startsWith(`${repo.inRepo(p)}/`)));
  return commit && file ? { commit, path: file } : undefined;
}

/**
 * Brings back what a task removed, from git history: a message (by id) returns to
 * `messages/archive/` as archived; a path (file or folder) returns where it was, as it was just
 * before the commit that removed it. Then it is committed and pushed like any tick's work.
 */
export interface RestoreOptions {
  machineId: string;
  dryRun: boolean;
  /** This run's time (injected): what the message checks and the sync judge by. */
  now: number;
  git: { pushBudgetSeconds: number; pushAttempts?: number | undefined };
}

export async function restoreFromHistory(
  repo: GitRepo,
  sharedState: string,
  target: string,
  o: RestoreOptions,
): Promise<RestoreResult> {
  await syncWithFence(repo, o.now);
  const isMessage = isMessageId(target);
  const rel = isMessage
    ? undefined
    : path.relative(sharedState, path.resolve(sharedState, target)).split(path.sep).join('/');
  if (rel !== undefined && (rel.startsWith('..') || path.isAbsolute(rel)))
    throw new UsageError({
      where: target,
      message: 'is outside the shared state',
      hint: 'name a path inside the shared state, or a message id',
    });
  const candidates = isMessage ? ['archive', 'sent', 'inbox'].map((f) => `messages/${f}/${target}.json`) : [rel!];
  const found = await lastDeletion(repo, candidates);
  if (!found)
    throw new UsageError({
      where: target,
      message: 'no commit in this clone’s history removed it',
      hint: isMessage
        ? 'check the id (roosync-maint run --json lists purged ids)'
        : 'check the path, relative to the shared state',
    });
  const short = found.commit.slice(0, 10);
  if (isMessage) {
    const dest = path.join(messageDirs(sharedState).archive, `${target}.json`);
    if (existsSync(dest))
      return {
        restored: [],
        fromCommit: short,
        committed: false,
        pushed: false,
        note: `${target} is already in messages/archive/`,
      };
    const text = await repo.textAt(`${found.commit}^`, found.path);
    const parsed = parseMessage(text, `${target}.json`, o.now);
    if (!parsed.ok)
      throw new UsageError({
        where: `${found.path} at ${short}^`,
        message: `not a valid message there (${parsed.reason})`,
      });
    if (o.dryRun)
      return {
        restored: [`messages/archive/${target}.json`],
        fromCommit: short,
        committed: false,
        pushed: false,
        note: 'dry run: nothing written',
      };
    ensureRealDir(sharedState, path.dirname(dest));
    // byte for byte when it was already archived; otherwise only its status changes
    if (parsed.message.status === 'archived') writeFileAtomic(dest, text);
    else writeMessageAtomic(path.dirname(dest), { ...parsed.message, status: 'archived' });
  } else if (!o.dryRun) {
    await repo.checkoutPath(`${found.commit}^`, rel!);
  }
  const restored = isMessage ? [`messages/archive/${target}.json`] : [rel!];
  if (o.dryRun)
    return { restored, fromCommit: short, committed: false, pushed: false, note: 'dry run: nothing written' };
  return commitRestored(repo, { restored, fromCommit: short, committed: false, pushed: false }, target, o);
}

/** Commits and pushes what a restore wrote, like any tick's work. */
export async function commitRestored(
  repo: GitRepo,
  r: RestoreResult,
  target: string,
  o: RestoreOptions,
): Promise<RestoreResult> {
  const message = `maintenance: ${o.machineId} restores ${target} (removed in ${r.fromCommit})`;
  const committed = await repo.commitPaths(
    r.restored.map((p) => repo.inRepo(p)),
    message,
  );
  const pushed = await pushUntilLanded(repo, pushPolicy(o.git));
  const later = pushed.failure && `not pushed yet (${pushed.failure}): a later tick pushes it`;
  const note = [r.note, later].filter(Boolean).join('; ');
  return { ...r, committed, pushed: pushed.pushed, ...(note && { note }) };
}
