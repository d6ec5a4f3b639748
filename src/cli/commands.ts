import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { builtCliPath, packageVersion } from '../util/version.js';
import os from 'node:os';
import path from 'node:path';
import { scheduleEntry } from '../coordinator/osSchedule.js';
import { hookStates, installHooks, uninstallHooks } from '../coordinator/hooks.js';
import { openClone, requireClone, type GitRepo } from '../git/repo.js';
import {
  commitRestored,
  isMessageId,
  restoreFromBundles,
  restoreFromHistory,
  type RestoreOptions,
  type RestoreResult,
} from '../coordinator/restore.js';
import { runDaemon } from '../coordinator/daemon.js';
import { lockDaemon, lockMachine } from '../coordinator/lock.js';
import { localStateDir, readState, writeState } from '../sharedState/localState.js';
import { z } from 'zod';
import { diskCheckTask, healthTask } from '../tasks/healthTasks.js';
import { fleetStatus, renderFleetStatus } from '../report/fleetStatus.js';
import { UsageError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { resolveIdentity, type Identity } from '../sharedState/identity.js';
import { loadResolvedConfig, type ResolvedConfig } from '../config/load.js';
import { STARTER_CONFIG } from '../config/starter.js';
import { selectTasks } from '../tasks/registry.js';
import { tick } from '../coordinator/tick.js';
import { leaseStatus, releaseLease } from '../coordinator/leader.js';
import { ttyProgress } from './progress.js';
import { renderTask, renderTotals } from './render.js';
import type { ParsedArgs } from './args.js';

export interface CliEnv {
  args: ParsedArgs;
  env: NodeJS.ProcessEnv;
  cwd: string;
  log: Logger;
  now: () => number;
}

/** What a command produced: the exit code, the one JSON document for --json, the lines for a person. */
export interface Outcome {
  exitCode: number;
  doc: Record<string, unknown>;
  lines: string[];
}

export interface CommandSpec {
  words: string[];
  usage: string;
  summary: string;
  handler: (cli: CliEnv) => Promise<Outcome>;
}

function identityOf(cli: CliEnv): Identity {
  return resolveIdentity({
    sharedStateFlag: cli.args.global.sharedState,
    machineFlag: cli.args.global.machine,
    configFlag: cli.args.global.config,
    env: cli.env,
    cwd: cli.cwd,
  });
}

async function load(cli: CliEnv): Promise<{ identity: Identity; config: ResolvedConfig }> {
  const identity = identityOf(cli);
  const config = await loadResolvedConfig(identity.configPath.value, identity.sharedState.value);
  return { identity, config };
}

async function runCommand(cli: CliEnv): Promise<Outcome> {
  const { global } = cli.args;
  const { identity, config } = await load(cli);
  const names = cli.args.tasks.length > 0 ? selectTasks(cli.args.tasks) : undefined;
  const r = await tick({
    sharedState: identity.sharedState.value,
    machineId: identity.machineId.value,
    config,
    env: cli.env,
    log: cli.log,
    clock: cli.now,
    tasks: names,
    dryRun: global.dryRun,
    noSync: global.noSync,
    leaderFlag: global.leader,
    wait: cli.args.wait,
    progress: ttyProgress(),
    version: packageVersion(),
    ...(cli.env.ROOSYNC_MAINT_FAULT && { fault: cli.env.ROOSYNC_MAINT_FAULT }),
  });
  const failed = r.tasks.some((t) => t.status === 'failed');
  const role = r.leader.isLeader ? `leader${r.leader.term ? ` (term ${r.leader.term})` : ''}` : 'follower';
  const head = `roosync-maint run on ${identity.machineId.value}${global.dryRun ? ' (dry run)' : ''} — shared state ${identity.sharedState.value}`;
  const sync = global.noSync
    ? 'no sync'
    : r.offline
      ? `OFFLINE: ${r.offlineReason}`
      : `${r.pushed ? 'pushed' : 'not pushed'}${r.pushRetries ? ` after ${r.pushRetries} lost races` : ''}`;
  return {
    exitCode: failed ? 1 : 0,
    doc: { command: 'run', ok: !failed, sharedState: identity.sharedState.value, ...r },
    lines: [
      head,
      `${role}: ${r.leader.reason} — ${sync}`,
      ...(r.schedule
        ? [
            `due: ${
              r.schedule
                .filter((d) => d.due)
                .map((d) => d.task)
                .join(', ') || 'nothing'
            }`,
          ]
        : []),
      ...r.notes.map((n) => `note: ${n}`),
      ...config.skipped.map((s) => `note: ${s.where}: ${s.message}`),
      ...r.tasks.flatMap(renderTask),
      renderTotals(r.tasks, global.dryRun),
    ],
  };
}

async function leaderStatus(cli: CliEnv): Promise<Outcome> {
  const { identity, config } = await load(cli);
  const s = await leaseStatus({
    sharedState: identity.sharedState.value,
    machineId: identity.machineId.value,
    config,
    env: cli.env,
    log: cli.log,
    now: cli.now(),
    fetch: !cli.args.global.noSync,
  });
  return { exitCode: 0, doc: { command: 'leader status', ...s }, lines: s.lines };
}

async function leaderRelease(cli: CliEnv): Promise<Outcome> {
  const { identity, config } = await load(cli);
  const r = await releaseLease({
    sharedState: identity.sharedState.value,
    machineId: identity.machineId.value,
    config,
    env: cli.env,
    log: cli.log,
    clock: cli.now,
    wait: cli.args.wait,
    dryRun: cli.args.global.dryRun,
  });
  return {
    exitCode: r.released || cli.args.global.dryRun ? 0 : 1,
    doc: { command: 'leader release', ...r },
    lines: [r.reason],
  };
}

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
  const logFile = path.join(os.tmpdir(), 'roosync-maint.log');
  const entry = scheduleEntry({
    kind,
    node: process.execPath,
    bin,
    sharedState: identity.sharedState.value,
    machineId: identity.machineId.value,
    tickMinutes: config.config.schedule.tickMinutes,
    logFile,
  });
  return { exitCode: 0, doc: { command: 'schedule print', for: kind, entry }, lines: [entry] };
}

