import path from 'node:path';
import {
  compareViews,
  describeDrift,
  flatten,
  flattenLines,
  type Flat,
  MAX_DRIFTS_LISTED,
} from '../configBackup/drift.js';
import { originOf } from '../configBackup/store.js';
import { snapshotsOf } from '../configBackup/snapshots.js';
import type { CheckResult } from '../health/types.js';
import { listDirIfPresent, readCapped } from '../util/fs.js';
import { record } from './healthTasks.js';
import { defineTask } from './retentionTask.js';

/** Another machine's files are untrusted: none larger than this is read. */
const MAX_SNAPSHOT_BYTES = 10 * 1024 * 1024;

type Views = Map<string, Map<string, Flat>>; // file name → machine → flattened content

function parseView(name: string, text: string): Flat | string {
  if (!name.endsWith('.json') && !text.trimStart().startsWith('{')) return flattenLines(text);
  try {
    return flatten(JSON.parse(text));
  } catch {
    return 'not valid JSON';
  }
}

/** The newest redacted snapshot of every file of every machine, by the file's name; damaged ones named. */
function readSnapshots(root: string): { views: Views; damaged: string[] } {
  const views: Views = new Map();
  const damaged: string[] = [];
  for (const machine of listDirIfPresent(root)) {
    for (const family of listDirIfPresent(path.join(root, machine))) {
      const dir = path.join(root, machine, family);
      const newest = snapshotsOf(listDirIfPresent(dir))[0];
      if (!newest) continue;
      // without a readable origin, the family's name still says which file it is
      const origin = originOf(dir);
      const file = origin ? path.basename(origin) : family.replace(/-[0-9a-f]{8}$/, '');
      const rel = `maintenance/configs/${machine}/${family}/${newest.name}`;
      const read = readCapped(path.join(dir, newest.name), MAX_SNAPSHOT_BYTES);
      if (!('text' in read)) {
        if (!('missing' in read)) damaged.push(`${rel}: ${read.unreadable}`);
        continue;
      }
      const view = parseView(newest.name, read.text);
      if (typeof view === 'string') {
        damaged.push(`${rel}: ${view}`);
        continue;
      }
      views.set(file, (views.get(file) ?? new Map()).set(machine, view));
    }
  }
  return { views, damaged };
}

/** What RooSync's own inventories hold that is configuration (not hardware, paths or times), by machine. */
function inventoryView(inv: Record<string, unknown>): Flat {
  const roo = (inv.roo ?? {}) as Record<string, unknown>;
  const servers = Array.isArray(roo.mcpServers) ? (roo.mcpServers as Record<string, unknown>[]) : [];
  const modes = Array.isArray(roo.modes) ? (roo.modes as Record<string, unknown>[]) : [];
  const profile = (roo.modelProfile ?? {}) as Record<string, unknown>;
  return flatten({
    mcpServers: Object.fromEntries(
      servers.map((s) => [String(s.name), { enabled: s.enabled, command: s.command, transportType: s.transportType }]),
    ),
    modes: modes.map((m) => String(m.slug)).sort(),
    modelProfile: profile.hash ?? null,
    software: inv.software ?? null,
  });
}

/** RooSync's inventories (`inventories/<machine>[-<time>].json`): the newest per machine, by its `timestamp`. */
function readInventories(dir: string): { views: Map<string, Flat>; damaged: string[] } {
  const newest = new Map<string, { at: number; view: Flat }>();
  const damaged: string[] = [];
  for (const name of listDirIfPresent(dir).filter((n) => n.endsWith('.json'))) {
    const read = readCapped(path.join(dir, name), MAX_SNAPSHOT_BYTES);
    let inv: Record<string, unknown> | undefined;
    try {
      inv = 'text' in read ? (JSON.parse(read.text) as Record<string, unknown>) : undefined;
    } catch {
      inv = undefined;
    }
    if (!inv || typeof inv.machineId !== 'string') {
      damaged.push(`inventories/${name}: ${'unreadable' in read ? read.unreadable : 'not a RooSync inventory'}`);
      continue;
    }
    const at = Date.parse(String(inv.timestamp)) || 0;
    if ((newest.get(inv.machineId)?.at ?? -1) < at) newest.set(inv.machineId, { at, view: inventoryView(inv) });
  }
  return { views: new Map([...newest].map(([m, v]) => [m, v.view])), damaged };
}

function driftCheck(subject: string, source: string, all: ReturnType<typeof compareViews>): CheckResult {
  // a file with 250,000 differing keys must not become a 100 MB alert: a few hundred listed, the rest counted
  const drifts = all.slice(0, MAX_DRIFTS_LISTED);
  return {
    check: 'config-drift',
    subject,
    state: drifts.length ? 'failing' : 'ok',
    type: 'HEALTH',
    severity: 'LOW',
    summary: drifts.length
      ? `${subject} differs between machines (${source}) at ${all.length} key path${all.length > 1 ? 's' : ''}: ` +
        drifts.slice(0, 3).map(describeDrift).join('; ') +
        (all.length > 3 ? '; …' : '')
      : `${subject} is the same on every machine (${source})`,
    actions: drifts.length
      ? ['Align the machines, or add the key paths that are meant to differ to configBackup.driftIgnore']
      : [],
    data: { source, drifts, total: all.length, listed: drifts.length },
  };
}

/**
 * `config-drift` (fleet, on the leader, daily): the newest redacted snapshot of each machine's configs,
 * compared file by file and key path by key path; RooSync's own inventories beside them, named as such.
 */
export const configDriftTask = defineTask('config-drift', async (ctx, result) => {
  const ignore = ctx.config.config.configBackup.driftIgnore;
  const ours = readSnapshots(path.join(ctx.sharedState, 'maintenance', 'configs'));
  const inventories = readInventories(path.join(ctx.sharedState, 'inventories'));
  const checks: CheckResult[] = [];
  for (const [file, byMachine] of [...ours.views].sort(([a], [b]) => a.localeCompare(b)))
    if (byMachine.size > 1) checks.push(driftCheck(file, 'config-backup snapshots', compareViews(byMachine, ignore)));
  if (inventories.views.size > 1)
    checks.push(driftCheck('RooSync inventory', 'RooSync inventories', compareViews(inventories.views, ignore)));
  record(result, checks);
  result.warnings.push(...[...ours.damaged, ...inventories.damaged].map((d) => `skipped ${d}`));
  for (const c of checks.filter((x) => x.state === 'failing')) {
    for (const d of c.data.drifts as ReturnType<typeof compareViews>)
      result.warnings.push(`${c.subject}: ${describeDrift(d)}`);
    const more = (c.data.total as number) - (c.data.listed as number);
    if (more > 0) result.warnings.push(`${c.subject}: ${more} more differing key paths not listed`);
  }
});
