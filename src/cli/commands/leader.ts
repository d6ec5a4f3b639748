import { leaseStatus, releaseLease } from '../../coordinator/leader.js';

import { load, type CliEnv, type Handler, type Outcome } from '../kit.js';

/** The lease: show it, give it up. */

async function leaderStatus(cli: CliEnv): Promise<Outcome> {
  const { machine } = await load(cli);
  const s = await leaseStatus({
    ...machine,
    now: cli.now(),
    fetch: !cli.args.global.noSync,
  });
  return { exitCode: 0, doc: { command: 'leader status', ...s }, lines: s.lines };
}

async function leaderRelease(cli: CliEnv): Promise<Outcome> {
  const { machine } = await load(cli);
  const r = await releaseLease({
    ...machine,
    wait: cli.args.wait,
    dryRun: cli.args.global.dryRun,
  });
  return {
    exitCode: r.released || cli.args.global.dryRun ? 0 : 1,
    doc: { command: 'leader release', ...r },
    lines: [r.reason],
  };
}

/** The leader family's handlers, by command words (the specs are in cli/catalogue.ts). */
export const handlers: Record<string, Handler> = {
  'leader status': leaderStatus,
  'leader release': leaderRelease,
};