async function statusCommand(cli: CliEnv): Promise<Outcome> {
  const { identity, config } = await load(cli);
  const s = fleetStatus(identity.sharedState.value, config.config, cli.now());
  return {
    exitCode: 0,
    doc: { command: 'status', sharedState: identity.sharedState.value, ...s },
    lines: [`fleet status from ${identity.sharedState.value} (as of this clone's last sync)`, ...renderFleetStatus(s)],
  };
}

async function hooksCommand(cli: CliEnv, action: 'install' | 'uninstall' | 'status'): Promise<Outcome> {
  const { identity, config } = await load(cli);
  const repo = await requireClone(
    identity.sharedState.value,
    identity.machineId.value,
    config.config,
    'nowhere to install git hooks',
    'use an OS schedule instead: roosync-maint schedule print --for …',
  );
  if (action === 'status') {
    const states = await hookStates(repo);
    return {
      exitCode: 0,
      doc: { command: 'hooks status', hooks: states },
      lines: states.map(
        (s) =>
          `${s.hook}: ${s.state === 'ours' ? 'installed' : s.state === 'other' ? 'another hook (not ours)' : 'not installed'}${s.chained ? ' (chains an earlier hook)' : ''} — ${s.file}`,
      ),
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

async function restoreCommand(cli: CliEnv): Promise<Outcome> {
  const target = cli.args.command[1];
  if (!target)
    throw new UsageError({
      where: 'restore',
      message: 'name what to restore',
      hint: 'roosync-maint restore <message-id | path>',
    });
  const { identity, config } = await load(cli);
  const shared = identity.sharedState.value;
  const machineId = identity.machineId.value;
  const dryRun = cli.args.global.dryRun;
  const repo = await openClone(shared, machineId, config.config);
  const lock = await lockMachine(shared, repo?.gitDir, cli.env, cli.args.wait);
  try {
    const r = await restoreTarget(repo, shared, target, {
      machineId,
      dryRun,
      pushAttempts: config.config.git.pushAttempts,
    });
    const from = r.fromCommit.startsWith('purge bundle') ? r.fromCommit : `${r.fromCommit}^`;
    const done = `${dryRun ? 'would restore' : 'restored'} ${r.restored.join(', ')} from ${from}${r.pushed ? ', committed and pushed' : ''}`;
    const lines = [r.restored.length ? done : 'nothing to restore', ...(r.note ? [`note: ${r.note}`] : [])];
    return { exitCode: 0, doc: { command: 'restore', target, ...r }, lines };
  } finally {
    await lock.release();
  }
}

/** A message comes back from a purge bundle if one holds it, else from git history; a path only from git history. */
async function restoreTarget(
  repo: GitRepo | undefined,
  shared: string,
  target: string,
  o: RestoreOptions,
): Promise<RestoreResult> {
  const fromBundle = isMessageId(target) ? restoreFromBundles(shared, target, o.dryRun) : undefined;
  if (fromBundle && repo && !o.dryRun && fromBundle.restored.length > 0)
    return commitRestored(repo, fromBundle, target, o);
  if (fromBundle) return fromBundle;
  if (repo) return restoreFromHistory(repo, shared, target, o);
  const what = isMessageId(target)
    ? 'no purge bundle in messages/purged/ holds it'
    : 'a path can only come back from git history';
  throw new UsageError({
    where: target,
    message: `cannot be restored here: ${what}`,
    hint: 'check the id (roosync-maint run --json lists purged ids)',
  });
}

async function daemonCommand(cli: CliEnv): Promise<Outcome> {
  const { identity, config } = await load(cli);
  const shared = identity.sharedState.value;
  const repo = cli.args.global.noSync ? undefined : await openClone(shared, identity.machineId.value, config.config);
  const only = await lockDaemon(shared, repo?.gitDir, cli.env);
  const stopSignal = new Promise<string>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve(sig));
  });
  const onReload = (reload: () => void) => process.on('SIGHUP', reload);
  cli.log.info({ machine: identity.machineId.value, sharedState: shared }, 'daemon started');
  try {
    const stats = await runDaemon({
      sharedState: shared,
      machineId: identity.machineId.value,
      configFile: identity.configPath.value,
      config,
      env: cli.env,
      log: cli.log,
      clock: cli.now,
      noSync: cli.args.global.noSync,
      leaderFlag: cli.args.global.leader,
      version: packageVersion(),
      stopSignal,
      onReload,
    });
    cli.log.flush();
    return {
      exitCode: 0,
      doc: { command: 'daemon', ...stats },
      lines: [`daemon stopped after ${stats.ticks} ticks${stats.released ? '; lease released' : ''}`],
    };
  } finally {
    process.removeAllListeners('SIGHUP');
    await only.release();
  }
}

