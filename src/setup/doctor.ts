import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { configLayersFor, localStateDir } from '../sharedState/localState.js';
import { DAEMON_DEATH_FILE } from '../coordinator/daemon.js';
import { loadResolvedConfig, type ResolvedConfig } from '../config/load.js';
import { trustNotice } from '../config/layers.js';
import { defaultExpandContext } from '../config/paths.js';
import { errorMessage, SetupError, UsageError } from '../errors.js';
import type { GitRepo } from '../git/repo.js';
import { openSession } from '../coordinator/session.js';
import { readMcpSettings } from '../health/mcp.js';
import { resolveIdentity, type Identity } from '../sharedState/identity.js';
import { formatDuration, formatTime } from '../util/format.js';
import { MINUTE_MS } from '../util/time.js';
import { silentAfterMinutes } from '../report/fleetStatus.js';
import { ageClockMargin, clockEvidence, fleetAgeClock } from '../report/fleetClock.js';
import { probeWritable, unlessMissing } from '../util/fs.js';
import { hookStates } from './hooks.js';
import { type ScheduleState, scheduleState, scheduleTargetFor } from './scheduleInstall.js';

/**
 * `doctor`: is this machine set up? One line per check, each failure with its fix. It reads and asks,
 * never changes anything, and goes as far as it can: a missing config does not hide a missing remote.
 */

export interface DoctorCheck {
  check: string;
  state: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

export interface DoctorInputs {
  flags: { sharedState?: string; machine?: string; config?: string };
  env: NodeJS.ProcessEnv;
  cwd: string;
  now: number;
  /** The CLI's own path, for the schedule entry it would install. */
  bin: string;
  /** Off with --no-sync: the remote is not asked. */
  sync: boolean;
}

/** A clock this far behind the newest commit on the remote is skewed (commits carry their writer's time). */
export const SKEW_TOLERANCE_MS = 2 * 60_000;

const problemText = (err: unknown) =>
  err instanceof UsageError ? err.problems.map((p) => `${p.where}: ${p.message}`).join('; ') : errorMessage(err);

export async function runDoctor(i: DoctorInputs): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  let identity: Identity;
  try {
    identity = resolveIdentity({
      sharedStateFlag: i.flags.sharedState,
      machineFlag: i.flags.machine,
      configFlag: i.flags.config,
      env: i.env,
      cwd: i.cwd,
    });
  } catch (err) {
    const fix = 'run from inside the clone, or pass --shared-state <dir>, or set ROOSYNC_SHARED_PATH';
    return [{ check: 'shared state', state: 'fail', detail: problemText(err), fix }];
  }
  const shared = identity.sharedState.value;
  const machineId = identity.machineId.value;
  checks.push({ check: 'shared state', state: 'ok', detail: `${shared} (${identity.sharedState.source})` });
  checks.push({ check: 'machine id', state: 'ok', detail: `${machineId} (${identity.machineId.source})` });

  const config = await configCheck(identity, i.env, checks);
  const git = config?.config.git ?? { timeoutSeconds: 60 };
  const { repo } = await openSession({ sharedState: shared, machineId, git, env: i.env });
  checks.push(
    repo
      ? { check: 'git clone', state: 'ok', detail: `${repo.top} (git dir ${repo.gitDir})` }
      : {
          check: 'git clone',
          state: 'warn',
          detail: 'a plain folder: runs use --no-sync, no election, nothing shared',
          fix: 'clone the fleet repository and point --shared-state at its .shared-state',
        },
  );
  const stuck = repo?.unfinishedOperation();
  if (repo && stuck) {
    const verb = stuck.what === 'a merge' ? 'merge' : stuck.what === 'a cherry-pick' ? 'cherry-pick' : 'rebase';
    const since = formatTime(stuck.since);
    const git = (what: string) => `git -C ${repo.top} ${verb} --${what}`;
    checks.push({
      check: 'clone state',
      state: 'fail',
      detail: `${stuck.what} is in progress in this clone (since ${since}): no sync until it ends`,
      fix: `finish it (${git('continue')}) or abort it (${git('abort')}); a tick aborts one left for 10 minutes`,
    });
  }
  checks.push(await remoteCheck(repo, i, config, stuck !== undefined));
  checks.push(writableCheck(shared, repo));
  checks.push(await automationCheck(repo, i, identity, config));
  checks.push(mcpSettingsCheck(config));
  const heartbeatMinutes = config?.config.schedule.heartbeatMinutes ?? 240;
  const tickMinutes = config?.config.schedule.tickMinutes ?? 15;
  checks.push(await clockCheck(repo, i, silentAfterMinutes(heartbeatMinutes, tickMinutes) * MINUTE_MS));
  checks.push(fleetClockCheck(shared, machineId, i.now, heartbeatMinutes));
  const death = daemonDeath(localStateDir(shared, repo?.gitDir, i.env));
  if (death)
    checks.push({
      check: 'daemon',
      state: 'fail',
      detail: death,
      fix: 'start it again (roosync-maint daemon, or its service); roosync-maint.log in the local state folder has the rest',
    });
  return checks;
}

