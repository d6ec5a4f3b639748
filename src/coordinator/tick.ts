import type { MachineContext } from './machine.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { GitFailure } from '../git/classify.js';
import type { GitRepo } from '../git/repo.js';
import { recoverStaleIndexLock } from '../git/indexLock.js';
import { Elector, judgeLease, renewed } from '../election/elector.js';
import { fileObservationStore } from '../election/observations.js';
import { GitLeaseStore } from '../election/gitLeaseStore.js';
import { decidePlainLease } from '../election/plainLease.js';
import { readLeaseFile, writeLeaseFile } from '../election/lease.js';
import { LEASE_FILE, type LeaseRecord } from '../election/lease.js';
import { findGitDir } from '../sharedState/localState.js';
import { readStatus, statusFileRel, statusWorthCommitting, writeStatus, type MachineStatus } from '../report/status.js';
import { accumulate, emptyDigestState, digestDue, digestMessage, digestStore } from '../report/digest.js';
import { fleetStatus } from '../report/fleetStatus.js';
import { sendMessage } from '../roosync/send.js';
import { deliverAlerts } from '../alerts/deliver.js';
import { messageDirs } from '../roosync/layout.js';
import { TASKS, type TaskName } from '../config/taskCatalogue.js';
import type { Progress, TaskResult } from '../tasks/types.js';
import type { RunLock } from './lock.js';
import { type MachineSession, openCloneSession, openSession } from './session.js';
import { dueTasks, ranToEnd, recordRuns, scheduleStore } from './schedule.js';
import { QUIET_FILE } from './quiet.js';
import { recordQuietTick } from './quietRecord.js';
import { unlessMissing, unlinkIfPresent } from '../util/fs.js';
import { checkConfig, checkTrust } from '../health/checks.js';
import { invalidConfigNote, type GuardedConfig } from './configGuard.js';
import type { ResolvedConfig } from '../config/load.js';
import { trustNotice } from '../config/layers.js';
import { AVAILABLE_TASKS } from '../tasks/registry.js';
import { commitReady, pushPolicy, pushUntilLanded, syncWithFence } from './sync.js';
import { MINUTE_MS } from '../util/time.js';
import { runTasks } from './runTasks.js';

type Resolved<T> = Omit<T, 'tasks'> & { tasks: TaskName[] };

export interface TickOptions extends MachineContext {
  /** The tasks to run now; `undefined` = the tasks that are due by the schedule. */
  tasks: TaskName[] | undefined;
  dryRun: boolean;
  noSync: boolean;
  /** With noSync: act as leader on a plain folder. */
  leaderFlag: boolean;
  wait: boolean;
  progress: Progress;
  version: string;
  /** Files this machine wrote outside the tick (an alert the daemon sent) to commit with it. */
  extraPaths?: string[];
  /** The config file is invalid: what is wrong, and what this run uses instead (configGuard.ts). */
  configInvalid?: GuardedConfig['invalid'];
  /** Loads the config again, guarded: after the sync, when the pull changed it, the new one applies at once. */
  reloadConfig?: () => Promise<GuardedConfig>;
  /** Test hook: SIGKILL this process right before the final push (`kill-before-push`). */
  fault?: string;
}

export interface TickResult {
  machine: string;
  dryRun: boolean;
  offline: boolean;
  offlineReason?: string;
  leader: { isLeader: boolean; term: number | null; reason: string };
  tasks: TaskResult[];
  /** With no --task: which tasks were due and why. */
  schedule?: { task: string; due: boolean; reason: string }[];
  committed: boolean;
  pushed: boolean;
  pushRetries: number;
  notes: string[];
  /** What this tick could not write (a full disk, a broken file): the run failed, though its tasks may not have. */
  unwritten?: string[];
  /** The config file is invalid (the run went on with its last valid config, or the defaults and no task). */
  configInvalid?: string;
  /** What of the fleet config this machine does not obey (not approved, or machine config only). */
  untrusted?: string[];
}

