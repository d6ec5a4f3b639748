import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DAY_MS } from '../util/time.js';

/** `2026-08-22T02-01-33-123Z`: how RooSync puts a time in a name. */
export function isoDashed(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

/** Writes a file and gives it (and nothing else) the mtime `ms`. */
export async function writeAged(file: string, content: string | Buffer, ms: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  await utimes(file, ms / 1000, ms / 1000);
}

export interface AgedTreeOptions {
  /** The shared-state folder to fill. */
  sharedState: string;
  /** A folder for this machine's local files (checkpoints, logs, settings). */
  local: string;
  machines: string[];
  now: number;
  /** Build only the shared part, only this machine's local part, or both (default). */
  parts?: 'shared' | 'local' | 'both';
}

export interface AgedTree {
  sharedState: string;
  checkpointsRoot: string;
  localLogs: string;
  mcpSettings: string;
  /** A config pointing the local tasks at `local`. */
  config: Record<string, unknown>;
}

const ago = (now: number, days: number) => now - days * DAY_MS;

/**
 * A realistic neglected `.shared-state` (docs/roosync-format.md) plus one machine's local files:
 * rollback points of every age, CRITICAL_ ones, backup families grown past their cap, a
 * configs/<machine> history with latest.json pointing at an old version, logs over their cap,
 * env/ secrets, and Roo task checkpoints.
 */
export async function buildAgedTree(opts: AgedTreeOptions): Promise<AgedTree> {
  const { sharedState: s, local, now } = opts;
  const json = (v: unknown) => JSON.stringify(v, null, 2);
  if (opts.parts !== 'local') await buildSharedPart(opts, s, now, json);
  return buildLocalPart(opts, s, local, now, json);
}

async function buildSharedPart(
  opts: AgedTreeOptions,
  s: string,
  now: number,
  json: (v: unknown) => string,
): Promise<void> {
  // .rollback/: a folder every 3 days for 30 days, 3 files each
  for (let d = 1; d <= 30; d += 3) {
    const t = ago(now, d);
    const dir = path.join(s, '.rollback', `decision-${d}_${isoDashed(t)}`);
    await writeAged(path.join(dir, 'sync-config.ref.json'), json({ d }), t);
    await writeAged(path.join(dir, 'sync-roadmap.md'), `# roadmap ${d}\n`, t);
    await writeAged(
      path.join(dir, 'metadata.json'),
      json({ decisionId: `decision-${d}`, timestamp: new Date(t).toISOString(), machine: opts.machines[0], files: [] }),
      t,
    );
  }
  await writeAged(
    path.join(s, '.rollback', `CRITICAL_pre-migration_${isoDashed(ago(now, 60))}`, 'metadata.json'),
    json({ keep: true }),
    ago(now, 60),
  );
  await writeAged(
    path.join(s, '.rollback', `decision-nested_${isoDashed(ago(now, 45))}`, 'inner', 'CRITICAL_restore-point.json'),
    json({ keep: true }),
    ago(now, 45),
  );
  for (const d of [2, 9, 20, 40]) {
    await writeAged(
      path.join(s, '.rollback', `sync-config.ref.backup.${isoDashed(ago(now, d + 10))}.json`),
      json({ d }),
      ago(now, d + 10),
    );
    await writeAged(
      path.join(s, '.rollback', `baseline.${opts.machines[0]}.backup.${isoDashed(ago(now, d))}.json`),
      json({ d }),
      ago(now, d),
    );
  }
  // backup families in the shared root and baselines/
  for (let i = 0; i < 8; i++) {
    await writeAged(
      path.join(s, `sync-config.json.backup.${isoDashed(ago(now, i * 2))}`),
      json({ i }),
      ago(now, i * 2),
    );
    for (const m of opts.machines)
      await writeAged(path.join(s, 'baselines', `${m}.json.backup.${ago(now, i)}`), json({ m, i }), ago(now, i));
  }
  for (const m of opts.machines) await writeAged(path.join(s, 'baselines', `${m}.json`), json({ m }), now);
  // configs/<machine>/v*: 7 versions, latest.json naming the oldest
  for (const m of opts.machines) {
    const versions = Array.from({ length: 7 }, (_, i) => `v1.${i}.0-${isoDashed(ago(now, 14 - i * 2))}`);
    for (const [i, v] of versions.entries())
      await writeAged(path.join(s, 'configs', m, v, 'sync-config.json'), json({ m, v }), ago(now, 14 - i * 2));
    await writeAged(
      path.join(s, 'configs', m, 'latest.json'),
      json({ version: versions[0], path: `configs/${m}/${versions[0]}` }),
      now,
    );
  }
  // logs/: 20 daily logs of 8 MB each (160 MB, over the 100 MB cap)
  for (let d = 0; d < 20; d++) {
    const day = new Date(ago(now, d)).toISOString().slice(0, 10).replace(/-/g, '');
    await writeAged(path.join(s, 'logs', `roosync-${day}.log`), Buffer.alloc(8 * 1024 * 1024, 'x'), ago(now, d));
  }
  await writeAged(path.join(s, 'env', 'secrets.enc'), 'ENCRYPTED', ago(now, 400));
  await writeAged(path.join(s, 'env', 'audit.log'), 'audit', ago(now, 400));
  await writeAged(path.join(s, '.machine-registry.json'), json({ machines: opts.machines }), ago(now, 100));
}

async function buildLocalPart(
  opts: AgedTreeOptions,
  s: string,
  local: string,
  now: number,
  json: (v: unknown) => string,
): Promise<AgedTree> {
  const checkpointsRoot = path.join(local, 'globalStorage', 'rooveterinaryinc.roo-cline', 'tasks');
  const localLogs = path.join(local, 'tmp', 'roo-state-manager-logs');
  const mcpSettings = path.join(local, 'globalStorage', 'rooveterinaryinc.roo-cline', 'settings', 'mcp_settings.json');
  const result = {
    sharedState: s,
    checkpointsRoot,
    localLogs,
    mcpSettings,
    config: {
      checkpoints: { roots: [checkpointsRoot] },
      localLogs: { dirs: [localLogs] },
      localBackups: { files: [mcpSettings] },
      health: { mcpSettingsPath: mcpSettings },
    },
  };
  if (opts.parts === 'shared') return result;
  // local: Roo task checkpoints, one task touched yesterday with old checkpoints
  for (const [i, d] of [1, 5, 20, 40, 90].entries()) {
    const task = path.join(checkpointsRoot, `task-${i}`);
    await writeAged(path.join(task, 'api_conversation_history.json'), json([]), ago(now, d));
    for (let f = 0; f < 4; f++)
      await writeAged(path.join(task, 'checkpoints', 'objects', `obj${f}`), Buffer.alloc(256 * 1024, f), ago(now, d));
  }
  const touched = path.join(checkpointsRoot, 'task-touched');
  await writeAged(path.join(touched, 'checkpoints', 'objects', 'old'), Buffer.alloc(256 * 1024), ago(now, 60));
  await writeAged(path.join(touched, 'ui_messages.json'), json([]), ago(now, 1));

  for (let d = 0; d < 12; d++) {
    const day = new Date(ago(now, d)).toISOString().slice(0, 10).replace(/-/g, '');
    await writeAged(path.join(localLogs, `roosync-${day}.log`), `log of day -${d}\n`, ago(now, d));
  }
  await writeAged(mcpSettings, json({ mcpServers: {} }), now);
  for (let i = 0; i < 9; i++)
    await writeAged(`${mcpSettings}.backup_${isoDashed(ago(now, i))}`, json({ mcpServers: {}, i }), ago(now, i));
  return result;
}
