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
import {
  accumulate,
  emptyDigestState,
  digestDue,
  digestMessage,
  digestStore,
  needsAttention,
} from '../report/digest.js';
import { fleetDigestMessage, historyEntry } from '../report/fleetDigest.js';
import { appendHistory, fleetDigestDueAt, readHistory } from '../report/history.js';
import { PAGE_REL } from '../report/fleetPage.js';
import { fleetPageOf, writeSharedFleetPage } from '../report/fleetReport.js';
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
    for (const p of r.fleetPaths ?? []) paths.add(p);
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
  const r = await session.withRunLock(o.wait, (lock) => tickLocked(o, session, lock));
  // the run log's one line per tick, for a person reading the file
  o.log.info({ tick: { at: new Date(o.clock()).toISOString(), machine: r.machine }, said: true }, tickSummary(r));
  return r;
}

/** `tick myia-ai-01: leader (term 3), 4 tasks ran, 0 failed, acted on 12, committed, pushed`. */
export function tickSummary(r: TickResult): string {
  const ran = r.tasks.filter((t) => t.status !== 'skipped');
  const failed = ran.filter((t) => t.status === 'failed').length;
  const acted = ran.reduce((s, t) => s + t.counts.acted, 0);
  const role = r.leader.isLeader ? `leader${r.leader.term ? ` (term ${r.leader.term})` : ''}` : 'follower';
  const sync = r.offline
    ? `offline (${r.offlineReason})`
    : `${r.committed ? 'committed' : 'no commit'}, ${r.pushed ? 'pushed' : 'no push'}`;
  const dry = r.dryRun ? ' (dry run)' : '';
  return `tick ${r.machine}${dry}: ${role}, ${ran.length} tasks ran, ${failed} failed, acted on ${acted}, ${sync}`;
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
 * What one phase of a tick changed: merged into the tick's result in order by `after`, never written into a
 * shared result object. `notes` and `unwritten` add up; every other field replaces the one before.
 */
type Change = Partial<Omit<TickResult, 'notes' | 'unwritten'>> & { notes?: string[]; unwritten?: string[] };

function after(r: TickResult, c: Change): TickResult {
  const { notes = [], unwritten = [], ...rest } = c;
  const allUnwritten = [...(r.unwritten ?? []), ...unwritten];
  return { ...r, ...rest, notes: [...r.notes, ...notes], ...(allUnwritten.length > 0 && { unwritten: allUnwritten }) };
}

/** Runs one named phase of the tick, timed in the log (`-v` shows each: sync, election, tasks, commit, push). */
async function phase<T>(o: TickOptions, name: string, body: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  try {
    return await body();
  } finally {
    const ms = Date.now() - started;
    o.log.info({ phase: name, ms, said: true }, `phase ${name}: ${ms} ms`);
  }
}

/** A reporting step's outcome: the files it wrote for the commit, or why it wrote nothing. */
interface Written {
  paths: string[];
  change: Change;
}

/**
 * Runs one reporting step of the tick (alerts, digest, status file, lease). A failure there is noted and the tick
 * goes on to its commit and push: a bad file must never keep the fleet work or the status file from landing.
 */
function reportStep(log: Logger, what: string, step: () => Written): Written {
  try {
    return step();
  } catch (err) {
    log.error({ step: what, err: errorMessage(err) }, 'report step failed');
    const why = `${what}: ${errorMessage(err)}`;
    return { paths: [], change: { notes: [`${what} not written this tick: ${errorMessage(err)}`], unwritten: [why] } };
  }
}

/**
 * Adds this tick to the digest totals. The leader sends the fleet digest once a day (`reports.digestHours` after the
 * last one any leader sent, as the fleet history says), with the history entry and the fleet page: fleet work, in
 * `fleetPaths`, committed with the lease and dropped with it if this machine was deposed meanwhile. Any other
 * machine sends its own digest at the end of its day only when something on it needs attention.
 */
function digestStep(o: Resolved<TickOptions>, stateDir: string, r: TickResult): Written & { fleetPaths?: string[] } {
  if (o.dryRun) return { paths: [], change: {} };
  return reportStep(o.log, 'digest', () => {
    const store = digestStore(stateDir, o.log);
    const now = o.clock();
    const state = accumulate(store.load(now), r.tasks);
    const { digestHours, language, to, page } = o.config.config.reports;
    const dirs = messageDirs(o.sharedState);
    const sentPaths = (id: string) => [`messages/inbox/${id}.json`, `messages/sent/${id}.json`];
    if (r.leader.isLeader && !r.offline) {
      // the history is read once: the due check, the new entry, and the page's trends
      const history = readHistory(o.sharedState);
      if (now < fleetDigestDueAt(history, now, digestHours)) {
        store.save(state);
        return { paths: [], change: {} };
      }
      const fleet = fleetStatus(o.sharedState, o.config.config, now, statusOf(o, r));
      const appended = appendHistory(o.sharedState, history, historyEntry(fleet, state, now));
      const fleetPaths = [appended.rel];
      if (page) {
        const writer = { now, writer: o.machineId, version: o.version };
        const html = fleetPageOf(o.sharedState, fleet, writer, appended.history);
        fleetPaths.push(writeSharedFleetPage(o.sharedState, html));
      }
      const message = fleetDigestMessage({
        machineId: o.machineId,
        to,
        now,
        state,
        fleet,
        language,
        ...(page && { page: PAGE_REL }),
      });
      const sent = sendMessage(dirs, message, now);
      store.save(emptyDigestState(now, now));
      return {
        paths: [],
        fleetPaths: [...fleetPaths, ...sentPaths(sent.id)],
        change: { notes: [`sent the fleet digest ${sent.id}`] },
      };
    }
    if (!digestDue(state, now, digestHours)) {
      store.save(state);
      return { paths: [], change: {} };
    }
    store.save(emptyDigestState(now, now));
    if (!needsAttention(state)) return { paths: [], change: {} };
    const message = digestMessage({ machineId: o.machineId, to, now, state, leader: r.leader, language });
    const sent = sendMessage(dirs, message, now);
    return { paths: sentPaths(sent.id), change: { notes: [`sent this machine's digest ${sent.id}`] } };
  });
}

/** Health findings → alert messages and incidents (not in a dry run); the files go into the tick's commit. */
function alertsStep(o: Resolved<TickOptions>, stateDir: string, r: TickResult): Written {
  if (o.dryRun) return { paths: [], change: {} };
  return reportStep(o.log, 'alerts', () => {
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
        ...r.tasks.flatMap((t) => t.checks ?? []),
        // a guarded run says whether the config loaded: one alert while it is broken, [RESOLVED] once fixed
        ...(o.reloadConfig ? [checkConfig(o.config.file, o.configInvalid?.problems, r.configInvalid)] : []),
        // what of the fleet config this machine does not obey: one alert while it lasts
        checkTrust(o.config.file, o.machineId, o.config.layers.trust),
      ],
    );
    return { paths: delivered.paths, change: { notes: delivered.notes } };
  });
}