async function healthCommand(cli: CliEnv): Promise<Outcome> {
  const { identity, config } = await load(cli);
  const repo = await openClone(identity.sharedState.value, identity.machineId.value, config.config);
  let offline: string | undefined;
  if (repo && !cli.args.global.noSync)
    await repo.fetch().catch((err: unknown) => (offline = err instanceof Error ? err.message : String(err)));
  const ctx = {
    sharedState: identity.sharedState.value,
    env: cli.env,
    machineId: identity.machineId.value,
    config,
    now: cli.now(),
    dryRun: true,
    log: cli.log,
    progress: ttyProgress(),
    version: packageVersion(),
    ...(repo && { git: { repo, ...(offline && { offline }) } }),
  };
  const results = [await healthTask.run(ctx), await diskCheckTask.run(ctx)];
  const checks = results.flatMap((r) => r.checks ?? []);
  const stateDir = localStateDir(identity.sharedState.value, repo?.gitDir, cli.env);
  const historyFile = path.join(stateDir, 'health-history.json');
  const history = readState(historyFile, z.array(z.unknown()), cli.log) ?? [];
  writeState(
    historyFile,
    [
      ...history,
      {
        at: new Date(cli.now()).toISOString(),
        checks: checks.map((c) => ({ check: c.check, subject: c.subject, state: c.state })),
      },
    ].slice(-100),
  );
  const failing = checks.filter((c) => c.state === 'failing');
  const mark = { ok: 'ok  ', failing: 'FAIL', skipped: 'skip' } as const;
  return {
    exitCode: 0,
    doc: { command: 'health', ok: failing.length === 0, checks },
    lines: [
      ...checks.map((c) => `${mark[c.state]}  ${c.check.padEnd(15)} ${c.summary}`),
      failing.length
        ? `${failing.length} failing (alerts are raised by the ticks, after ${config.config.alerts.failureThreshold} consecutive failures)`
        : 'all checks pass',
    ],
  };
}

