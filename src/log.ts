import { closeSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

import type { LogLevel } from './util/logLevels.js';
import { censorText, censorValue } from './util/censor.js';

/**
 * Every logger's options: our name, the pid, and secrets censored by the one matcher (util/censor.ts): a record's
 * values under secret-named keys at any depth, secret-shaped text anywhere, and the message itself. The MCP
 * settings we read carry `env` blocks full of keys: an `env` object's values are all treated as secrets.
 */
function loggerOptions(level: LogLevel): pino.LoggerOptions {
  return {
    name: 'roosync-maint',
    level,
    formatters: { log: (record) => censorValue(withoutEnvValues(record)) },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? censorText(a) : a)) as Parameters<typeof method>);
      },
    },
    base: { pid: process.pid },
    // the log file is read by people too: ISO times, not epoch milliseconds
    timestamp: pino.stdTimeFunctions.isoTime,
  };
}

/** `env: { NAME: value }` (an MCP server's environment) keeps its names and loses its values, at the top two levels. */
function withoutEnvValues(record: Record<string, unknown>): Record<string, unknown> {
  const strip = (v: unknown): unknown =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).map((k) => [k, '[redacted]']))
      : v === undefined
        ? v
        : '[redacted]';
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (k === 'env') out[k] = strip(v);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'env' in v)
      out[k] = { ...(v as object), env: strip((v as { env: unknown }).env) };
    else out[k] = v;
  }
  return out;
}

/** pino JSON on stderr (fd 2) or another destination, never stdout: stdout belongs to the user or to --json. */
export function createLogger(level: LogLevel = 'info', destination: number | pino.DestinationStream = 2): Logger {
  const stream = typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  return pino(loggerOptions(level), stream);
}

export const silentLogger: Logger = pino({ level: 'silent' });

const LABELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};
const PINO_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v']);

/**
 * For a person: each record as one human line (`roosync-maint: warning: … (file: …)`), never JSON. The
 * logger's level decides what reaches it (warn by default); `--log-format json` gives pino's JSON instead.
 */
export function humanLogStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line) as Record<string, unknown>;
        } catch {
          out.write(`${line}\n`);
          continue;
        }
        const label = LABELS[Number(rec.level)];
        if (!label) continue;
        // a record marked `said` says it all in its message (a phase, a task's end): its fields are for the file
        const details = Object.entries(rec)
          .filter(([k]) => !PINO_KEYS.has(k) && rec.said !== true)
          .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
        out.write(`roosync-maint: ${label}: ${rec.msg ?? ''}${details.length ? ` (${details.join('; ')})` : ''}\n`);
      }
      done();
    },
  });
}

/** The log file's size at which it is rotated, and how many rotated files are kept (`.1` newest). */
export const LOG_FILE_MAX_BYTES = 1024 * 1024;
export const LOG_FILE_KEEP = 3;

/** logrotate's `size` + `rotate N`, done when the file is opened: the current file becomes `.1`, `.N` goes. */
export function rotateLogFile(file: string, maxBytes = LOG_FILE_MAX_BYTES, keep = LOG_FILE_KEEP): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size < maxBytes) return false;
  for (let i = keep - 1; i >= 1; i--) {
    try {
      renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    } catch {
      // a missing generation is not a problem
    }
  }
  renameSync(file, `${file}.1`);
  return true;
}

/**
 * A log file that is known only once the shared state is: records written before `attach` are held (a few
 * hundred at most) and written then; never attached, they are dropped (help, usage errors).
 */
export class DeferredLogFile {
  private held: string[] = [];
  private fd: number | undefined;
  file: string | undefined;

  write(chunk: string): boolean {
    if (this.fd !== undefined) writeSync(this.fd, chunk);
    else if (this.held.length < 500) this.held.push(chunk);
    return true;
  }

  /** Opens (rotating first if it is too big) and flushes what was held; a file that cannot be opened is skipped. */
  attach(file: string): void {
    if (this.fd !== undefined) return;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      rotateLogFile(file);
      this.fd = openSync(file, 'a');
      this.file = file;
    } catch {
      this.held = [];
      return;
    }
    for (const chunk of this.held) writeSync(this.fd, chunk);
    this.held = [];
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The CLI's logger: stderr at the asked level, human lines or pino JSON; and the local log file, always JSON,
 * at info or below (so a scheduled run's story is there even when stderr shows warnings only).
 */
export function createCliLogger(o: {
  level: LogLevel;
  format: 'human' | 'json';
  stderr: NodeJS.WritableStream;
  file: DeferredLogFile;
}): Logger {
  const stderr = o.format === 'json' ? o.stderr : humanLogStream(o.stderr);
  const fileLevel: pino.Level = o.level === 'trace' || o.level === 'debug' ? o.level : 'info';
  const streams: pino.StreamEntry[] = [{ level: fileLevel, stream: o.file }];
  if (o.level !== 'silent') streams.push({ level: o.level as pino.Level, stream: stderr });
  // the logger lets through what its most talkative stream wants
  const level =
    o.level === 'silent' || pino.levels.values[o.level]! > pino.levels.values[fileLevel]! ? fileLevel : o.level;
  return pino(loggerOptions(level), pino.multistream(streams));
}
