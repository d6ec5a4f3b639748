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
