import { builtCliPath } from '../../util/version.js';
import path from 'node:path';
import { scheduleEntry } from '../../coordinator/osSchedule.js';
import { hookStates, installHooks, uninstallHooks } from '../../coordinator/hooks.js';
import { openClone, requireClone } from '../../git/repo.js';
import { localStateDir } from '../../sharedState/localState.js';
import { UsageError } from '../../errors.js';

import { load, type CliEnv, type CommandSpec, type Outcome } from '../kit.js';

/** Setting a machine up: git hooks and the OS schedule entry. */

async function schedulePrint(cli: CliEnv): Promise<Outcome> {
  const kind = cli.args.for;
  if (kind !== 'windows' && kind !== 'systemd' && kind !== 'cron')
    throw new UsageError({
      where: '--for',
      message: kind ? `unknown scheduler "${kind}"` : 'missing',
      hint: 'schedule print --for windows|systemd|cron',
    });
  const { identity, config } = await load(cli);
  const bin = builtCliPath();
  const shared = identity.sharedState.value;
  const repo = await openClone(shared, identity.machineId.value, config.config.git);
  // this machine's own log, beside its other local state (never a temp folder that grows forever)
  const logFile = path.join(localStateDir(shared, repo?.gitDir, cli.env), 'schedule.log');
  const entry = scheduleEntry({
    kind,
    node: process.execPath,
    bin,
    sharedState: shared,
    machineId: identity.machineId.value,
    tickMinutes: config.config.schedule.tickMinutes,
    logFile,
    noSync: repo === undefined,
  });
  return { exitCode: 0, doc: { command: 'schedule print', for: kind, entry }, lines: [entry] };
}

async function hooksCommand(cli: CliEnv, action: 'install' | 'uninstall' | 'status'): Promise<Outcome> {
  const { identity, config } = await load(cli);
  const repo = await requireClone(
    identity.sharedState.value,
    identity.machineId.value,
    config.config.git,
    'nowhere to install git hooks',
    'use an OS schedule instead: roosync-maint schedule print --for …',
  );
  if (action === 'status') {
    const states = await hookStates(repo);
    return {
      exitCode: 0,
      doc: { command: 'hooks status', hooks: states },
      lines: states.map((s) => {
        const state =
          s.state === 'ours' ? 'installed' : s.state === 'other' ? 'another hook (not ours)' : 'not installed';
        return `${s.hook}: ${state}${s.chained ? ' (chains an earlier hook)' : ''} — ${s.file}`;
      }),
    };
  }
  const dryRun = cli.args.global.dryRun;
  const lines =
    action === 'install'
      ? await installHooks(
          {
            repo,
            sharedState: identity.sharedState.value,
            machineId: identity.machineId.value,
            node: process.execPath,
            bin: builtCliPath(),
            logFile: path.join(repo.gitDir, 'roosync-maint', 'hook.log'),
          },
          dryRun,
        )
      : await uninstallHooks(repo, dryRun);
  return {
    exitCode: 0,
    doc: { command: `hooks ${action}`, dryRun, done: lines },
    lines: dryRun ? lines.map((l) => `would: ${l}`) : lines,
  };
}

export const setupCommands: CommandSpec[] = [
  {
    words: ['hooks', 'install'],
    usage: 'hooks install',
    summary: 'install the git hooks in the shared-state clone (post-merge, post-rewrite, post-checkout)',
    examples: ['roosync-maint hooks install', 'roosync-maint hooks install --dry-run'],
    handler: (cli) => hooksCommand(cli, 'install'),
  },
  {
    words: ['hooks', 'uninstall'],
    usage: 'hooks uninstall',
    summary: 'remove our hooks, restoring any chained hook',
    examples: ['roosync-maint hooks uninstall'],
    handler: (cli) => hooksCommand(cli, 'uninstall'),
  },
  {
    words: ['hooks', 'status'],
    usage: 'hooks status',
    summary: 'show which hooks are installed',
    examples: ['roosync-maint hooks status'],
    handler: (cli) => hooksCommand(cli, 'status'),
  },
  {
    words: ['schedule', 'print'],
    usage: 'schedule print --for windows|systemd|cron',
    summary: 'print the OS scheduler entry for this machine',
    options: ['for'],
    examples: ['roosync-maint schedule print --for systemd'],
    handler: schedulePrint,
  },
];
