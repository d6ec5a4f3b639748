import { leaseStatus, releaseLease } from '../../coordinator/leader.js';

import { load, type CliEnv, type CommandSpec, type Outcome } from '../kit.js';

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

export const leaderCommands: CommandSpec[] = [
  {
    words: ['leader', 'status'],
    usage: 'leader status',
    summary: 'show the lease and how this machine judges it',
    examples: ['roosync-maint leader status', 'roosync-maint leader status --no-sync'],
    handler: leaderStatus,
  },
  {
    words: ['leader', 'release'],
    usage: 'leader release',
    summary: 'give up the lease (holder only)',
    options: ['wait'],
    examples: ['roosync-maint leader release', 'roosync-maint leader release --dry-run'],
    handler: leaderRelease,
  },
];
