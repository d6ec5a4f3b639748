import path from 'node:path';
import type { ResolvedConfig } from '../config/load.js';
import type { MaintenanceConfig } from '../config/schema.js';
import { TASKS, type TaskName } from '../config/taskCatalogue.js';
import { judgeLease, renewalDueAt, type Observation } from '../election/elector.js';
import { readLeaseFile, type LeaseRead } from '../election/lease.js';
import { fileObservationStore } from '../election/observations.js';
import type { GitRepo } from '../git/repo.js';
import type { Logger } from '../log.js';
import { digestDueAt, digestStore } from '../report/digest.js';
import { fleetDigestDueAt, readHistory } from '../report/history.js';
import { readRollouts } from '../rollout/plan.js';
import { fleetStatus, silentAfterMinutes, type FleetStatus } from '../report/fleetStatus.js';
import { heartbeatDueAt, readStatus, type MachineStatus } from '../report/status.js';
import { writeState } from '../sharedState/localState.js';
import { AVAILABLE_TASKS } from '../tasks/registry.js';
import { MINUTE_MS } from '../util/time.js';
import { configFingerprint, earliest, QUIET_FILE, type Deadline, type QuietRecord } from './quiet.js';
import { intervalMs, nextDueAt, type ScheduleState } from './schedule.js';

export interface CleanTick {
  machineId: string;
  sharedState: string;
  config: ResolvedConfig;
  version: string;
  now: number;
  log: Logger;
  /** The schedule state after this tick's runs. */
  schedule: ScheduleState;
  leader: QuietRecord['leader'];
}

/**
 * After a scheduled tick that ended clean (synced, nothing failed), records what it saw and until when
 * nothing can be due, so that the next ticks can be quiet (quiet.ts). Nothing is recorded when commits
 * are left to push or something is already due.
 */
export async function recordQuietTick(repo: GitRepo, stateDir: string, t: CleanTick): Promise<void> {
  const tips = await repo.headAndUpstream();
  if (!tips || tips.head !== tips.upstream) return;
  const { config } = t.config;
  const isLeader = t.leader.isLeader;
  const next = earliest(
    quietDeadlines({
      machineId: t.machineId,
      now: t.now,
      config,
      isLeader,
      tasks: AVAILABLE_TASKS,
      schedule: t.schedule,
      status: readStatus(t.sharedState, t.machineId),
      lease: readLeaseFile(t.sharedState),
      observation: fileObservationStore(stateDir, t.log, true).load(),
      fleet: isLeader ? fleetStatus(t.sharedState, config, t.now) : undefined,
      digestLastSentAt: digestStore(stateDir, t.log).load(t.now).lastSentAt,
      fleetDigestAt: isLeader
        ? fleetDigestDueAt(readHistory(t.sharedState), t.now, config.reports.digestHours)
        : undefined,
      rolloutActive: isLeader && readRollouts(t.sharedState).plans.some((p) => p.state === 'active'),
    }),
  );
  if (!next || next.at <= t.now) return;
  const record: QuietRecord = {
    version: t.version,
    machine: t.machineId,
    sharedState: path.resolve(t.sharedState),
    config: configFingerprint([t.config.file, t.config.layers.machineFile ?? '', t.config.layers.trustFile]),
    head: tips.head,
    upstream: tips.upstream,
    until: next.at,
    untilReason: next.why,
    writtenAt: t.now,
    leader: t.leader,
  };
  writeState(path.join(stateDir, QUIET_FILE), record);
}

export interface QuietInputs {
  machineId: string;
  now: number;
  config: MaintenanceConfig;
  isLeader: boolean;
  tasks: readonly TaskName[];
  schedule: ScheduleState;
  status: MachineStatus | undefined;
  lease: LeaseRead;
  observation: Observation | undefined;
  /** The leader's view of the fleet (undefined on a follower). */
  fleet: FleetStatus | undefined;
  digestLastSentAt: number | null;
  /** On the leader: when the fleet digest is next due (report/history.ts owns the rule). */
  fleetDigestAt?: number | undefined;
  /** On the leader: a rollout is active (a soak may end, a machine may report at any tick). */
  rolloutActive?: boolean;
}

/**
 * Every moment after which a tick with unchanged inputs might have something to do (pure). A quiet
 * tick is allowed only before the earliest of them; `now` means "never quiet".
 */
export function quietDeadlines(i: QuietInputs): Deadline[] {
  const { now, config } = i;
  const out: Deadline[] = [];
  for (const task of i.tasks) {
    if (TASKS[task] === 'fleet' && !i.isLeader) continue; // skipped on a follower anyway
    // a fleet task of every tick reads only the shared state, unchanged while the gate holds
    if (intervalMs(task, config) === 0) {
      // the rollout step reads only the shared state and this machine's components, unchanged while the gate holds
      // (a killed update leaves no quiet record: the next tick is a full one)
      if (TASKS[task] === 'local' && task !== 'rollout') out.push({ at: now, why: `${task} runs every tick` });
      continue;
    }
    out.push({ at: nextDueAt(task, i.schedule, config, now), why: `${task} due` });
  }
  // each moment comes from the module that owns its rule: the heartbeat, the lease, liveness, the digest
  const heartbeatMs = config.schedule.heartbeatMinutes * MINUTE_MS;
  // "due since ever" (no status yet, no digest yet) is due now
  const orNow = (at: number) => (Number.isFinite(at) ? at : now);
  out.push({ at: orNow(heartbeatDueAt(i.status, heartbeatMs)), why: 'heartbeat due' });
  out.push(leaseDeadline(i));
  if (i.fleet) out.push(...livenessDeadlines(i.fleet, config, now));
  out.push({ at: orNow(digestDueAt(i.digestLastSentAt, config.reports.digestHours)), why: 'digest due' });
  if (i.fleetDigestAt !== undefined) out.push({ at: orNow(i.fleetDigestAt), why: 'fleet digest due' });
  if (i.rolloutActive) out.push({ at: now, why: 'a rollout is in progress' });
  return out;
}

/** The holder renews once half its lease is gone; another machine may take over once it judges the lease free. */
function leaseDeadline(i: QuietInputs): Deadline {
  const leaseMs = i.config.election.leaseSeconds * 1000;
  const { judgement } = judgeLease(i.lease, i.machineId, i.now, leaseMs, i.observation);
  if (judgement.state === 'mine')
    return { at: renewalDueAt(judgement.writerExpiresAt!, leaseMs), why: 'lease renewal due' };
  if (judgement.state === 'free') return { at: i.now, why: 'the lease is free' };
  // looks go on at every tick (quiet ones too): a whole lease of them from now, less what was watched already
  const seenFull = i.now + Math.max(0, leaseMs - judgement.observedForMs);
  return { at: Math.max(seenFull, judgement.writerExpiresAt ?? seenFull), why: 'the lease may be taken over' };
}

/** When each live machine would turn silent; a silent or unreadable one keeps the leader checking every tick. */
function livenessDeadlines(fleet: FleetStatus, config: MaintenanceConfig, now: number): Deadline[] {
  if (fleet.silent.length > 0 || fleet.malformed.length > 0) return [{ at: now, why: 'a machine is silent' }];
  return fleet.machines.map((m) => {
    const minutes = silentAfterMinutes(
      m.heartbeatMinutes ?? config.schedule.heartbeatMinutes,
      config.schedule.tickMinutes,
    );
    return { at: Date.parse(m.lastTickAt) + minutes * MINUTE_MS + 1, why: `${m.machine} would turn silent` };
  });
}
