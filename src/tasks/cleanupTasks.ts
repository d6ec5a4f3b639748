import { z } from 'zod';
import { parseUntrusted } from '../util/untrustedJson.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Entry } from '../retention/plan.js';
import { localRule, retentionTask, sharedRule, type RuleSpec } from './retentionTask.js';
import type { TaskContext } from './types.js';

const MB = 1024 * 1024;

function escapeGlob(name: string): string {
  return name.replace(/[*?[\]{}()!+@\\]/g, '\\$&');
}

export const rollbackCleanup = retentionTask('rollback-cleanup', (ctx) => {
  const { retentionDays, excludePatterns } = ctx.config.config.rollback;
  return [
    {
      rule: sharedRule(ctx, '.rollback', {
        name: 'rollback-cleanup/folders',
        match: ['*'],
        unit: 'dir',
        olderThanDays: retentionDays,
        groupBy: 'none',
        exclude: excludePatterns,
        dateFrom: 'name-or-mtime',
      }),
    },
    // sync-config.ref.backup.* is the only source RooSync's restore accepts: its newest always stays.
    {
      rule: sharedRule(ctx, '.rollback', {
        name: 'rollback-cleanup/backup-files',
        match: ['*.backup.*'],
        unit: 'file',
        olderThanDays: retentionDays,
        keepNewest: 1,
        groupBy: 'family',
        exclude: excludePatterns,
        dateFrom: 'name-or-mtime',
      }),
    },
  ];
});

/** The `configs/<machine>/v*` folders that a `latest.json` names, read during the snapshot. */
export async function configsLatestProtection(
  realRoot: string,
  entries: readonly Entry[],
): Promise<Map<string, string>> {
  const protectedRels = new Map<string, string>();
  const machines = new Set(entries.map((e) => e.rel.split('/')[0]!));
  for (const machine of machines) {
    const own = entries.filter((e) => e.rel.startsWith(`${machine}/`));
    let text: string;
    try {
      text = await readFile(path.join(realRoot, machine, 'latest.json'), 'utf8');
    } catch {
      continue; // no latest.json: nothing points anywhere
    }
    let strings: string[];
    try {
      const parsed = parseUntrusted(text, z.unknown());
      if (!parsed.ok) throw new Error(parsed.reason);
      strings = JSON.stringify(parsed.value)
        .match(/"(?:[^"\\]|\\.)*"/g)!
        .map((s) => JSON.parse(s) as string);
    } catch {
      for (const e of own)
        protectedRels.set(
          e.rel,
          `configs/${machine}/latest.json is unreadable: no version of ${machine} is rotated until it is fixed`,
        );
      continue;
    }
    for (const e of own) {
      const folder = e.rel.split('/')[1]!;
      if (strings.some((s) => s === folder || s.split(/[\\/]/).includes(folder)))
        protectedRels.set(e.rel, `named by configs/${machine}/latest.json: never removed`);
    }
  }
  return protectedRels;
}

export const backupRotation = retentionTask('backup-rotation', (ctx): RuleSpec[] => {
  const keepNewest = ctx.config.config.backups.keepCount;
  return [
    {
      rule: sharedRule(ctx, '.', {
        name: 'backup-rotation/shared-root',
        match: ['*.backup*'],
        unit: 'any',
        keepNewest,
        groupBy: 'family',
        exclude: [],
        dateFrom: 'name-or-mtime',
      }),
    },
    {
      rule: sharedRule(ctx, 'baselines', {
        name: 'backup-rotation/baselines',
        match: ['*.backup.*'],
        unit: 'file',
        keepNewest,
        groupBy: 'family',
        exclude: [],
        dateFrom: 'name-or-mtime',
      }),
    },
    {
      rule: sharedRule(ctx, 'configs', {
        name: 'backup-rotation/configs',
        match: ['*/v*'],
        unit: 'dir',
        keepNewest,
        groupBy: 'parent',
        exclude: [],
        dateFrom: 'name-or-mtime',
      }),
      protect: configsLatestProtection,
    },
  ];
});

export const logRotation = retentionTask('log-rotation', (ctx) => {
  const { retentionDays, maxSizeMB } = ctx.config.config.logs;
  return [
    {
      rule: sharedRule(ctx, 'logs', {
        name: 'log-rotation',
        match: ['*'],
        unit: 'any',
        olderThanDays: retentionDays,
        maxTotalBytes: Math.round(maxSizeMB * MB),
        groupBy: 'none',
        exclude: [],
        dateFrom: 'name-or-mtime',
      }),
    },
  ];
});

export const customRules = retentionTask('custom-rules', (ctx) =>
  ctx.config.rules.map((r) => ({
    rule: {
      ...sharedRule(ctx, path.relative(ctx.sharedState, r.rootPath) || '.', {
        name: `custom-rules/${r.name}`,
        match: r.match,
        unit: r.unit,
        groupBy: r.groupBy,
        exclude: r.exclude,
        dateFrom: r.dateFrom,
      }),
      ...(r.olderThanDays !== undefined && { olderThanDays: r.olderThanDays }),
      ...(r.keepNewest !== undefined && { keepNewest: r.keepNewest }),
      ...(r.maxTotalMB !== undefined && { maxTotalBytes: Math.round(r.maxTotalMB * MB) }),
      ...(r.maxDeletionsPerRun !== undefined && { maxDeletionsPerRun: r.maxDeletionsPerRun }),
    },
  })),
);

/** Only `<task>/checkpoints` goes; the task folder itself (conversation, metadata) is precious. */
export const checkpointCleanup = retentionTask('checkpoint-cleanup', (ctx) =>
  ctx.config.checkpointRoots.map((dir) => ({
    rule: localRule(ctx, dir, {
      name: 'checkpoint-cleanup',
      match: ['*/checkpoints'],
      unit: 'dir',
      olderThanDays: ctx.config.config.checkpoints.retentionDays,
      groupBy: 'none',
      exclude: [],
      dateFrom: 'mtime',
      ageIncludesParentFiles: true,
    }),
  })),
);

export const localLogPrune = retentionTask('local-log-prune', (ctx) =>
  ctx.config.localLogDirs.map((dir) => ({
    rule: localRule(ctx, dir, {
      name: 'local-log-prune',
      match: ['*'],
      unit: 'any',
      olderThanDays: ctx.config.config.localLogs.retentionDays,
      groupBy: 'none',
      exclude: [],
      dateFrom: 'name-or-mtime',
    }),
  })),
);

/** RooSync's rollback manager leaves `<file>.backup_<ISO-dashed>` beside the file it changed. */
export const localBackupRotation = retentionTask('local-backup-rotation', (ctx: TaskContext) =>
  ctx.config.localBackupFiles.map((file) => ({
    rule: localRule(ctx, path.dirname(file), {
      name: `local-backup-rotation/${path.basename(file)}`,
      match: [`${escapeGlob(path.basename(file))}.backup_*`],
      unit: 'file',
      keepNewest: ctx.config.config.localBackups.keepCount,
      groupBy: 'none',
      exclude: [],
      dateFrom: 'name-or-mtime',
    }),
  })),
);
