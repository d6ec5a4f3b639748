#!/usr/bin/env node
import { packageVersion } from '../util/version.js';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError, failureOf } from '../errors.js';
import type { Logger } from '../log.js';
import { parseCommandLine } from './args.js';
import type { CommandSpec, Outcome } from './kit.js';
import { mayBeQuiet, quietRun } from './quietRun.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 3 } as const;

export function helpText(COMMANDS: readonly CommandSpec[]): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  return [
    'roosync-maint — maintenance coordinator for RooSync fleets',
    '',
    'usage: roosync-maint <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'global options:',
    '  --shared-state <dir>   env ROOSYNC_SHARED_PATH; else RooSync .env (ROOSYNC_ENV_FILE or ./.env); else a .shared-state',
    '                         found from the current folder up, as git finds its repository',
    '  --machine <id>         env ROOSYNC_MACHINE_ID; else the hostname, lowercased, [^a-z0-9-] → -',
    '  --config <file>        env ROOSYNC_MAINT_CONFIG; else <shared-state>/.maintenance-config.json (missing = defaults)',
    '  --json                 exactly one JSON document on stdout',
    '  --dry-run              plan only: no file changed, no commit, no push',
    '  --no-sync              no pull/push/election: local tasks only (fleet tasks only with --leader)',
    '  --leader               with --no-sync: act as leader',
    '  --log-level <lvl>      env ROOSYNC_MAINT_LOG_LEVEL; fatal|error|warn|info|debug|trace|silent (pino JSON on stderr)',
    '',
    'exit codes: 0 done, 1 a task failed (health: a check failed), 2 usage or config error (nothing done),',
    '            3 busy (nothing done)',
  ].join('\n');
}

/**
 * `ROOSYNC_MAINT_NOW` (ISO time or epoch ms) fixes this process's clock: for simulations and
 * tests of the election (a machine whose clock is an hour fast, a lease that runs out).
 */
function clockFromEnv(env: NodeJS.ProcessEnv): (() => number) | undefined {
  const raw = env.ROOSYNC_MAINT_NOW;
  if (!raw) return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (Number.isNaN(ms))
    throw new UsageError({
      where: 'env ROOSYNC_MAINT_NOW',
      message: `"${raw}" is not a time`,
      hint: 'an ISO time or epoch milliseconds',
    });
  return () => ms;
}

/** Runs one CLI invocation; returns the exit code. Writes to the given streams only. */
export async function main(
  argv: readonly string[],
  io: {
    stdout: NodeJS.WritableStream;
    stderr: NodeJS.WritableStream;
    env: NodeJS.ProcessEnv;
    cwd: string;
    now?: () => number;
  },
): Promise<number> {
  const wantsJson = argv.includes('--json');
  const emit = (o: Outcome) => {
    io.stdout.write(
      wantsJson ? `${JSON.stringify(o.doc, null, 2)}\n` : o.lines.length ? `${o.lines.join('\n')}\n` : '',
    );
    return o.exitCode;
  };
  let human = false;
  const fail = (err: unknown, log?: Logger) => {
    const { exit, kind, problems } = failureOf(err);
    // on a terminal the error is printed once, below, never also as a log line
    if (!human) log?.error({ kind, problems }, 'stopped');
    if (wantsJson) return emit({ exitCode: EXIT[exit], doc: { ok: false, error: { kind, problems } }, lines: [] });
    io.stderr.write(
      `roosync-maint: ${kind}:\n${problems.map((p) => `  ${p.where}: ${p.message}${p.hint ? `\n    → ${p.hint}` : ''}`).join('\n')}\n`,
    );
    return EXIT[exit];
  };

  let log: Logger | undefined;
  try {
    const args = parseCommandLine(argv, io.env);
    const now = io.now ?? clockFromEnv(io.env) ?? Date.now;
    // most scheduled ticks have nothing to do: answered before anything heavy is loaded
    if (mayBeQuiet(args, io.env)) {
      const quiet = await quietRun(args, io.env, io.cwd, now());
      if (quiet) return emit(quiet);
    }
    const { createLogger, humanLogStream } = await import('../log.js');
    // a person at a terminal reads human lines (warnings and errors); scripts and files get pino's JSON
    human = !args.global.logLevelExplicit && (io.stderr as { isTTY?: boolean }).isTTY === true;
    log = human ? createLogger('warn', humanLogStream(io.stderr)) : createLogger(args.global.logLevel);
    if (args.version) return emit({ exitCode: EXIT.ok, doc: { version: packageVersion() }, lines: [packageVersion()] });
    const { COMMANDS, findCommand } = await import('./commands.js');
    const found = findCommand(args.command);
    if (args.help || args.command.length === 0) {
      const help = helpText(COMMANDS);
      return emit({ exitCode: args.help ? EXIT.ok : EXIT.usage, doc: { help }, lines: [help] });
    }
    if (!found)
      throw new UsageError({
        where: 'command line',
        message: `unknown command "${args.command.join(' ')}"`,
        hint: 'see roosync-maint --help',
      });
    if (found.rest.length > (found.spec.maxOperands ?? 0))
      throw new UsageError({
        where: 'command line',
        message: `unexpected argument "${found.rest.join(' ')}"`,
        hint: `usage: roosync-maint ${found.spec.usage}`,
      });
    const outcome = await found.spec.handler({
      args,
      env: io.env,
      cwd: io.cwd,
      log,
      now,
    });
    return emit(outcome);
  } catch (err) {
    return fail(err, log);
  }
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
  process.exitCode = code;
}
