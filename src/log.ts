import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

import type { LogLevel } from './util/logLevels.js';

/**
 * Keys whose values are secrets wherever they appear in a log record. Tokens are only ever
 * described by name and expiry in our config, but the MCP settings we read carry `env` blocks
 * full of keys, so anything shaped like a secret is censored before it reaches stderr.
 */
const SECRET_KEYS = ['token', 'password', 'secret', 'authorization', 'apiKey', 'api_key', 'env'];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/** pino JSON on stderr (fd 2), never stdout: stdout belongs to the user or to --json. */
export function createLogger(level: LogLevel = 'info', destination: number | NodeJS.WritableStream = 2): Logger {
  const stream = typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  return pino(
    {
      name: 'roosync-maint',
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    stream,
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });

const LABELS: Record<number, string> = { 40: 'warning', 50: 'error', 60: 'fatal' };
const PINO_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v']);

/**
 * For a person at a terminal: each warning or error as one human line (`roosync-maint: warning: … (file: …)`),
 * nothing below warning, never JSON. Scripts and log files keep pino's JSON (any explicit --log-level).
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
        const details = Object.entries(rec)
          .filter(([k]) => !PINO_KEYS.has(k))
          .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
        out.write(`roosync-maint: ${label}: ${rec.msg ?? ''}${details.length ? ` (${details.join('; ')})` : ''}\n`);
      }
      done();
    },
  });
}
