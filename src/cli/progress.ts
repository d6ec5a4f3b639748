import type { Progress } from '../tasks/types.js';
import { noProgress } from '../tasks/types.js';

/**
 * A single self-rewriting status line on stderr, only when a person is watching (a TTY) and has not asked for
 * quiet (`-q`) or for JSON logs on stderr (a progress line would be spliced into them).
 */
export function ttyProgress(
  global: { quiet: boolean; logFormat: string },
  stream: NodeJS.WriteStream = process.stderr,
  everyMs = 100,
): Progress {
  if (!stream.isTTY || global.quiet || global.logFormat === 'json') return noProgress;
  let last = 0;
  let shown = false;
  return {
    update(text) {
      const now = Date.now();
      if (now - last < everyMs) return;
      last = now;
      shown = true;
      stream.write(`\r\x1b[2K${text.slice(0, (stream.columns ?? 80) - 1)}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}