/** The alerts, then the digest (which counts this tick): the result after both, and the files they wrote. */
function reportPhase(o: Resolved<TickOptions>, stateDir: string, r: TickResult) {
  const alerts = alertsStep(o, stateDir, r);
  const withAlerts = after(r, alerts.change);
  const digest = digestStep(o, stateDir, withAlerts);
  const paths = [...alerts.paths, ...digest.paths];
  return { paths, fleetPaths: digest.fleetPaths ?? [], r: after(withAlerts, digest.change) };
}

/** The config as this run uses it: a broken one is said first, and with no valid config at all no task runs. */
function configPhase(o: Resolved<TickOptions>, origin?: string): { run: Resolved<TickOptions>; change: Change } {
  const untrusted = trustNotice(o.config.layers.trust);
  if (!o.configInvalid) return { run: o, change: { untrusted, notes: untrusted } };
  const configInvalid = invalidConfigNote(o.config.file, o.configInvalid, origin);
  const run = o.configInvalid.using === 'defaults' ? { ...o, tasks: [] } : o;
  return { run, change: { configInvalid, untrusted, notes: [configInvalid, ...untrusted] } };
}

async function runLocalOnly(o: Resolved<TickOptions>, session: MachineSession, start: TickResult) {
  const { stateDir } = session;
  const config = configPhase(o);
  let r = after(start, config.change);
  const run = config.run;
  const elected = run.leaderFlag
    ? { leader: { isLeader: true, term: null, reason: '--no-sync --leader' } }
    : findGitDir(run.sharedState)
      ? {
          leader: {
            isLeader: false,
            term: null,
            reason: 'a clone run with --no-sync: no election (only --leader runs fleet tasks)',
          },
        }
      : await phase(run, 'election', () => electOnFolder(run, stateDir));
  r = after(r, elected);
  const tasks = await phase(run, 'tasks', () =>
    runTasks(run.tasks, taskContext(run, session), {
      isLeader: r.leader.isLeader,
      notLeaderReason: `fleet task: not the leader (${r.leader.reason})`,
    }),
  );
  r = after(r, { tasks });
  if (run.dryRun) return r;
  r = reportPhase(run, stateDir, r).r;
  const status = statusOf(run, r);
  const written = reportStep(run.log, 'status file', () => {
    writeStatus(run.sharedState, status);
    return { paths: [], change: {} };
  });
  return after(r, written.change);
}

