import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { redactConfig } from '../configBackup/redact.js';
import {
  contentHash,
  familyOf,
  planSnapshots,
  nextSnapshotTime,
  snapshotName,
  snapshotsOf,
  type Snapshot,
} from '../configBackup/snapshots.js';
import { errorCode, errorMessage } from '../errors.js';
import type { ReportAction, RuleReport } from '../report/taskResult.js';
import { localStateDir } from '../sharedState/localState.js';
import { writeOrigin } from '../configBackup/store.js';
import { formatBytes } from '../util/format.js';
import { ensureRealDir, listDirIfPresent, unlessMissing, unlinkIfPresent, writeFileAtomic } from '../util/fs.js';
import { defineTask } from './retentionTask.js';
import type { TaskContext } from './types.js';

/** A config larger than this is not a config: reported and skipped. */
export const MAX_CONFIG_BYTES = 10 * 1024 * 1024;

/** Where this machine keeps the whole copies: its OS state folder (never synced), the same in every run mode. */
export function configBackupDir(sharedState: string, env: NodeJS.ProcessEnv): string {
  return path.join(localStateDir(sharedState, undefined, env), 'config-backups');
}

/** The redacted copies, in the shared state (relative to it). */
export function sharedConfigsRel(machineId: string): string {
  return `maintenance/configs/${machineId}`;
}

interface Copy {
  dir: string;
  content: Buffer | string;
  mode?: number;
}

/** One file: a snapshot when its content changed, then each copy rotated to `keepCount`. */
function backUpFile(ctx: TaskContext, file: string, dirs: { local: string; shared: string }): RuleReport {
  const family = familyOf(file);
  const keepCount = ctx.config.config.configBackup.keepCount;
  const report: RuleReport = {
    rule: family,
    policy: `${file}: a snapshot whenever it changed, the ${keepCount} newest kept (whole here, redacted in the shared state)`,
    root: file,
    missingRoot: false,
    actions: [],
    acted: 0,
    bytesFreed: 0,
    errors: [],
  };
  const action = (verdict: ReportAction['verdict'], rel: string, reason: string, bytes = 0): ReportAction => ({
    rel,
    kind: 'file',
    verdict,
    reason,
    bytes,
    files: 1,
    dateMs: ctx.now,
    dateSource: 'mtime',
  });
  let bytes: Buffer;
  try {
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES) {
      report.actions.push(action('skip', file, `too large for a config (${formatBytes(size)} > 10 MB)`, size));
      return report;
    }
    bytes = readFileSync(file);
  } catch (err) {
    const why = errorCode(err) === 'ENOENT' ? 'not on this machine' : `unreadable: ${errorMessage(err)}`;
    report.actions.push(action('skip', file, why));
    return report;
  }
  const hash = contentHash(bytes);
  const copies: Copy[] = [
    { dir: path.join(dirs.local, family), content: bytes, mode: 0o600 },
    { dir: path.join(dirs.shared, family), content: redactConfig(bytes.toString('utf8')).text },
  ];
  const taken = copies.flatMap((c) => snapshotsOf(listDirIfPresent(c.dir)));
  const name = snapshotName(file, nextSnapshotTime(taken, ctx.now), hash);
  for (const copy of copies) {
    const existing = snapshotsOf(listDirIfPresent(copy.dir));
    const plan = planSnapshots(existing, hash, keepCount);
    const where = copy === copies[0] ? 'local' : 'shared';
    if (plan.take) report.actions.push(action('snapshot', `${where}/${family}/${name}`, plan.reason, bytes.length));
    else report.actions.push(action('keep', `${where}/${family}/${existing[0]!.name}`, plan.reason));
    for (const old of plan.remove)
      report.actions.push(action('remove', `${where}/${family}/${old.name}`, `beyond the ${keepCount} newest`));
    if (ctx.dryRun) continue;
    try {
      if (plan.take) {
        // the shared copy never goes through a symlinked folder someone committed
        if (copy === copies[1]) ensureRealDir(ctx.sharedState, copy.dir);
        mkdirSync(copy.dir, { recursive: true, mode: 0o700 });
        writeFileAtomic(path.join(copy.dir, name), copy.content, copy.mode);
        writeOrigin(copy.dir, file);
        report.acted++;
      }
      report.bytesFreed += removeSnapshots(copy.dir, plan.remove);
      report.acted += plan.remove.length;
    } catch (err) {
      report.errors.push({ rel: `${where}/${family}`, message: errorMessage(err) });
    }
  }
  return report;
}

function removeSnapshots(dir: string, snapshots: readonly Snapshot[]): number {
  let freed = 0;
  for (const s of snapshots) {
    const file = path.join(dir, s.name);
    freed += unlessMissing(() => statSync(file).size, 0);
    unlinkIfPresent(file);
  }
  return freed;
}

/**
 * `config-backup` (local, daily): each configured file that changed since its last snapshot is copied
 * whole into this machine's state folder (mode 0600, for `backups restore`) and, redacted, into
 * `maintenance/configs/<machine>/` in the shared state (for the fleet and the operator).
 */
export const configBackupTask = defineTask('config-backup', async (ctx, result) => {
  const dirs = {
    local: configBackupDir(ctx.sharedState, ctx.env),
    shared: path.join(ctx.sharedState, sharedConfigsRel(ctx.machineId)),
  };
  for (const file of ctx.config.configBackupFiles) result.rules.push(backUpFile(ctx, file, dirs));
  const skipped = result.rules.flatMap((r) => r.actions.filter((a) => a.verdict === 'skip'));
  result.warnings.push(
    ...skipped.filter((a) => a.reason !== 'not on this machine').map((a) => `${a.rel}: ${a.reason}`),
  );
  if (
    !ctx.dryRun &&
    result.rules.some((r) => r.actions.some((a) => a.rel.startsWith('shared/') && a.verdict !== 'keep'))
  )
    result.sharedPaths = [sharedConfigsRel(ctx.machineId)];
});
