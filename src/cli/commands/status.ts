import { packageVersion } from '../../util/version.js';
import { findGitDir, localStateDir } from '../../sharedState/localState.js';
import { daemonDeath } from '../../setup/doctor.js';
import { healthNow } from '../../coordinator/healthNow.js';
import { fleetAttention, fleetStatus, renderFleetStatus } from '../../report/fleetStatus.js';
import { readStatus } from '../../report/status.js';
import { fileObservationStore } from '../../election/observations.js';
import { formatAgo, formatBytes, formatTime } from '../../util/format.js';
import { MINUTE_MS } from '../../util/time.js';
import { ttyProgress } from '../progress.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { fleetPageOf } from '../../report/fleetReport.js';
import { writeFileAtomic } from '../../util/fs.js';

import { checkLines } from '../render.js';
import { load, loadForRun, sessionFor, type CliEnv, type Handler, type Outcome } from '../kit.js';
import { invalidConfigNote } from '../../coordinator/configGuard.js';
import { trustNotice } from '../../config/layers.js';

/** The fleet and this machine: status, health. */

async function statusCommand(cli: CliEnv): Promise<Outcome> {
  const { identity, config, invalid } = await loadForRun(cli);
  const s = fleetStatus(identity.sharedState.value, config.config, cli.now());
  // a broken fleet config never hides the fleet: the view uses the last valid one and says so first
  const warning = invalid ? invalidConfigNote(config.file, invalid) : undefined;
  const sharedState = identity.sharedState.value;
  const stateDir = localStateDir(sharedState, findGitDir(sharedState), cli.env);
  const died = daemonDeath(stateDir);
  const untrusted = trustNotice(config.layers.trust);
  const attention = fleetAttention(s);
  const view = viewOf(sharedState, identity.machineId.value, stateDir, cli.log, cli.now());
  return {
    // scripts and monitors can trust it: 1 when the fleet needs attention, the reasons first
    exitCode: attention.length > 0 ? 1 : 0,
    doc: {
      command: 'status',
      ok: attention.length === 0,
      attention,
      view,
      sharedState: identity.sharedState.value,
      ...(warning && { configInvalid: warning }),
      ...(died && { daemonDied: died }),
      ...(untrusted.length > 0 && { untrusted }),
      ...s,
    },
    lines: [
      ...(warning ? [`config: ${warning}`] : []),
      ...(died ? [`this machine: ${died}`] : []),
      ...untrusted.map((u) => `this machine: ${u}`),
      ...(attention.length
        ? [`NEEDS ATTENTION (${attention.length}):`, ...attention.map((a) => `  ${a}`), '']
        : ['ok: a live leader, every machine heard from, nothing failing', '']),
      `fleet status from ${identity.sharedState.value} (${view.said})`,
      ...renderFleetStatus(s),
    ],
  };
}

/**
 * How old this view of the fleet is: a clone shows what its last sync brought — the later of this machine's last
 * sync as its status file says (rewritten only when something changed) and its last look at the lease (every tick
 * that fetched, quiet ones too) —; a plain folder is read as it is now.
 */
function viewOf(sharedState: string, machineId: string, stateDir: string, log: CliEnv['log'], now: number) {
  if (!findGitDir(sharedState)) return { live: true, lastSyncAt: null, said: 'a plain folder: read as it is now' };
  const synced = readStatus(sharedState, machineId)?.lastSyncAt;
  const looked = fileObservationStore(stateDir, log, true).load()?.lastSeen;
  const latest = Math.max(synced ? Date.parse(synced) : 0, looked ?? 0);
  if (latest === 0)
    return { live: false, lastSyncAt: null, said: 'this clone has not synced yet: the view may be old' };
  const ago = now - latest;
  return {
    live: false,
    lastSyncAt: new Date(latest).toISOString(),
    ageMinutes: Math.round(ago / MINUTE_MS),
    said: `as of this clone's last sync, ${formatTime(latest)}, ${formatAgo(ago)}`,
  };
}

async function healthCommand(cli: CliEnv): Promise<Outcome> {
  const { identity, config } = await load(cli);
  // the git check reads the clone even with --no-sync, which only leaves out the fetch
  const session = await sessionFor(cli, identity, config, false);
  const { checks, notRun } = await healthNow(session, {
    config,
    now: cli.now(),
    log: cli.log,
    progress: ttyProgress(cli.args.global),
    version: packageVersion(),
    fetch: !cli.args.global.noSync,
  });
  const failing = checks.filter((c) => c.state === 'failing');
  return {
    // scripts can trust it: 1 when any check fails
    exitCode: failing.length > 0 ? 1 : 0,
    doc: { command: 'health', ok: failing.length === 0, checks, notRun },
    lines: [
      ...checks.flatMap(checkLines),
      ...notRun.map((n) => `skip  ${n.check}: ${n.why}`),
      failing.length
        ? `${failing.length} failing (alerts are raised by the ticks, after ${config.config.alerts.failureThreshold} consecutive failures)`
        : 'all checks pass',
    ],
  };
}

/** `report --out FILE`: the fleet page as the shared state tells it now (the leader writes it daily too). */
async function reportCommand(cli: CliEnv): Promise<Outcome> {
  const out = cli.args.out;
  if (!out) throw new UsageError({ where: 'report', message: 'no file to write', hint: 'report --out fleet.html' });
  const file = path.resolve(cli.cwd, out);
  if (existsSync(file) && !cli.args.force && !isOurPage(file))
    throw new UsageError({
      where: '--out',
      message: `${file} exists and is not a fleet page`,
      hint: 'choose another file, or add --force to overwrite it',
    });
  const { identity, config } = await loadForRun(cli);
  const shared = identity.sharedState.value;
  const now = cli.now();
  const fleet = fleetStatus(shared, config.config, now);
  const page = fleetPageOf(shared, fleet, { now, writer: identity.machineId.value, version: packageVersion() });
  if (!cli.args.global.dryRun) writeFileAtomic(file, page);
  const bytes = Buffer.byteLength(page);
  const attention = fleetAttention(fleet);
  return {
    exitCode: 0,
    doc: {
      command: 'report',
      file,
      written: !cli.args.global.dryRun,
      bytes,
      machines: fleet.machines.length,
      attention,
    },
    lines: [
      `${cli.args.global.dryRun ? 'would write' : 'wrote'} the fleet page ${file} (${formatBytes(bytes)}, ` +
        `${fleet.machines.length} machines${attention.length ? `, ${attention.length} needing attention` : ''})`,
      'open it in any browser: it needs no server and makes no request',
    ],
  };
}

/** A file `report` wrote before may be replaced without --force. */
function isOurPage(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').slice(0, 400).includes('<title>RooSync fleet');
  } catch {
    return false;
  }
}

/** The status family's handlers, by command words (the specs are in cli/catalogue.ts). */
export const handlers: Record<string, Handler> = {
  status: statusCommand,
  health: healthCommand,
  report: reportCommand,
};