/**
 * A plain folder's election (election/plainLease.ts): read the lease, decide, write the claim or the renewal
 * (not in a dry run). The observation of the lease is kept in local state as in git mode.
 */
function electOnFolder(o: Resolved<TickOptions>, stateDir: string): Change & { leader: TickResult['leader'] } {
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
  const written =
    decision.write && !o.dryRun
      ? reportStep(o.log, 'lease', () => {
          writeLeaseFile(o.sharedState, decision.write as LeaseRecord);
          return { paths: [LEASE_FILE], change: {} };
        })
      : { paths: [], change: {} };
  const unwritten = decision.write && o.dryRun ? ' (dry run: the lease file is not written)' : '';
  const leader = { isLeader: decision.isLeader, term: decision.term, reason: `${decision.reason}${unwritten}` };
  return { ...written.change, leader };
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
    ...componentsOf(r, previous),
  };
}

/** The components as this tick's rollout step saw them, else as the last status said. */
function componentsOf(r: TickResult, previous: MachineStatus | undefined): Pick<MachineStatus, 'components'> {
  const seen = r.tasks.find((t) => t.task === 'rollout' && t.components)?.components ?? previous?.components;
  return seen && Object.keys(seen).length > 0 ? { components: seen } : {};
}

/** The status file's health: the config's problems, what is not obeyed, and this tick's failing checks. */
function healthOf(r: TickResult, previous: MachineStatus | undefined): MachineStatus['health'] {
  const own = [...(r.configInvalid ? [r.configInvalid] : []), ...(r.untrusted ?? [])];
  if (!r.tasks.some((t) => t.checks)) return own.length > 0 ? { failing: own } : (previous?.health ?? null);
  const checks = r.tasks.flatMap((t) => t.checks ?? []).filter((c) => c.state === 'failing');
  return { failing: [...own, ...checks.map((c) => c.summary)] };
}

const offlineBy = (err: unknown): Change => ({ offline: true, offlineReason: errorMessage(err) });

/** Plan only: no fetch, no lease write, no commit; the lease judged as this clone has it. */
async function dryRunSynced(o: Resolved<TickOptions>, session: MachineSession, r: TickResult) {
  const observations = fileObservationStore(session.stateDir, o.log);
  const leaseMs = o.config.config.election.leaseSeconds * 1000;
  const read = readLeaseFile(o.sharedState);
  const { judgement } = judgeLease(read, o.machineId, o.clock(), leaseMs, observations.load());
  const wouldLead = judgement.state !== 'held';
  const leader = {
    isLeader: wouldLead,
    term: judgement.term ?? null,
    reason: `dry run: ${judgement.reason}${wouldLead ? ' (would lead)' : ''}`,
  };
  const tasks = await phase(o, 'tasks', () =>
    runTasks(o.tasks, taskContext(o, session), {
      isLeader: wouldLead,
      notLeaderReason: `fleet task: ${judgement.reason}`,
    }),
  );
  return after(r, { leader, tasks });
}

/** What the election phase decided, and what the commit needs of it. */
interface Election {
  change: Change & { leader: TickResult['leader'] };
  record?: LeaseRecord | undefined;
  renewDue: boolean;
}

