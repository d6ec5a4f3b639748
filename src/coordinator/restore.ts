import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { GitRepo } from '../git/repo.js';
import { parseMessage, writeMessageAtomic } from '../roosync/message.js';
import { messageDirs } from '../roosync/layout.js';
import { pushWithRetries, syncWithFence } from './sync.js';

export interface RestoreResult {
  restored: string[];
  fromCommit: string;
  committed: boolean;
  pushed: boolean;
  note?: string;
}

const MESSAGE_ID = /^msg-[A-Za-z0-9-]+$/;

async function lastDeletion(repo: GitRepo, paths: string[]): Promise<{ commit: string; path: string } | undefined> {
  const out = (await repo.raw(['log', '--diff-filter=D', '--format=%H', '--name-only', '-1', '--', ...paths.map((p) => repo.inRepo(p))])).trim().split('\n').filter(Boolean);
  if (out.length < 2) return undefined;
  const [commit, ...files] = out;
  const file = files.find((f) => paths.some((p) => f === repo.inRepo(p) || f.startsWith(`${repo.inRepo(p)}/`)));
  return commit && file ? { commit, path: file } : undefined;
}

/**
 * Brings back what a task removed, from git history: a message (by id) returns to
 * `messages/archive/` as archived; a path (file or folder) returns where it was, as it was just
 * before the commit that removed it. Then it is committed and pushed like any tick's work.
 */
export async function restoreFromHistory(repo: GitRepo, sharedState: string, target: string, o: { machineId: string; dryRun: boolean; pushAttempts: number }): Promise<RestoreResult> {
  await syncWithFence(repo);
  const isMessage = MESSAGE_ID.test(target) && !target.includes('/');
  const rel = isMessage ? undefined : path.relative(sharedState, path.resolve(sharedState, target)).split(path.sep).join('/');
  if (rel !== undefined && (rel.startsWith('..') || path.isAbsolute(rel))) throw new UsageError({ where: target, message: 'is outside the shared state', hint: 'name a path inside the shared state, or a message id' });
  const candidates = isMessage ? ['archive', 'sent', 'inbox'].map((f) => `messages/${f}/${target}.json`) : [rel!];
  const found = await lastDeletion(repo, candidates);
  if (!found) throw new UsageError({ where: target, message: 'no commit in this clone’s history removed it', hint: isMessage ? 'check the id (roosync-maint run --json lists purged ids)' : 'check the path, relative to the shared state' });
  const short = found.commit.slice(0, 10);
  if (isMessage) {
    const dest = path.join(messageDirs(sharedState).archive, `${target}.json`);
    if (existsSync(dest)) return { restored: [], fromCommit: short, committed: false, pushed: false, note: `${target} is already in messages/archive/` };
    const text = await repo.raw(['show', `${found.commit}^:${found.path}`]);
    const parsed = parseMessage(text, `${target}.json`);
    if (!parsed.ok) throw new UsageError({ where: `${found.path} at ${short}^`, message: `not a valid message there (${parsed.reason})` });
    if (o.dryRun) return { restored: [`messages/archive/${target}.json`], fromCommit: short, committed: false, pushed: false, note: 'dry run: nothing written' };
    mkdirSync(path.dirname(dest), { recursive: true });
    writeMessageAtomic(path.dirname(dest), { ...parsed.message, status: 'archived' });
  } else if (!o.dryRun) {
    await repo.raw(['checkout', `${found.commit}^`, '--', repo.inRepo(rel!)]);
  }
  const restored = isMessage ? [`messages/archive/${target}.json`] : [rel!];
  if (o.dryRun) return { restored, fromCommit: short, committed: false, pushed: false, note: 'dry run: nothing written' };
  const committed = await repo.commitPaths(restored.map((p) => repo.inRepo(p)), `maintenance: ${o.machineId} restores ${target} (removed in ${short})`);
  const pushed = await pushWithRetries(repo, o.pushAttempts);
  return { restored, fromCommit: short, committed, pushed: pushed.pushed, ...(pushed.failure && { note: `not pushed yet (${pushed.failure}): a later tick pushes it` }) };
}
