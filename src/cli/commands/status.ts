import { packageVersion } from '../../util/version.js';
import { findGitDir, localStateDir } from '../../sharedState/localState.js';
import { daemonDeath } from '../../setup/doctor.js';
import { healthNow } from '../../coordinator/healthNow.js';
import { fleetStatus, renderFleetStatus } from '../../report/fleetStatus.js';
import { ttyProgress } from '../progress.js';

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
  const died = daemonDeath(localStateDir(sharedState, findGitDir(sharedState), cli.env));
  const untrusted = trustNotice(config.layers.trust);
  return {
    exitCode: 0,
    doc: {
      command: 'status',
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
      `fleet status from ${identity.sharedState.value} (as of this clone's last sync)`,
      ...renderFleetStatus(s),
    ],
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

/** The status family's handlers, by command words (the specs are in cli/catalogue.ts). */
export const handlers: Record<string, Handler> = {
  status: statusCommand,
  health: healthCommand,
};