async function electPhase(
  o: Resolved<TickOptions>,
  stateDir: string,
  repo: GitRepo,
  r: TickResult,
  sync: () => Promise<string[]>,
) {
  if (r.offline)
    return {
      change: { leader: { isLeader: false, term: null, reason: `offline: ${r.offlineReason}` } },
      renewDue: false,
    };
  const notes: string[] = [];
  const elector = new Elector({
    me: o.machineId,
    leaseSeconds: o.config.config.election.leaseSeconds,
    tickSeconds: o.config.config.schedule.tickMinutes * 60,
    clock: o.clock,
    store: new GitLeaseStore(repo, o.sharedState, async () => {
      notes.push(...(await sync()));
    }),
    observations: fileObservationStore(stateDir, o.log),
  });
  const lead = await elector.tryLead();
  const leader = {
    isLeader: lead.leader,
    term: lead.term ?? lead.judgement.term ?? null,
    reason: lead.judgement.reason,
  };
  const offline = lead.offline ? offlineBy(new Error(lead.judgement.reason)) : {};
  return { change: { ...offline, leader, notes }, record: lead.record, renewDue: lead.renew } satisfies Election;
}

/** What a commit of this tick carries: the report files, what local tasks wrote, and (as leader) the fleet work. */
interface CommitInputs {
  o: Resolved<TickOptions>;
  repo: GitRepo;
  reportPaths: string[];
  /** What the report phase wrote as fleet work (the fleet digest, history, page): committed only with the lease. */
  fleetReportPaths: string[];
  previous: MachineStatus | undefined;
  record: LeaseRecord | undefined;
  renewDue: boolean;
}

/** One commit of the tick; the fleet work and the lease renewal only `withFleet` (they always travel together). */
async function commitTick(
  c: CommitInputs,
  r: TickResult,
  withFleet: boolean,
): Promise<Change & { committed: boolean }> {
  const { o, repo, record } = c;
  const leaseSeconds = o.config.config.election.leaseSeconds;
  const written = r.tasks.flatMap((t) => t.sharedPaths ?? []); // local tasks' files in the shared state
  const paths = [...c.reportPaths, ...(o.extraPaths ?? []), ...written].map((p) => repo.inRepo(p));
  const fleetPaths =
    withFleet && record
      ? [...(await fleetPathsToCommit(o.sharedState, repo, r.tasks)), ...c.fleetReportPaths.map((p) => repo.inRepo(p))]
      : [];
  // fleet work always carries the lease renewal: the fence recognises fleet work by it
  const leaseInCommit = record !== undefined && withFleet && (fleetPaths.length > 0 || c.renewDue);
  const status = statusOf(o, r, c.previous);
  const heartbeatMs = o.config.config.schedule.heartbeatMinutes * MINUTE_MS;
  let change: Change = {};
  // a commit made anyway carries a fresh status for free
  if (paths.length > 0 || leaseInCommit || statusWorthCommitting(c.previous, status, o.clock(), heartbeatMs)) {
    const step = reportStep(o.log, 'status file', () => {
      writeStatus(o.sharedState, status);
      return { paths: [repo.inRepo(statusFileRel(o.machineId))], change: {} };
    });
    paths.push(...step.paths);
    change = step.change;
  }
  if (leaseInCommit && record) {
    writeLeaseFile(o.sharedState, renewed(record, o.clock(), leaseSeconds));
    paths.push(...fleetPaths, repo.inRepo(LEASE_FILE));
  }
  const term = r.leader.term ? ` term ${r.leader.term}` : '';
  const role = leaseInCommit ? ` (leader${term})` : '';
  const subject = `maintenance: ${o.machineId}${role} tick ${new Date(o.clock()).toISOString()}`;
  return { ...change, committed: await repo.commitPaths(paths, subject, commitReady(repo)) };
}

/** Pushes until it lands; a fence that drops our fleet commit recommits the rest alone (deposed). */
async function pushPhase(c: CommitInputs, start: TickResult): Promise<TickResult> {
  let r = start;
  const pushed = await pushUntilLanded(c.repo, {
    ...pushPolicy(c.o.config.config.git),
    afterResync: async (sync) => {
      r = after(r, { notes: sync.notes });
      if (!sync.fenced) return;
      // our fleet commit was dropped: say so in the status and push that alone
      const leader = {
        isLeader: false,
        term: r.leader.term,
        reason: 'deposed: another machine took the lease before this fleet work landed; the work was dropped',
      };
      r = after(r, { leader });
      r = after(r, await commitTick({ ...c, record: undefined }, r, false));
    },
  });
  r = after(r, { pushed: pushed.pushed, pushRetries: pushed.retries });
  if (pushed.pushed) return r;
  if (pushed.offline) r = after(r, offlineBy(new Error(pushed.failure)));
  return after(r, {
    notes: [`push failed (${pushed.failure}): local commits stay here and are pushed by a later tick`],
  });
}

