import { UsageError } from '../errors.js';
import { ComponentCheckout } from '../git/repo.js';
import { type Rollout, readRollouts, rolloutFileRel, writeRollout } from '../rollout/plan.js';
import type { MachineContext } from './machine.js';
import { openCloneSession, openSession } from './session.js';
import { commitReady, pushPolicy, pushUntilLanded, syncWithFence } from './sync.js';

/**
 * An operator's change to a rollout plan (`rollout start|halt|resume|abort`): under this machine's run lock, after
 * a sync, the plan is read as the remote has it, changed, written, committed and pushed (lost races are resynced
 * and retried). On a plain folder the file is written in place. A dry run says what it would write.
 */
export async function changeRollout(
  o: MachineContext & { wait: boolean; dryRun: boolean; noSync: boolean },
  component: string,
  verb: string,
  change: (current: Rollout | undefined, now: number) => Rollout,
): Promise<{ plan: Rollout; written: boolean; pushed: boolean; notes: string[] }> {
  const spec = { sharedState: o.sharedState, machineId: o.machineId, git: o.config.config.git, env: o.env };
  const session = o.noSync
    ? await openSession({ ...spec, noSync: true })
    : await openCloneSession(spec, 'no rollout here', 'a rollout plan lives in the git-synced shared state');
  return session.withRunLock(o.wait, async () => {
    const { repo } = session;
    const notes: string[] = [];
    if (repo) notes.push(...(await syncWithFence(repo, o.clock())).notes);
    const current = readRollouts(o.sharedState).plans.find((p) => p.component === component);
    const plan = change(current, o.clock());
    if (o.dryRun) return { plan, written: false, pushed: false, notes };
    writeRollout(o.sharedState, plan);
    if (!repo) return { plan, written: true, pushed: false, notes };
    const subject = `maintenance: ${o.machineId} ${verb} the rollout of ${component}`;
    await repo.commitPaths([repo.inRepo(rolloutFileRel(component))], subject, commitReady(repo));
    const pushed = await pushUntilLanded(repo, {
      ...pushPolicy(o.config.config.git),
      afterResync: async (sync) => {
        notes.push(...sync.notes);
      },
    });
    if (!pushed.pushed)
      notes.push(`not pushed (${pushed.failure}): the commit stays here and goes with this machine's next tick`);
    return { plan, written: true, pushed: pushed.pushed, notes };
  });
}

/** The commit a ref names in this machine's checkout of the component, after a fetch. */
export async function resolveComponentRef(
  component: { name: string; dir: string; timeoutMs: number },
  ref: string,
): Promise<string> {
  const checkout = new ComponentCheckout(component.dir, component.timeoutMs);
  await checkout.fetch().catch(() => undefined); // offline: what the checkout already has
  const sha = (await checkout.commitOf(`origin/${ref}`)) ?? (await checkout.commitOf(ref));
  if (!sha)
    throw new UsageError({
      where: `rollout start ${component.name} ${ref}`,
      message: `"${ref}" names no commit in ${component.dir}, even after a fetch`,
      hint: 'a branch, a tag or a commit id of that checkout',
    });
  return sha;
}