/** The top folders of the shared state that fleet tasks changed (or, at the top level, the exact files). */
export function fleetChangedPaths(sharedState: string, results: readonly TaskResult[]): string[] {
  const paths = new Set<string>();
  for (const r of results) {
    if (TASKS[r.task] !== 'fleet') continue;
    for (const rule of r.rules) {
      if (rule.acted === 0) continue;
      const rel = path.relative(sharedState, rule.root).split(path.sep).join('/');
      if (rel === '') for (const a of rule.actions) if (a.verdict !== 'keep' && a.verdict !== 'skip') paths.add(a.rel);
      if (rel !== '') paths.add(rel.split('/')[0]!);
    }
  }
  return [...paths];
}

/**
 * One coordinator tick: this machine's lock → sync → election → tasks (local always, fleet
 * only as a leader whose lease write landed) → status file → one commit carrying the status,
 * the fleet changes and the lease renewal → push. A push that lost the race is fetched, fenced
 * and rebased, then retried; when the fence finds another machine holding the lease, the fleet
 * work is dropped, never pushed, and only the status file goes out.
 */
export async function tick(o: TickOptions): Promise<TickResult> {
  const spec = { sharedState: o.sharedState, machineId: o.machineId, git: o.config.config.git, env: o.env };
  const session = o.noSync
    ? await openSession({ ...spec, noSync: true })
    : await openCloneSession(
        spec,
        'nothing to sync or elect through',
        'run with --no-sync (and --leader to run fleet tasks on a plain folder)',
      );
  return session.withRunLock(o.wait, (lock) => tickLocked(o, session, lock));
}

async function tickLocked(o: TickOptions, session: MachineSession, lock: RunLock): Promise<TickResult> {
  const { repo, stateDir } = session;
  const result: TickResult = {
    machine: o.machineId,
    dryRun: o.dryRun,
    offline: false,
    leader: { isLeader: false, term: null, reason: '' },
    tasks: [],
    committed: false,
    pushed: false,
    pushRetries: 0,
    notes: [],
  };
  const schedule = scheduleStore(stateDir, o.log);
  const state = schedule.load();
  const decisions = o.tasks ? undefined : dueTasks(AVAILABLE_TASKS, state, o.clock(), o.config.config);
  if (decisions) result.schedule = decisions;
  const tasks: TaskName[] = o.tasks ?? decisions!.filter((d) => d.due).map((d) => d.task);
  const run = { ...o, tasks };
  // a record of a clean tick is only ever the last full tick's: gone before this one acts
  if (!o.dryRun) unlinkIfPresent(path.join(stateDir, QUIET_FILE));
  const done = repo
    ? await runSynced(run, session, repo, result, lock.compromised)
    : await runLocalOnly(run, session, result);
  if (o.dryRun) return done;
  const ran = recordRuns(state, done.tasks, o.clock());
  schedule.save(ran);
  const broken = done.tasks.some((t) => t.status === 'failed' && !ranToEnd(t));
  const clean = !done.offline && !broken && !o.extraPaths?.length;
  if (repo && decisions && clean)
    await recordQuietTick(repo, stateDir, { ...o, now: o.clock(), schedule: ran, leader: done.leader });
  return done;
}

/**
 * Adds this tick to the digest totals and, when a digest is due, sends it (inbox + sent copies).
 * Returns the message files written, for the tick's commit.
 */
function sendDigestIfDue(o: Resolved<TickOptions>, stateDir: string, result: TickResult): string[] {
  if (o.dryRun) return [];
  return reportStep(result, o.log, 'digest', () => sendDigest(o, stateDir, result));
}