/** How the last daemon on this machine died, if one did and none has started since: one line. */
export function daemonDeath(stateDir: string): string | undefined {
  const text = unlessMissing(() => readFileSync(path.join(stateDir, DAEMON_DEATH_FILE), 'utf8'), undefined);
  if (text === undefined) return undefined;
  try {
    const d = JSON.parse(text) as { at?: string; error?: string };
    return `the daemon died at ${d.at}: ${String(d.error ?? '').split('\n')[0]}`;
  } catch {
    return 'the daemon died (its note is unreadable)';
  }
}

/** This clock against what other machines wrote in the shared state (status files, lease, messages). */
export function fleetClockCheck(sharedState: string, machineId: string, now: number, heartbeatMinutes: number) {
  const evidence = clockEvidence(sharedState, machineId, now);
  if (evidence.length === 0)
    return { check: 'fleet clock', state: 'skip' as const, detail: 'no other machine has written here yet' };
  const judged = fleetAgeClock(now, evidence, ageClockMargin(heartbeatMinutes));
  if (judged.capped)
    return {
      check: 'fleet clock',
      state: 'fail' as const,
      detail: judged.capped,
      fix: 'turn on time sync (timedatectl set-ntp true; on Windows: w32tm /resync); until then fleet tasks delete less',
    };
  const newest = Math.max(...evidence.map((e) => e.ms));
  const lead = now - newest;
  const detail =
    lead >= 0
      ? `within the fleet's: its newest evidence is ${formatDuration(lead)} old`
      : `the fleet's newest evidence is ${formatDuration(-lead)} in this machine's future`;
  return { check: 'fleet clock', state: 'ok' as const, detail };
}

async function configCheck(identity: Identity, env: NodeJS.ProcessEnv, checks: DoctorCheck[]) {
  const file = identity.configPath.value;
  try {
    const config = await loadResolvedConfig(
      file,
      identity.sharedState.value,
      defaultExpandContext(env),
      configLayersFor(identity.sharedState.value, identity.machineConfig.value, env),
    );
    const detail = existsSync(file) ? `${file} is valid` : `no ${file}: the defaults apply`;
    checks.push({ check: 'config', state: 'ok', detail });
    const notice = trustNotice(config.layers.trust);
    const machine = config.layers.machineFound ? `machine config ${config.layers.machineFile}` : 'no machine config';
    checks.push(
      notice.length > 0
        ? { check: 'config trust', state: 'warn', detail: notice.join('; '), fix: 'roosync-maint config trust' }
        : { check: 'config trust', state: 'ok', detail: `every setting in effect is approved (${machine})` },
    );
    return config;
  } catch (err) {
    checks.push({ check: 'config', state: 'fail', detail: problemText(err), fix: 'roosync-maint config validate' });
    return undefined;
  }
}

async function remoteCheck(
  repo: GitRepo | undefined,
  i: DoctorInputs,
  config: ResolvedConfig | undefined,
  midOperation = false,
): Promise<DoctorCheck> {
  if (!repo) return { check: 'remote', state: 'skip', detail: 'not a git clone' };
  if (!i.sync) return { check: 'remote', state: 'skip', detail: '--no-sync' };
  const upstream = await repo.upstream();
  try {
    await repo.fetch();
  } catch (err) {
    const timeout = config?.config.git.timeoutSeconds ?? 60;
    return {
      check: 'remote',
      state: 'fail',
      detail: `git fetch failed: ${errorMessage(err).split('\n')[0]}`,
      fix: `check the network and credentials: git -C ${repo.top} fetch (timeout ${timeout} s)`,
    };
  }
  // mid-rebase HEAD is detached: no upstream to name, and --set-upstream-to would be the wrong advice
  if (!upstream && midOperation)
    return {
      check: 'remote',
      state: 'ok',
      detail: 'reachable (the branch is checked again once the clone is back on it)',
    };
  if (!upstream)
    return {
      check: 'remote',
      state: 'warn',
      detail: 'reachable, but this branch tracks no remote branch',
      fix: `git -C ${repo.top} branch --set-upstream-to origin/<branch>`,
    };
  return { check: 'remote', state: 'ok', detail: `reachable; this branch tracks ${upstream}` };
}

function writableCheck(shared: string, repo: GitRepo | undefined): DoctorCheck {
  for (const dir of [shared, ...(repo ? [repo.gitDir] : [])]) {
    const problem = probeWritable(dir);
    if (problem)
      return {
        check: 'writable',
        state: 'fail',
        detail: `${dir} is not writable (${problem.code})`,
        fix: 'give this user write access (owner, permissions, a read-only mount)',
      };
  }
  return { check: 'writable', state: 'ok', detail: repo ? 'the shared state and its git dir' : 'the shared state' };
}

