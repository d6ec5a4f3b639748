#!/usr/bin/env node
import { packageVersion } from '../util/version.js';
import { censorText, censorValue } from '../util/censor.js';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError, failureOf } from '../errors.js';
import type { DeferredLogFile, Logger } from '../log.js';
import { quickParse } from './args.js';
import type { Outcome } from './kit.js';
import { mayBeQuiet, quietRun } from './quietRun.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 3 } as const;

const PAINT: Record<string, string> = {
  ok: '32',
  FAIL: '31',
  FAILED: '31',
  ERROR: '31',
  warn: '33',
  WARNING: '33',
  skip: '2',
};

/** Sparing colour: only the mark a line starts with (ok green, FAIL red, warn yellow, skip dim). */
export function paintMarks(line: string): string {
  return line.replace(/^(\s*)(ok|FAIL|FAILED|ERROR|warn|WARNING|skip)(?=\s|:)/, (_, space: string, mark: string) => {
    return `${space}\x1b[${PAINT[mark]}m${mark}\x1b[0m`;
  });
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
  // colour only for a person at a terminal who has not asked for none (https://no-color.org)
  const colour = (io.stdout as { isTTY?: boolean }).isTTY === true && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
  // -q: nothing but errors (a success prints nothing; a failure its error lines); --json still gives its document
  const quiet = argv.includes('-q') || argv.includes('--quiet');
  const emit = (o: Outcome) => {
    const shown = !quiet ? o.lines : o.exitCode === 0 ? [] : (o.errorLines ?? o.lines);
    // every line and document passes the one secret matcher (util/censor.ts) on its way out
    const lines = shown.map((l) => censorText(l)).map(colour ? paintMarks : (l) => l);
    const doc = wantsJson ? JSON.stringify(censorValue(o.doc), null, 2) : '';
    io.stdout.write(wantsJson ? `${doc}\n` : lines.length ? `${lines.join('\n')}\n` : '');
    return o.exitCode;
  };
  let human = false;
  const fail = (err: unknown, log?: Logger) => {
    const { exit, kind, problems } = failureOf(err);
    // a person sees the error once, below, never also as a log line; the log file still gets it
    (human ? fileLog : log)?.error({ kind, problems }, 'stopped');
    if (wantsJson) return emit({ exitCode: EXIT[exit], doc: { ok: false, error: { kind, problems } }, lines: [] });
    io.stderr.write(
      censorText(
        `roosync-maint: ${kind}:\n${problems.map((p) => `  ${p.where}: ${p.message}${p.hint ? `\n    → ${p.hint}` : ''}`).join('\n')}\n`,
      ),
    );
    return EXIT[exit];
  };

  let log: Logger | undefined;
  let logFile: DeferredLogFile | undefined;
  let fileLog: Logger | undefined;
  try {
    const now = io.now ?? clockFromEnv(io.env) ?? Date.now;
    if (argv.includes('--version'))
      return emit({ exitCode: EXIT.ok, doc: { version: packageVersion() }, lines: [packageVersion()] });
    // most scheduled ticks have nothing to do: answered before anything heavy is loaded
    const quick = quickParse(argv, io.env);
    if (quick && mayBeQuiet(quick, io.env)) {
      const quiet = await quietRun(quick, io.env, io.cwd, now());
      if (quiet) return emit(quiet);
    }
    const { COMMANDS } = await import('./catalogue.js');
    const { parseProgram } = await import('./program.js');
    const parsed = parseProgram(argv, COMMANDS, io.env);
    if (parsed.kind === 'text') return emit({ exitCode: parsed.exitCode, doc: parsed.doc, lines: [parsed.text] });
    const { args, spec } = parsed;
    const { createCliLogger, createLogger, DeferredLogFile } = await import('../log.js');
    // a person reads human lines (warnings and errors by default); JSON on stderr only when asked for
    human = args.global.logFormat === 'human';
    logFile = new DeferredLogFile();
    const { logLevel: level, logFormat: format } = args.global;
    log = createCliLogger({ level, format, stderr: io.stderr, file: logFile });
    fileLog = createLogger('error', logFile);
    return emit(await spec.handler({ args, env: io.env, cwd: io.cwd, log, now, logFile }));
  } catch (err) {
    return fail(err, log);
  } finally {
    log?.flush();
    logFile?.close();
  }
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** The process's own run: its streams, its environment; exits with the command's code once the output is written. */
async function runAsProcess(): Promise<void> {
  // a scheduled run may have no usable stdout (a hidden window, a closed pipe): losing the report is not a crash
  process.stdout.on('error', () => undefined);
  const code = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
  process.exitCode = code;
  // a one-shot command ends when it is done: a child something left behind (a hung transport) must not
  // keep this process alive and make a scheduler skip the next tick; the long-running ones return only at their end
  const drained = (s: NodeJS.WriteStream) => new Promise<void>((r) => (s.write('') ? r() : s.once('drain', r)));
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

// no top-level await: the installed CLI is this module bundled as CommonJS (scripts/build.mjs)
if (isEntryPoint()) void runAsProcess();