async function configValidate(cli: CliEnv): Promise<Outcome> {
  const { identity, config } = await load(cli);
  const file = identity.configPath.value;
  const lines = [config.found ? `${file}: valid` : `${file}: not found — the defaults apply (valid)`];
  lines.push(...config.skipped.map((s) => `note: ${s.where}: ${s.message}`));
  return {
    exitCode: 0,
    doc: { command: 'config validate', ok: true, file, found: config.found, skipped: config.skipped },
    lines,
  };
}

async function configShow(cli: CliEnv): Promise<Outcome> {
  const { identity, config } = await load(cli);
  const resolved = {
    checkpointRoots: config.checkpointRoots,
    localLogDirs: config.localLogDirs,
    localBackupFiles: config.localBackupFiles,
    mcpSettingsPath: config.mcpSettingsPath,
    depsDirs: config.depsDirs,
    rules: config.rules.map((r) => ({ name: r.name, root: r.rootPath })),
  };
  const sources = {
    sharedState: identity.sharedState,
    machineId: identity.machineId,
    config: {
      value: identity.configPath.value,
      source: `${identity.configPath.source}${config.found ? '' : ' — file not found, defaults apply'}`,
    },
  };
  const lines = [
    `shared state: ${sources.sharedState.value}   (from ${sources.sharedState.source})`,
    `machine id:   ${sources.machineId.value}   (from ${sources.machineId.source})${identity.machineId.value.startsWith('myia-') ? '' : ' — note: RooSync status views only count ids starting with myia-'}`,
    `config:       ${sources.config.value}   (from ${sources.config.source})`,
    ...config.skipped.map((s) => `note: ${s.where}: ${s.message}`),
    '',
    'effective config:',
    JSON.stringify(config.config, null, 2),
    '',
    'resolved on this machine:',
    JSON.stringify(resolved, null, 2),
  ];
  return {
    exitCode: 0,
    doc: { command: 'config show', sources, config: config.config, resolved, skipped: config.skipped },
    lines,
  };
}

async function configInit(cli: CliEnv): Promise<Outcome> {
  const identity = identityOf(cli);
  const file = identity.configPath.value;
  if (cli.args.global.dryRun)
    return {
      exitCode: 0,
      doc: { command: 'config init', file, written: false, content: STARTER_CONFIG },
      lines: [`would write ${file}:`, STARTER_CONFIG],
    };
  if (existsSync(file) && !cli.args.force)
    throw new UsageError({
      where: file,
      message: 'already exists: not overwritten',
      hint: 'pass --force to replace it, or edit it and run config validate',
    });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, STARTER_CONFIG, 'utf8');
  await rename(tmp, file);
  return {
    exitCode: 0,
    doc: { command: 'config init', file, written: true },
    lines: [`wrote ${file} — edit it, then run: roosync-maint config validate`],
  };
}