/** Hooks or an OS schedule: without either nothing runs roosync-maint on this machine but a person. */
async function automationCheck(
  repo: GitRepo | undefined,
  i: DoctorInputs,
  identity: Identity,
  config: ResolvedConfig | undefined,
): Promise<DoctorCheck> {
  const hooks = repo ? (await hookStates(repo)).filter((h) => h.state === 'ours').map((h) => h.hook) : [];
  const target = scheduleTargetFor({
    sharedState: identity.sharedState.value,
    machineId: identity.machineId.value,
    tickMinutes: config?.config.schedule.tickMinutes ?? 15,
    gitDir: repo?.gitDir,
    bin: i.bin,
    env: i.env,
    dryRun: true,
  });
  const kind = target.entry.kind;
  let state: ScheduleState | undefined;
  let unusable: string | undefined; // why this machine's scheduler could not be asked
  try {
    state = await scheduleState(target);
  } catch (err) {
    unusable = err instanceof SetupError ? err.problems[0]?.message : problemText(err);
  }
  const schedule = state
    ? !state.installed
      ? 'not installed'
      : state.disabled
        ? `installed, but ${state.disabled.why}`
        : state.current
          ? 'installed'
          : 'installed but out of date'
    : `unknown: ${unusable}`;
  const detail = `${kind} schedule ${schedule}; hooks ${hooks.length ? hooks.join(', ') : 'not installed'}`;
  if (state?.disabled && !hooks.length) return { check: 'automation', state: 'fail', detail, fix: state.disabled.fix };
  if ((state?.current && !state.disabled) || hooks.length) return { check: 'automation', state: 'ok', detail };
  return {
    check: 'automation',
    state: 'warn',
    detail: `${detail}: only a person runs roosync-maint here`,
    fix: state
      ? `roosync-maint schedule install${state.installed ? ` --for ${kind}` : ''}`
      : `roosync-maint hooks install, or roosync-maint schedule install --for <another scheduler> (${kind}: ${unusable})`,
  };
}

function mcpSettingsCheck(config: ResolvedConfig | undefined): DoctorCheck {
  const file = config?.mcpSettingsPath;
  if (!config) return { check: 'MCP settings', state: 'skip', detail: 'the config did not load' };
  if (!file || !existsSync(file))
    return {
      check: 'MCP settings',
      state: 'warn',
      detail: `no ${file ?? 'health.mcpSettingsPath'}: the MCP health check will skip`,
      fix: "set health.mcpSettingsPath in the config to Roo's mcp_settings.json",
    };
  try {
    const servers = readMcpSettings(file);
    return { check: 'MCP settings', state: 'ok', detail: `${file}: ${servers.length} stdio servers to probe` };
  } catch (err) {
    return { check: 'MCP settings', state: 'fail', detail: errorMessage(err), fix: `fix the JSON of ${file}` };
  }
}

/**
 * The remote's newest commit was made on another machine's clock: one from our future means ours is behind;
 * one older than the fleet's heartbeats allow means the fleet stopped, or this clock is ahead.
 */
export function judgeSkew(
  newestCommitMs: number | undefined,
  now: number,
  quietMaxMs = Number.POSITIVE_INFINITY,
): DoctorCheck {
  if (newestCommitMs === undefined)
    return { check: 'clock', state: 'skip', detail: 'the remote has no commit on this branch yet' };
  const ahead = newestCommitMs - now;
  if (-ahead > quietMaxMs)
    return {
      check: 'clock',
      state: 'warn',
      detail:
        `the remote's newest commit is ${formatDuration(-ahead)} old, older than the fleet's heartbeats allow ` +
        `(${formatDuration(quietMaxMs)}): either no machine has ticked since, or this clock is ahead`,
      fix: 'check this clock (timedatectl; on Windows: w32tm /query /status) and roosync-maint status',
    };
  if (ahead > SKEW_TOLERANCE_MS)
    return {
      check: 'clock',
      state: 'fail',
      detail: `the remote's newest commit is ${formatDuration(ahead)} in this machine's future: this clock is behind`,
      fix: 'turn on time sync (timedatectl set-ntp true; on Windows: w32tm /resync); leases and ages depend on it',
    };
  return {
    check: 'clock',
    state: 'ok',
    detail: `no skew seen (the remote's newest commit is ${formatDuration(-ahead)} old)`,
  };
}

async function clockCheck(repo: GitRepo | undefined, i: DoctorInputs, quietMaxMs: number): Promise<DoctorCheck> {
  if (!repo) return { check: 'clock', state: 'skip', detail: 'not a git clone: no other machine to compare with' };
  const upstream = await repo.upstream();
  if (!upstream)
    return { check: 'clock', state: 'skip', detail: 'this branch tracks no remote branch: no commit to compare with' };
  return judgeSkew(await repo.commitTime(upstream), i.now, quietMaxMs);
}