function sendDigest(o: Resolved<TickOptions>, stateDir: string, result: TickResult): string[] {
  const store = digestStore(stateDir, o.log);
  const now = o.clock();
  const state = accumulate(store.load(now), result.tasks);
  if (!digestDue(state, now, o.config.config.reports.digestHours)) {
    store.save(state);
    return [];
  }
  const fleet = result.leader.isLeader ? fleetStatus(o.sharedState, o.config.config, now) : undefined;
  const sent = sendMessage(
    messageDirs(o.sharedState),
    digestMessage({
      machineId: o.machineId,
      to: o.config.config.reports.to,
      now,
      state,
      leader: result.leader,
      ...(fleet && { fleet }),
    }),
    now,
  );
  store.save(emptyDigestState(now, now));
  result.notes.push(`sent the digest ${sent.id}`);
  return [`messages/inbox/${sent.id}.json`, `messages/sent/${sent.id}.json`];
}

async function runLocalOnly(
  given: Resolved<TickOptions>,
  session: MachineSession,
  result: TickResult,
): Promise<TickResult> {
  const { stateDir } = session;
  let o = given;
  if (o.configInvalid) {
    result.configInvalid = invalidConfigNote(o.config.file, o.configInvalid);
    result.notes.push(result.configInvalid);
    if (o.configInvalid.using === 'defaults') o = { ...o, tasks: [] };
  }
  noteUntrusted(o.config, result);
  result.leader = o.leaderFlag
    ? { isLeader: true, term: null, reason: '--no-sync --leader' }
    : findGitDir(o.sharedState)
      ? {
          isLeader: false,
          term: null,
          reason: 'a clone run with --no-sync: no election (only --leader runs fleet tasks)',
        }
      : electOnFolder(o, stateDir, result);
  result.tasks = await runTasks(o.tasks, taskContext(o, session), {
    isLeader: result.leader.isLeader,
    notLeaderReason: `fleet task: not the leader (${result.leader.reason})`,
  });
  if (!o.dryRun) {
    alertsOf(o, stateDir, result);
    sendDigestIfDue(o, stateDir, result);
    reportStep(result, o.log, 'status file', () => {
      writeStatus(o.sharedState, statusOf(o, result));
      return [];
    });
  }
  return result;
}

/**
 * A plain folder's election (election/plainLease.ts): read the lease, decide, write the claim or the renewal
 * (not in a dry run). The observation of the lease is kept in local state as in git mode.
 */
function electOnFolder(o: Resolved<TickOptions>, stateDir: string, result: TickResult): TickResult['leader'] {
  const observations = fileObservationStore(stateDir, o.log, o.dryRun);
  const { election, schedule } = o.config.config;
  const { decision, observation } = decidePlainLease(
    readLeaseFile(o.sharedState),
    o.machineId,
    o.clock(),
    {
      leaseSeconds: election.leaseSeconds,
      settleMs: election.settleSeconds * 1000,
      maxStepMs: 2 * schedule.tickMinutes * MINUTE_MS,
    },
    observations.load(),
  );
  observations.save(observation);
  if (decision.write && !o.dryRun)
    reportStep(result, o.log, 'lease', () => {
      writeLeaseFile(o.sharedState, decision.write as LeaseRecord);
      return [LEASE_FILE];
    });
  const unwritten = decision.write && o.dryRun ? ' (dry run: the lease file is not written)' : '';
  return { isLeader: decision.isLeader, term: decision.term, reason: `${decision.reason}${unwritten}` };
}

/** The fleet config's settings this machine ignores, said in the run's notes and its status file. */
function noteUntrusted(config: ResolvedConfig, result: TickResult): void {
  const notice = trustNotice(config.layers.trust);
  result.untrusted = notice;
  result.notes.push(...notice);
}

function taskContext(o: TickOptions, session: MachineSession, offline?: string) {
  const { config, dryRun, log, progress, version } = o;
  return session.taskContext({ config, now: o.clock(), dryRun, log, progress, version, offline });
}

/** The config file's text now (undefined: no file). */
function configText(file: string): string | undefined {
  return unlessMissing(() => readFileSync(file, 'utf8'), undefined);
}

