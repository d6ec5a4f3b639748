import { mkdtemp, readdir, rm, writeFile, lstat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log.js';
import { loadResolvedConfig } from '../config/load.js';
import { runTasks } from '../coordinator/runTasks.js';
import { CLEANUP_TASKS } from '../tasks/names.js';
import { noProgress, type TaskResult } from '../tasks/types.js';
import { formatBytes } from '../util/format.js';
import { actionVerb } from '../cli/render.js';
import { buildAgedTree } from './agedTree.js';
import { buildMessageStore } from './messages.js';
import type { Outcome } from '../cli/commands.js';

async function treeSize(dir: string): Promise<{ files: number; bytes: number }> {
  const out = { files: 0, bytes: 0 };
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    out.files++;
    out.bytes += (await lstat(path.join(e.parentPath, e.name))).size;
  }
  return out;
}

function summary(results: TaskResult[]): string[] {
  return results
    .filter((r) => r.status !== 'skipped')
    .map((r) => `  ${r.task.padEnd(22)} ${actionVerb(r).padEnd(16)} ${String(r.counts.acted).padStart(3)} (${formatBytes(r.bytes).padStart(7)}), kept ${r.counts.kept}, skipped ${r.counts.skipped}${r.status === 'failed' ? ' FAILED' : ''}`);
}

/**
 * The README's first command. Until the coordinator lands (issue #5: git remote, 3 clones,
 * failover), the demo shows the cleanup half on one throw-away machine: a neglected shared
 * state, its dry-run plan, the real run, and a second run that finds nothing left to do.
 */
export async function runDemo(opts: { keep: boolean; log: Logger; now: number; env: NodeJS.ProcessEnv }): Promise<Outcome> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'roosync-maint-demo-'));
  const machines = ['myia-ai-01', 'myia-po-2023', 'myia-po-2026'];
  const lines: string[] = [];
  try {
    const tree = await buildAgedTree({ sharedState: path.join(base, '.shared-state'), local: path.join(base, 'local'), machines, now: opts.now });
    const messages = await buildMessageStore(tree.sharedState, opts.now);
    const configFile = path.join(tree.sharedState, '.maintenance-config.json');
    await writeFile(configFile, JSON.stringify(tree.config, null, 2));
    const config = await loadResolvedConfig(configFile, tree.sharedState);
    const before = await treeSize(base);
    lines.push(`Built a neglected RooSync shared state for ${machines.join(', ')} in ${base}`, `  ${before.files} files, ${formatBytes(before.bytes)}: rollback points, backups, configs history, 160 MB of logs, env/ secrets, Roo checkpoints,`, `  and a RooSync inbox of ${messages.expect.archive.length + messages.expect.stayInInbox.length + messages.expect.pending.length} messages with ${messages.malformed.length} files that would break RooSync's listing`);
    const ctx = { sharedState: tree.sharedState, env: opts.env, machineId: machines[0]!, config, now: opts.now, log: opts.log, progress: noProgress };
    const run = (dryRun: boolean) => runTasks([...CLEANUP_TASKS], { ...ctx, dryRun }, { isLeader: true, notLeaderReason: '' });
    lines.push('', '1. roosync-maint run --no-sync --leader --dry-run   (plan only)', ...summary(await run(true)));
    const real = await run(false);
    lines.push('', '2. roosync-maint run --no-sync --leader             (the same plan, applied)', ...summary(real));
    const after = await treeSize(base);
    lines.push(`  ${before.files - after.files} files and ${formatBytes(before.bytes - after.bytes)} gone; ${after.files} files remain`);
    const again = await run(false);
    lines.push('', '3. the same run again (idempotent: nothing left to do)', ...summary(again));
    const envIntact = (await readdir(path.join(tree.sharedState, 'env'))).length === 2;
    const critical = (await readdir(path.join(tree.sharedState, '.rollback'))).filter((n) => n.startsWith('CRITICAL_')).length;
    const quarantined = (await readdir(path.join(tree.sharedState, 'messages', 'quarantine'))).filter((n) => !n.endsWith('.why.json')).length;
    lines.push('', `env/ untouched: ${envIntact ? 'yes' : 'NO'}; CRITICAL_* rollback points kept: ${critical}; inbox files quarantined with a note of why: ${quarantined}`);
    lines.push(opts.keep ? `kept for inspection: ${base}` : 'removed the throw-away tree (pass --keep to inspect it)');
    const failed = [...real, ...again].some((r) => r.status === 'failed');
    return { exitCode: failed ? 1 : 0, doc: { command: 'demo', dir: opts.keep ? base : null, before, after, run: real, again }, lines };
  } finally {
    if (!opts.keep) await rm(base, { recursive: true, force: true });
  }
}
