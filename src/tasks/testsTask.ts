import path from 'node:path';
import { z } from 'zod';
import { GitHubFailure, IssueTracker, tokenDestinationProblem, type Issue } from '../github/issues.js';
import type { CheckResult } from '../health/types.js';
import { stateFile } from '../sharedState/localState.js';
import { runSuite, type SuiteOutcome } from '../testSuites/run.js';
import { DAY_MS } from '../util/time.js';
import { describeCommand } from '../util/command.js';
import { errorMessage } from '../errors.js';
import { defineTask } from './retentionTask.js';
import type { TaskContext } from './types.js';
import { record } from './healthTasks.js';

type Suite = TaskContext['config']['testSuites'][number];

/** Per suite: when this machine last commented on its issue (at most one comment a day). */
const stateSchema = z.object({ suites: z.record(z.string(), z.object({ lastCommentAt: z.number() })) });

export function issueTitle(suite: string, machine: string): string {
  return `roosync-maint: tests "${suite}" failing on ${machine}`;
}

function describe(o: SuiteOutcome): string {
  if (o.timedOut) return 'timed out';
  const counted =
    o.failedTests !== undefined ? `${o.failedTests} failed${o.totalTests ? ` of ${o.totalTests}` : ''}, ` : '';
  return `${counted}exit ${o.exitCode ?? 'none (could not start)'}`;
}

function issueBody(suite: Suite, o: SuiteOutcome, machine: string, now: number): string {
  return [
    `The test suite **${suite.name}** failed on **${machine}** at ${new Date(now).toISOString()}: ${describe(o)}.`,
    '',
    `- folder: \`${suite.cwdPath}\``,
    `- command: \`${describeCommand(suite.command)}\``,
    '',
    'Last lines of output (secrets censored):',
    '',
    '```',
    ...o.tail,
    '```',
    '',
    'Opened by roosync-maint; it comments at most once a day while the suite fails, and closes this issue when it passes.',
  ].join('\n');
}

function suiteCheck(suite: Suite, o: SuiteOutcome, machine: string): CheckResult {
  return {
    check: 'tests',
    subject: suite.name,
    state: o.passed ? 'ok' : 'failing',
    type: 'BUILD',
    severity: 'MEDIUM',
    summary: o.passed
      ? `tests "${suite.name}" pass on ${machine}${o.totalTests ? ` (${o.totalTests} tests)` : ''}`
      : `tests "${suite.name}" failed on ${machine}: ${describe(o)}`,
    actions: o.passed ? [] : [`Run \`${describeCommand(suite.command)}\` in ${suite.cwdPath} and fix what fails`],
    data: { suite: suite.name, exitCode: o.exitCode, timedOut: o.timedOut, failedTests: o.failedTests, tail: o.tail },
  };
}

/** The GitHub side of one suite's outcome: one issue while it fails, a comment a day at most, closed when it passes. */
async function reportOnGitHub(
  ctx: TaskContext,
  suite: Suite,
  o: SuiteOutcome,
  lastCommentAt: number | undefined,
): Promise<{ note?: string; check?: CheckResult; commentedAt?: number }> {
  const gh = suite.github!;
  const githubCheck = (state: CheckResult['state'], summary: string): CheckResult => ({
    check: 'github',
    subject: `${suite.name} → ${gh.repo}`,
    state,
    type: 'BUILD',
    severity: 'MEDIUM',
    summary,
    actions: state === 'failing' ? [`Check the token in ${gh.tokenEnv} (scope: issues) and the repo ${gh.repo}`] : [],
    data: { repo: gh.repo, tokenEnv: gh.tokenEnv },
  });
  const token = ctx.env[gh.tokenEnv];
  if (!token)
    return { check: githubCheck('failing', `no GitHub token: ${gh.tokenEnv} is not set on ${ctx.machineId}`) };
  const problem = tokenDestinationProblem(gh.apiUrl, ctx.config.config.trust.tokenHosts);
  if (problem) return { check: githubCheck('failing', `refused to send ${gh.tokenEnv} to ${gh.apiUrl}: ${problem}`) };
  const tracker = new IssueTracker({
    repo: gh.repo,
    token,
    apiUrl: gh.apiUrl,
    labels: gh.labels,
    tokenHosts: ctx.config.config.trust.tokenHosts,
  });
  const title = issueTitle(suite.name, ctx.machineId);
  try {
    const open = await tracker.findOpen(title);
    const ok = githubCheck('ok', `GitHub ${gh.repo} reachable`);
    if (o.passed) {
      if (!open) return { check: ok };
      await tracker.comment(open.number, `Passes again on ${ctx.machineId} at ${new Date(ctx.now).toISOString()}.`);
      await tracker.close(open.number);
      return { check: ok, note: `closed ${gh.repo}#${open.number}: the suite passes again` };
    }
    if (!open) {
      const issue: Issue = await tracker.open(title, issueBody(suite, o, ctx.machineId, ctx.now));
      return { check: ok, note: `opened ${issue.url}`, commentedAt: ctx.now };
    }
    if (lastCommentAt !== undefined && ctx.now - lastCommentAt < DAY_MS)
      return { check: ok, note: `${gh.repo}#${open.number} already commented today` };
    await tracker.comment(
      open.number,
      `Still failing on ${ctx.machineId} at ${new Date(ctx.now).toISOString()}: ${describe(o)}.`,
    );
    return { check: ok, note: `commented on ${gh.repo}#${open.number}`, commentedAt: ctx.now };
  } catch (err) {
    if (err instanceof GitHubFailure && err.kind === 'rate-limited') {
      const when = err.resetAt ? ` (resets ${new Date(err.resetAt).toISOString()})` : '';
      return { check: githubCheck('skipped', `GitHub rate limit reached${when}: the next run reports it`) };
    }
    const status = err instanceof GitHubFailure && err.status ? ` ${err.status}` : '';
    return { check: githubCheck('failing', `GitHub${status} for ${gh.repo}: ${errorMessage(err)}`) };
  }
}

/**
 * `tests` (local, weekly): runs each configured suite with its timeout; a failing one becomes a BUILD
 * alert (the alert engine resolves it when the suite passes) and, with `github` set, one GitHub issue.
 */
export const testsTask = defineTask('tests', async (ctx, result) => {
  const store = stateFile(
    path.join(ctx.stateDir, 'tests.json'),
    stateSchema,
    ctx.log,
    (): z.output<typeof stateSchema> => ({ suites: {} }),
  );
  const state = store.load();
  const checks: CheckResult[] = [];
  for (const suite of ctx.config.testSuites) {
    if (ctx.dryRun) {
      result.warnings.push(`dry run: would run "${suite.name}" in ${suite.cwdPath}`);
      continue;
    }
    ctx.progress.update(`tests: ${suite.name}`);
    const outcome = await runSuite({ ...suite, cwd: suite.cwdPath }, ctx.env);
    checks.push(suiteCheck(suite, outcome, ctx.machineId));
    if (!suite.github) continue;
    const gh = await reportOnGitHub(ctx, suite, outcome, state.suites[suite.name]?.lastCommentAt);
    if (gh.check) checks.push(gh.check);
    if (gh.note) result.warnings.push(gh.note);
    if (gh.commentedAt !== undefined) state.suites[suite.name] = { lastCommentAt: gh.commentedAt };
  }
  if (!ctx.dryRun) store.save(state);
  record(result, checks);
});