/** Who last changed the config file, in git: `by <author> in <commit>`. */
async function configOrigin(repo: GitRepo, file: string): Promise<string | undefined> {
  const rel = path.relative(repo.top, file).split(path.sep).join('/');
  const last = await repo.lastChange(rel);
  return last && `by ${last.author} in ${last.sha}`;
}

/** Health findings → alert messages and incidents (not in a dry run); the files go into the tick's commit. */
function alertsOf(o: Resolved<TickOptions>, stateDir: string, result: TickResult): string[] {
  if (o.dryRun) return [];
  return reportStep(result, o.log, 'alerts', () => {
    const delivered = deliverAlerts(
      {
        sharedState: o.sharedState,
        machineId: o.machineId,
        config: o.config.config,
        now: o.clock(),
        stateDir,
        log: o.log,
      },
      [
        ...result.tasks.flatMap((t) => t.checks ?? []),
        // a guarded run says whether the config loaded: one alert while it is broken, [RESOLVED] once fixed
        ...(o.reloadConfig ? [checkConfig(o.config.file, o.configInvalid?.problems, result.configInvalid)] : []),
        // what of the fleet config this machine does not obey: one alert while it lasts
        checkTrust(o.config.file, o.machineId, o.config.layers.trust),
      ],
    );
    result.notes.push(...delivered.notes);
    return delivered.paths;
  });
}

/**
 * Runs one reporting step of the tick (alerts, digest). A failure there is noted and the tick goes
 * on to its commit and push: a bad file must never keep the fleet work or the status file from landing.
 */
function reportStep(result: TickResult, log: Logger, what: string, step: () => string[]): string[] {
  try {
    return step();
  } catch (err) {
    log.error({ step: what, err: errorMessage(err) }, 'report step failed');
    result.notes.push(`${what} not written this tick: ${errorMessage(err)}`);
    result.unwritten = [...(result.unwritten ?? []), `${what}: ${errorMessage(err)}`];
    return [];
  }
}

/** The fleet paths to commit: git refuses a pathspec that matches nothing (a folder removed whole was tracked). */
async function fleetPathsToCommit(sharedState: string, repo: GitRepo, tasks: readonly TaskResult[]): Promise<string[]> {
  const paths: string[] = [];
  for (const p of fleetChangedPaths(sharedState, tasks))
    if (existsSync(path.join(sharedState, p)) || (await repo.isTracked(repo.inRepo(p)))) paths.push(repo.inRepo(p));
  return paths;
}

function statusOf(o: TickOptions, r: TickResult, previous = readStatus(o.sharedState, o.machineId)): MachineStatus {
  const failed = r.tasks.filter((t) => t.status === 'failed').map((t) => t.task);
  const now = new Date(o.clock()).toISOString();
  return {
    machine: o.machineId,
    version: o.version,
    lastTickAt: now,
    heartbeatMinutes: o.config.config.schedule.heartbeatMinutes,
    lastSuccessAt: failed.length === 0 ? now : (previous?.lastSuccessAt ?? null),
    // online means this tick's fetch and rebase succeeded: that is the last successful sync
    lastSyncAt: r.offline ? (previous?.lastSyncAt ?? null) : now,
    offline: r.offline,
    leader: r.leader,
    tasks: r.tasks.map((t) => ({
      task: t.task,
      status: t.status,
      acted: t.counts.acted,
      ...(t.reason && { reason: t.reason }),
    })),
    failed,
    health: healthOf(r, previous),
  };
}

/** The status file's health: the config's problems, what is not obeyed, and this tick's failing checks. */
function healthOf(r: TickResult, previous: MachineStatus | undefined): MachineStatus['health'] {
  const own = [...(r.configInvalid ? [r.configInvalid] : []), ...(r.untrusted ?? [])];
  if (!r.tasks.some((t) => t.checks)) return own.length > 0 ? { failing: own } : (previous?.health ?? null);
  const checks = r.tasks.flatMap((t) => t.checks ?? []).filter((c) => c.state === 'failing');
  return { failing: [...own, ...checks.map((c) => c.summary)] };
}

