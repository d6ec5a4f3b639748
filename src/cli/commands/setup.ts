import { LOCAL_LOGS } from '../../sharedState/localState.js';
import { builtCliPath } from '../../util/version.js';
import path from 'node:path';
import { scheduleEntry, windowsCommandLine } from '../../setup/osSchedule.js';
import {
  installSchedule,
  type ScheduleTarget,
  scheduleState,
  scheduleTargetFor,
  uninstallSchedule,
} from '../../setup/scheduleInstall.js';
import { hookStates, installHooks, uninstallHooks } from '../../setup/hooks.js';

import { cloneSessionFor, load, sessionFor, type CliEnv, type Handler, type Outcome } from '../kit.js';

/** Setting a machine up: git hooks and the OS schedule entry. */

async function scheduleTarget(cli: CliEnv): Promise<ScheduleTarget> {
  const { identity, config } = await load(cli);
  const sharedState = identity.sharedState.value;
  const { repo } = await sessionFor(cli, identity, config, false);
  return scheduleTargetFor({
    ...(cli.args.for && { kind: cli.args.for }),
    sharedState,
    machineId: identity.machineId.value,
    tickMinutes: config.config.schedule.tickMinutes,
    gitDir: repo?.gitDir,
    bin: builtCliPath(),
    env: cli.env,
    dryRun: cli.args.global.dryRun,
    // a plain folder's leader, as the operator asked: the scheduled runs keep --leader
    leader: cli.args.global.noSync && cli.args.global.leader,
  });
}

async function schedulePrint(cli: CliEnv): Promise<Outcome> {
  const { entry } = await scheduleTarget(cli);
  const text = scheduleEntry(entry);
  // Windows: the XML is a file to save; the same task without XML is one command line, printed after it
  const commandLine = entry.kind === 'windows' ? windowsCommandLine(entry) : undefined;
  return {
    exitCode: 0,
    doc: {
      command: 'schedule print',
      for: entry.kind,
      name: entry.name,
      entry: text,
      ...(commandLine && { commandLine }),
    },
    lines: [text, ...(commandLine ? ['', 'or, without the XML file:', `  ${commandLine}`] : [])],
  };
}

async function scheduleChange(cli: CliEnv, action: 'install' | 'uninstall'): Promise<Outcome> {
  const target = await scheduleTarget(cli);
  const r = action === 'install' ? await installSchedule(target) : await uninstallSchedule(target);
  const { kind, name } = target.entry;
  return {
    exitCode: 0,
    doc: { command: `schedule ${action}`, for: kind, name, dryRun: target.dryRun, ...r },
    lines: [`${kind}: ${name}`, ...r.done.map((d) => (target.dryRun ? `would: ${d}` : d))],
  };
}

async function scheduleStatus(cli: CliEnv): Promise<Outcome> {
  const target = await scheduleTarget(cli);
  const s = await scheduleState(target);
  const { kind, name } = target.entry;
  const state = !s.installed
    ? 'not installed'
    : s.disabled
      ? `installed, but ${s.disabled.why}`
      : s.current
        ? 'installed, up to date'
        : 'installed, out of date';
  const fix = s.disabled
    ? [`  fix: ${s.disabled.fix}`]
    : !s.installed || !s.current
      ? [`  fix: roosync-maint schedule install --for ${kind}`]
      : [];
  return {
    exitCode: s.disabled ? 1 : 0,
    doc: { command: 'schedule status', for: kind, name, ...s },
    lines: [`${kind}: ${name} ${state} (${s.where})`, ...(s.detail ? [`  ${s.detail}`] : []), ...fix],
  };
}

async function hooksCommand(cli: CliEnv, action: 'install' | 'uninstall' | 'status'): Promise<Outcome> {
  const { identity, config } = await load(cli);
  const { repo, stateDir } = await cloneSessionFor(
    cli,
    identity,
    config,
    'nowhere to install git hooks',
    'use an OS schedule instead: roosync-maint schedule install',
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
            logFile: path.join(stateDir, LOCAL_LOGS.hooks),
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

/** The setup family's handlers, by command words (the specs are in cli/catalogue.ts). */
export const handlers: Record<string, Handler> = {
  'hooks install': (cli) => hooksCommand(cli, 'install'),
  'hooks uninstall': (cli) => hooksCommand(cli, 'uninstall'),
  'hooks status': (cli) => hooksCommand(cli, 'status'),
  'schedule install': (cli) => scheduleChange(cli, 'install'),
  'schedule uninstall': (cli) => scheduleChange(cli, 'uninstall'),
  'schedule status': scheduleStatus,
  'schedule print': schedulePrint,
};