/**
 * The tick in a clone, as named phases — heal, sync, config, RooSync's edits, election, tasks, report, commit,
 * push — each returning what it changed.
 */
async function runSynced(
  given: Resolved<TickOptions>,
  session: MachineSession,
  repo: GitRepo,
  start: TickResult,
  compromised: () => Error | undefined,
): Promise<TickResult> {
  const { stateDir } = session;
  const healed = recoverStaleIndexLock(repo.gitDir, repo.top, Date.now());
  let r = after(start, {
    notes: healed === 'removed' ? ['removed a stale .git/index.lock left by a crashed git'] : [],
  });
  if (given.dryRun) return dryRunSynced(given, session, r);

  // what the first sync found: local changes to commit, local commits still to push
  let first: { dirty: boolean; unpushed: number } | undefined;
  const sync = async (): Promise<string[]> => {
    const report = await syncWithFence(repo, given.clock());
    first ??= report;
    return report.notes;
  };
  const configBefore = configText(given.config.file);
  r = after(
    r,
    await phase(given, 'sync', async () => {
      try {
        return { notes: await sync() };
      } catch (err) {
        if (!(err instanceof GitFailure) || err.kind === 'other' || err.kind === 'conflict') throw err;
        return offlineBy(err);
      }
    }),
  );
  // a config the pull brought applies at once (guarded: a broken one keeps the last valid)
  let o = given;
  if (o.reloadConfig && configText(o.config.file) !== configBefore) {
    const fresh = await o.reloadConfig();
    const { configInvalid: _, ...rest } = o;
    o = { ...rest, config: fresh.config, ...(fresh.invalid && { configInvalid: fresh.invalid }) };
    const said = fresh.invalid ? 'the pull brought a config that is invalid' : 'the pull brought a new config: applied';
    r = after(r, { notes: [said] });
  }
  const config = configPhase(o, o.configInvalid ? await configOrigin(repo, o.config.file) : undefined);
  o = config.run;
  r = after(r, config.change);

  // RooSync's own edits on this machine (merged with the remote's by the sync) are committed by this machine
  let messagesCommitted = false;
  if ((first?.dirty ?? true) && (await repo.uncommitted(['messages'])).size > 0) {
    const message = `maintenance: ${o.machineId} commits RooSync's message changes made on this machine`;
    messagesCommitted = await repo.commitPaths([repo.inRepo('messages')], message, commitReady(repo));
    if (messagesCommitted) r = after(r, { notes: ["committed RooSync's message changes made on this machine"] });
  }

  const election: Election = await phase(o, 'election', () => electPhase(o, stateDir, repo, r, sync));
  r = after(r, election.change);
  const isLeader = r.leader.isLeader && !r.offline;
  const tasks = await phase(o, 'tasks', () =>
    runTasks(o.tasks, taskContext(o, session, r.offlineReason), {
      isLeader,
      notLeaderReason: r.offline
        ? `fleet task skipped: the remote is unreachable (${r.offlineReason})`
        : `fleet task: ${r.leader.reason}`,
    }),
  );
  r = after(r, { tasks });

  const lost = compromised();
  if (lost)
    throw new Error(`this machine's run lock was compromised (${lost.message}): stopping before commit and push`);

  const report = reportPhase(o, stateDir, r);
  r = report.r;
  const inputs: CommitInputs = {
    o,
    repo,
    reportPaths: report.paths,
    fleetReportPaths: report.fleetPaths,
    previous: readStatus(o.sharedState, o.machineId),
    record: election.record,
    renewDue: election.renewDue,
  };
  r = after(r, await phase(o, 'commit', () => commitTick(inputs, r, isLeader)));

  if (o.fault === 'kill-before-push') process.kill(process.pid, 'SIGKILL');
  if (r.offline)
    return after(r, { notes: ['the remote is unreachable: local commits stay here and are pushed by a later tick'] });
  const earlierUnpushed = (first?.unpushed ?? 1) > 0;
  // nothing committed and nothing left from before: no push (a quiet tick costs no network round trip)
  if (!r.committed && !messagesCommitted && !earlierUnpushed) return r;
  return phase(o, 'push', () => pushPhase(inputs, r));
}