async function runSynced(
  given: Resolved<TickOptions>,
  session: MachineSession,
  repo: GitRepo,
  result: TickResult,
  compromised: () => Error | undefined,
): Promise<TickResult> {
  const { stateDir } = session;
  let o = given;
  const configBefore = configText(o.config.file);
  const observations = fileObservationStore(stateDir, o.log);
  const lockNote = recoverStaleIndexLock(repo.gitDir, repo.top, Date.now());
  if (lockNote === 'removed') result.notes.push('removed a stale .git/index.lock left by a crashed git');

  if (o.dryRun) {
    const leaseSeconds = o.config.config.election.leaseSeconds;
    // Plan only: no fetch, no lease write, no commit; judge the lease as this clone has it.
    const { judgement } = judgeLease(
      readLeaseFile(o.sharedState),
      o.machineId,
      o.clock(),
      leaseSeconds * 1000,
      observations.load(),
    );
    const wouldLead = judgement.state !== 'held';
    result.leader = {
      isLeader: wouldLead,
      term: judgement.term ?? null,
      reason: `dry run: ${judgement.reason}${wouldLead ? ' (would lead)' : ''}`,
    };
    result.tasks = await runTasks(o.tasks, taskContext(o, session), {
      isLeader: wouldLead,
      notLeaderReason: `fleet task: ${judgement.reason}`,
    });
    return result;
  }

  const goOffline = (err: unknown) => {
    result.offline = true;
    result.offlineReason = errorMessage(err);
  };
  // what the first sync found: local changes to commit, local commits still to push
  let first: { dirty: boolean; unpushed: number } | undefined;
  const sync = async (): Promise<void> => {
    const report = await syncWithFence(repo, o.clock());
    first ??= report;
    result.notes.push(...report.notes);
  };

  try {
    await sync();
  } catch (err) {
    if (!(err instanceof GitFailure) || err.kind === 'other' || err.kind === 'conflict') throw err;
    goOffline(err);
  }
  // a config the pull brought applies at once (guarded: a broken one keeps the last valid)
  if (o.reloadConfig && configText(o.config.file) !== configBefore) {
    const fresh = await o.reloadConfig();
    const { configInvalid: _, ...rest } = o;
    o = { ...rest, config: fresh.config, ...(fresh.invalid && { configInvalid: fresh.invalid }) };
    result.notes.push(
      fresh.invalid ? 'the pull brought a config that is invalid' : 'the pull brought a new config: applied',
    );
  }
  if (o.configInvalid) {
    const origin = await configOrigin(repo, o.config.file);
    result.configInvalid = invalidConfigNote(o.config.file, o.configInvalid, origin);
    result.notes.push(result.configInvalid);
    if (o.configInvalid.using === 'defaults') o = { ...o, tasks: [] };
  }
  noteUntrusted(o.config, result);
  const leaseSeconds = o.config.config.election.leaseSeconds;
  // RooSync's own edits on this machine (merged with the remote's by the sync) are committed by this machine
  let messagesCommitted = false;
  if ((first?.dirty ?? true) && (await repo.uncommitted(['messages'])).size > 0) {
    const message = `maintenance: ${o.machineId} commits RooSync's message changes made on this machine`;
    messagesCommitted = await repo.commitPaths([repo.inRepo('messages')], message, commitReady(repo));
    if (messagesCommitted) result.notes.push("committed RooSync's message changes made on this machine");
  }

  let record: LeaseRecord | undefined;
  let renewDue = false;
  if (!result.offline) {
    const elector = new Elector({
      me: o.machineId,
      leaseSeconds,
      tickSeconds: o.config.config.schedule.tickMinutes * 60,
      clock: o.clock,
      store: new GitLeaseStore(repo, o.sharedState, sync),
      observations,
    });
    const lead = await elector.tryLead();
    if (lead.offline) goOffline(new Error(lead.judgement.reason));
    record = lead.record;
    renewDue = lead.renew;
    result.leader = {
      isLeader: lead.leader,
      term: lead.term ?? lead.judgement.term ?? null,
      reason: lead.judgement.reason,
    };
  } else {
    result.leader = { isLeader: false, term: null, reason: `offline: ${result.offlineReason}` };
  }

  const isLeader = result.leader.isLeader && !result.offline;
  result.tasks = await runTasks(o.tasks, taskContext(o, session, result.offlineReason), {
    isLeader,
    notLeaderReason: result.offline
      ? `fleet task skipped: the remote is unreachable (${result.offlineReason})`
      : `fleet task: ${result.leader.reason}`,
  });

  const lost = compromised();
  if (lost)
    throw new Error(`this machine's run lock was compromised (${lost.message}): stopping before commit and push`);

  const reportPaths = [...alertsOf(o, stateDir, result), ...sendDigestIfDue(o, stateDir, result)];
  const previous = readStatus(o.sharedState, o.machineId);
  let leaseInCommit = false;
  const commitTick = async (withFleet: boolean): Promise<boolean> => {
    const written = result.tasks.flatMap((t) => t.sharedPaths ?? []); // local tasks' files in the shared state
    const paths = [...reportPaths, ...(o.extraPaths ?? []), ...written].map((p) => repo.inRepo(p));
    const fleetPaths = withFleet && record ? await fleetPathsToCommit(o.sharedState, repo, result.tasks) : [];
    // fleet work always carries the lease renewal: the fence recognises fleet work by it
    leaseInCommit = record !== undefined && withFleet && (fleetPaths.length > 0 || renewDue);
    const status = statusOf(o, result, previous);
    const heartbeatMs = o.config.config.schedule.heartbeatMinutes * MINUTE_MS;
    // a commit made anyway carries a fresh status for free
    if (paths.length > 0 || leaseInCommit || statusWorthCommitting(previous, status, o.clock(), heartbeatMs)) {
      const file = statusFileRel(o.machineId);
      paths.push(
        ...reportStep(result, o.log, 'status file', () => {
          writeStatus(o.sharedState, status);
          return [repo.inRepo(file)];
        }),
      );
    }
    if (leaseInCommit && record) {
      writeLeaseFile(o.sharedState, renewed(record, o.clock(), leaseSeconds));
      paths.push(...fleetPaths, repo.inRepo(LEASE_FILE));
    }
    const term = result.leader.term ? ` term ${result.leader.term}` : '';
    const role = leaseInCommit ? ` (leader${term})` : '';
    const subject = `maintenance: ${o.machineId}${role} tick ${new Date(o.clock()).toISOString()}`;
    return repo.commitPaths(paths, subject, commitReady(repo));
  };
  result.committed = await commitTick(isLeader);

  if (o.fault === 'kill-before-push') process.kill(process.pid, 'SIGKILL');
  if (result.offline) {
    result.notes.push('the remote is unreachable: local commits stay here and are pushed by a later tick');
    return result;
  }
  const earlierUnpushed = (first?.unpushed ?? 1) > 0;
  // nothing committed and nothing left from before: no push (a quiet tick costs no network round trip)
  if (!result.committed && !messagesCommitted && !earlierUnpushed) return result;
  const pushed = await pushUntilLanded(repo, {
    ...pushPolicy(o.config.config.git),
    afterResync: async (sync) => {
      result.notes.push(...sync.notes);
      if (!sync.fenced) return;
      // our fleet commit was dropped: say so in the status and push that alone
      result.leader = {
        isLeader: false,
        term: result.leader.term,
        reason: 'deposed: another machine took the lease before this fleet work landed; the work was dropped',
      };
      record = undefined;
      result.committed = await commitTick(false);
    },
  });
  result.pushed = pushed.pushed;
  result.pushRetries = pushed.retries;
  if (pushed.pushed) return result;
  if (pushed.offline) goOffline(new Error(pushed.failure));
  result.notes.push(`push failed (${pushed.failure}): local commits stay here and are pushed by a later tick`);
  return result;
}
