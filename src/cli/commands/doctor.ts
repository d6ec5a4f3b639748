import { runDoctor, type DoctorCheck } from '../../setup/doctor.js';
import { builtCliPath } from '../../util/version.js';
import type { CliEnv, Handler, Outcome } from '../kit.js';

/** Is this machine set up? Read-only: it changes nothing, it says what to do. */

const MARK: Record<DoctorCheck['state'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };

function doctorLines(c: DoctorCheck): string[] {
  return [`${MARK[c.state]}  ${c.check.padEnd(13)} ${c.detail}`, ...(c.fix ? [`      fix: ${c.fix}`] : [])];
}

async function doctorCommand(cli: CliEnv): Promise<Outcome> {
  const g = cli.args.global;
  const checks = await runDoctor({
    flags: {
      ...(g.sharedState !== undefined && { sharedState: g.sharedState }),
      ...(g.machine !== undefined && { machine: g.machine }),
      ...(g.config !== undefined && { config: g.config }),
    },
    env: cli.env,
    cwd: cli.cwd,
    now: cli.now(),
    bin: builtCliPath(),
    sync: !g.noSync,
  });
  const failing = checks.filter((c) => c.state === 'fail').length;
  const warnings = checks.filter((c) => c.state === 'warn').length;
  return {
    exitCode: failing ? 1 : 0,
    doc: { command: 'doctor', ok: failing === 0, checks },
    lines: [
      ...checks.flatMap(doctorLines),
      failing
        ? `${failing} to fix before roosync-maint can do its job`
        : `ready${warnings ? ` (${warnings} to look at)` : ''}`,
    ],
  };
}

/** The doctor family's handlers, by command words (the specs are in cli/catalogue.ts). */
export const handlers: Record<string, Handler> = {
  doctor: doctorCommand,
};