async function demoCommand(cli: CliEnv): Promise<Outcome> {
  // The demo's story is on stdout; per-task info logs would drown it unless asked for.
  const log = cli.args.global.logLevel === 'info' && !cli.env.ROOSYNC_MAINT_LOG_LEVEL ? createLogger('warn') : cli.log;
  const { runDemo } = await import('../demo/demo.js');
  return runDemo({ keep: cli.args.keep, log, now: cli.now(), env: cli.env });
}

export const COMMANDS: CommandSpec[] = [
  {
    words: ['run'],
    usage: 'run [--task NAME]... [--wait]',
    summary: 'one maintenance tick: the due tasks, or the named tasks/groups now (health, update, cleanup, fleet, all)',
    handler: runCommand,
  },
  {
    words: ['daemon'],
    usage: 'daemon',
    summary:
      'long-running coordinator: ticks on its schedule, reloads the config, releases the lease on SIGINT/SIGTERM',
    handler: daemonCommand,
  },
  { words: ['status'], usage: 'status', summary: 'fleet view: leader, machines, KPIs', handler: statusCommand },
  {
    words: ['health'],
    usage: 'health',
    summary: 'run the health checks now and print them (MCP servers, git, tokens, disk)',
    handler: healthCommand,
  },
  {
    words: ['leader', 'status'],
    usage: 'leader status',
    summary: 'show the lease and how this machine judges it',
    handler: leaderStatus,
  },
  {
    words: ['leader', 'release'],
    usage: 'leader release',
    summary: 'give up the lease (holder only)',
    handler: leaderRelease,
  },
  {
    words: ['hooks', 'install'],
    usage: 'hooks install',
    summary: 'install the git hooks in the shared-state clone (post-merge, post-rewrite, post-checkout)',
    handler: (cli) => hooksCommand(cli, 'install'),
  },
  {
    words: ['hooks', 'uninstall'],
    usage: 'hooks uninstall',
    summary: 'remove our hooks, restoring any chained hook',
    handler: (cli) => hooksCommand(cli, 'uninstall'),
  },
  {
    words: ['hooks', 'status'],
    usage: 'hooks status',
    summary: 'show which hooks are installed',
    handler: (cli) => hooksCommand(cli, 'status'),
  },
  {
    words: ['config', 'validate'],
    usage: 'config validate',
    summary: 'check the config; every problem names its JSON path',
    handler: configValidate,
  },
  {
    words: ['config', 'show'],
    usage: 'config show',
    summary: 'print the effective config and where each setting came from',
    handler: configShow,
  },
  {
    words: ['config', 'init'],
    usage: 'config init [--force]',
    summary: 'write a commented starter config',
    handler: configInit,
  },
  {
    words: ['schedule', 'print'],
    usage: 'schedule print --for windows|systemd|cron',
    summary: 'print the OS scheduler entry for this machine',
    handler: schedulePrint,
  },
  {
    words: ['restore'],
    usage: 'restore <message-id | path>',
    summary: 'bring back what a task removed: a message from its purge bundle or git history, a path from git history',
    handler: restoreCommand,
  },
  {
    words: ['demo'],
    usage: 'demo [--keep]',
    summary: 'build a throw-away aged shared state in a temp dir and run the cleanup on it',
    handler: demoCommand,
  },
];

export function findCommand(positionals: readonly string[]): { spec: CommandSpec; rest: string[] } | undefined {
  const spec = COMMANDS.filter((c) => c.words.every((w, i) => positionals[i] === w)).sort(
    (a, b) => b.words.length - a.words.length,
  )[0];
  return spec ? { spec, rest: positionals.slice(spec.words.length) } : undefined;
}
