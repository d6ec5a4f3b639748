import type { GitRepo } from '../../git/repo.js';
import {
  commitRestored,
  isMessageId,
  restoreFromBundles,
  restoreFromHistory,
  type RestoreOptions,
  type RestoreResult,
} from '../../coordinator/restore.js';
import { UsageError } from '../../errors.js';

import { load, sessionFor, type CliEnv, type Handler, type Outcome } from '../kit.js';

/** Bringing back what a task removed. */

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
  const session = await sessionFor(cli, identity, config, false);
  return session.withRunLock(cli.args.wait, async () => {
    const r = await restoreTarget(session.repo, shared, target, {
      machineId,
      dryRun,
      now: cli.now(),
      git: config.config.git,
    });
    const from = r.fromCommit.startsWith('purge bundle') ? r.fromCommit : `${r.fromCommit}^`;
    const done =
      `${dryRun ? 'would restore' : 'restored'} ${r.restored.join(', ')} from ` +
      `${from}${r.pushed ? ', committed and pushed' : ''}`;
    const lines = [r.restored.length ? done : 'nothing to restore', ...(r.note ? [`note: ${r.note}`] : [])];
    return { exitCode: 0, doc: { command: 'restore', target, ...r }, lines };
  });
}

/** A message comes back from a purge bundle if one holds it, else from git history; a path only from git history. */

/** A message comes back from a purge bundle if one holds it, else from git history; a path only from git history. */
async function restoreTarget(
  repo: GitRepo | undefined,
  shared: string,
  target: string,
  o: RestoreOptions,
): Promise<RestoreResult> {
  const fromBundle = isMessageId(target) ? restoreFromBundles(shared, target, o.dryRun, o.now) : undefined;
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

/** The restore family's handlers, by command words (the specs are in cli/catalogue.ts). */
export const handlers: Record<string, Handler> = {
  restore: restoreCommand,
};
