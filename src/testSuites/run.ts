import { runCommand, tailOf, type CommandSpec } from '../util/command.js';

/** One configured test suite, as `tests.suites` names it. */
export interface SuiteSpec {
  name: string;
  cwd: string;
  /** A command line (run by the platform's shell, like an npm script) or an argv (run without a shell). */
  command: CommandSpec;
  timeoutMinutes: number;
}

export interface SuiteOutcome {
  passed: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** From a vitest or jest summary, when the output has one. */
  failedTests?: number;
  totalTests?: number;
  /** The last lines of output (stdout and stderr interleaved), secrets censored. */
  tail: string[];
  durationMs: number;
}

/** `Tests  3 failed | 10 passed (13)` (vitest) or `Tests:       2 failed, 5 passed, 7 total` (jest). */
export function parseSummary(output: string): { failed: number; total?: number } | undefined {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, ''); // colours off
  const vitest = /^\s*Tests\s+(?:(\d+) failed)?[^\n]*?(?:\((\d+)\))?\s*$/m.exec(plain);
  if (vitest && /^\s*Tests\s+\d+ (failed|passed)/m.test(plain))
    return { failed: Number(vitest[1] ?? 0), ...(vitest[2] && { total: Number(vitest[2]) }) };
  const jest = /^Tests:\s+(?:(\d+) failed,\s*)?[^\n]*?(\d+) total/m.exec(plain);
  if (jest) return { failed: Number(jest[1] ?? 0), total: Number(jest[2]) };
  return undefined;
}

/** Runs a suite with its timeout; pass or fail by the exit code (a timeout is a failure). */
export async function runSuite(spec: SuiteSpec, env: NodeJS.ProcessEnv = process.env): Promise<SuiteOutcome> {
  const run = await runCommand(spec.command, { cwd: spec.cwd, timeoutMs: spec.timeoutMinutes * 60_000, env });
  const summary = parseSummary(run.output);
  return {
    passed: run.exitCode === 0 && !run.timedOut,
    exitCode: run.exitCode,
    timedOut: run.timedOut,
    ...(summary && { failedTests: summary.failed }),
    ...(summary?.total !== undefined && { totalTests: summary.total }),
    tail: tailOf(run.output),
    durationMs: run.durationMs,
  };
}
