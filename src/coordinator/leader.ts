import type { MachineContext } from './machine.js';
import { GitFailure } from '../git/classify.js';
import { Elector, judgeLease } from '../election/elector.js';
import { GitLeaseStore } from '../election/gitLeaseStore.js';
import { readLeaseFile } from '../election/lease.js';
import { fileObservationStore } from '../election/observations.js';
import { LEASE_FILE, parseLease } from '../election/lease.js';
import { formatAgo, formatTime } from '../util/format.js';
import { type CloneSession, openCloneSession } from './session.js';
import { syncWithFence } from './sync.js';

function openLeaseSession(o: Omit<MachineContext, 'clock'>): Promise<CloneSession> {
  const { sharedState, machineId, env } = o;
  return openCloneSession(
    { sharedState, machineId, git: o.config.config.git, env },
    'no lease here',
    'the lease lives in the git-synced shared state',
  );
}

/** How long ago by this machine's clock; a time in the future means the clocks disagree, and says so. */
function sinceByThisClock(ms: number): string {
  return ms >= 0
    ? `${formatAgo(ms)} by this machine's clock`
    : `${formatAgo(ms)} by this machine's clock, in the future: one of the two clocks is off`;
}

/** The lease as this machine sees it after a fetch, and how it judges it (without recording a new observation). */
export async function leaseStatus(o: Omit<MachineContext, 'clock'> & { now: number; fetch: boolean }) {
  const { repo, stateDir } = await openLeaseSession(o);
  let fetchNote: string | undefined;
  let read = readLeaseFile(o.sharedState);
  if (o.fetch) {
    try {
      await repo.fetch();
      const upstream = await repo.upstream();
      if (upstream) {
        read = parseLease(await repo.show(upstream, LEASE_FILE));
      }
    } catch (err) {
      fetchNote = `remote unreachable, showing the local copy (${err instanceof GitFailure ? err.kind : String(err)})`;
    }
  }
  const observations = fileObservationStore(stateDir, o.log, true).load();
  const leaseMs = o.config.config.election.leaseSeconds * 1000;
  const { judgement } = judgeLease(read, o.machineId, o.now, leaseMs, observations);
  const lines: string[] = [];
  if (read.kind === 'ok') {
    const r = read.record;
    lines.push(
      `holder:   ${r.holder}${r.released ? ' (released)' : ''}`,
      `term:     ${r.term} (${r.transitions} changes of holder so far)`,
      `renewed:  ${formatTime(Date.parse(r.renewedAt))} (${sinceByThisClock(o.now - Date.parse(r.renewedAt))})`,
      `expires:  ${formatTime(judgement.writerExpiresAt!)} by its writer's clock (lease ${r.leaseSeconds} s)`,
    );
  } else
    lines.push(
      read.kind === 'missing'
        ? 'no lease yet: the first machine to tick takes it'
        : `lease file unreadable: ${read.reason}`,
    );
  lines.push(`this machine (${o.machineId}): ${judgement.state} — ${judgement.reason}`);
  if (fetchNote) lines.push(`note: ${fetchNote}`);
  return { lease: read, judgement, lines };
}

/** Gives up the lease, after any run in flight on this machine (it takes the same lock). */
export async function releaseLease(o: MachineContext & { wait: boolean; dryRun: boolean }) {
  const session = await openLeaseSession(o);
  const { repo, stateDir } = session;
  return session.withRunLock(o.wait, async () => {
    const sync = async () => {
      await syncWithFence(repo, o.clock());
    };
    await sync();
    if (o.dryRun) {
      const read = readLeaseFile(o.sharedState);
      const mine = read.kind === 'ok' && read.record.holder === o.machineId && !read.record.released;
      return {
        released: false,
        reason: mine
          ? `dry run: would release term ${read.kind === 'ok' ? read.record.term : ''}`
          : 'dry run: this machine does not hold the lease',
      };
    }
    const elector = new Elector({
      me: o.machineId,
      leaseSeconds: o.config.config.election.leaseSeconds,
      tickSeconds: o.config.config.schedule.tickMinutes * 60,
      clock: o.clock,
      store: new GitLeaseStore(repo, o.sharedState, sync),
      observations: fileObservationStore(stateDir, o.log, true),
    });
    return await elector.release();
  });
}
