import path from 'node:path';
import { z } from 'zod';
import type { ResolvedConfig } from '../config/load.js';
import { checkTrust } from '../health/checks.js';
import type { CheckResult } from '../health/types.js';
import type { Logger } from '../log.js';
import { readState, writeState } from '../sharedState/localState.js';
import { diskCheckTask, healthTask } from '../tasks/healthTasks.js';
import type { Progress } from '../tasks/types.js';
import type { MachineSession } from './session.js';

/** What `health` found now: every check, and the checks that could not run with why. */
export interface HealthNow {
  checks: CheckResult[];
  notRun: { check: string; why: string }[];
}

/**
 * The health checks now, outside a tick (`roosync-maint health`): a fetch (unless `fetch` is false), the health
 * and disk tasks on this session, the trust check, and the result appended to this machine's health history.
 */
export async function healthNow(
  session: MachineSession,
  o: { config: ResolvedConfig; now: number; log: Logger; progress: Progress; version: string; fetch: boolean },
): Promise<HealthNow> {
  const { repo } = session;
  let offline: string | undefined;
  if (repo && o.fetch)
    await repo.fetch().catch((err: unknown) => (offline = err instanceof Error ? err.message : String(err)));
  const ctx = session.taskContext({ ...o, dryRun: true, offline });
  const results = [await healthTask.run(ctx), await diskCheckTask.run(ctx)];
  const checks = [
    ...results.flatMap((r) => r.checks ?? []),
    checkTrust(o.config.file, session.machineId, o.config.layers.trust),
  ];
  const historyFile = path.join(session.stateDir, 'health-history.json');
  const history = readState(historyFile, z.array(z.unknown()), o.log) ?? [];
  const entry = {
    at: new Date(o.now).toISOString(),
    checks: checks.map((c) => ({ check: c.check, subject: c.subject, state: c.state })),
  };
  writeState(historyFile, [...history, entry].slice(-100));
  const notRun = [
    ...(o.config.config.health.tokens.length === 0
      ? [{ check: 'tokens', why: 'none configured (health.tokens)' }]
      : []),
    ...(ctx.git ? [] : [{ check: 'git', why: 'the shared state is not a git clone' }]),
  ];
  return { checks, notRun };
}
