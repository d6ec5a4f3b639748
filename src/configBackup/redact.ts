import { createHash } from 'node:crypto';
import { parse, type ParseError } from 'jsonc-parser';
import { argSecrets, censorText, isSecretName } from '../util/censor.js';

/**
 * The copy of a config that leaves the machine (the shared state's `maintenance/configs/<machine>/`), redacted
 * by **allow-list**: only what config drift needs stays in clear, every other value becomes a marker keeping a
 * short hash of it, so two machines holding the same value still compare equal while the value never leaves.
 *
 * In clear:
 * - every key (server names, setting names);
 * - numbers, booleans and null (timeouts, flags), unless under a secret-named key;
 * - the strings of a few keys that say how a server runs and what it may do: `command`, `type`,
 *   `transportType`, the items of `args` (unless secret-named, secret-shaped, or the value after a secret-named
 *   flag), and tool names in `alwaysAllow`, `autoApprove`, `disabledTools`.
 *
 * Everything else (paths, URLs, every `env` value, every `.env` value) is a marker. A file that is neither
 * JSON (comments allowed) nor `NAME=value` lines is a marker line by line.
 */

/** `«secret sha256:1a2b3c4d»`: stable for a value, and says nothing of it. */
export function secretMarker(value: string): string {
  return `«secret sha256:${createHash('sha256').update(value).digest('hex').slice(0, 8)}»`;
}

export function isSecretMarker(value: unknown): boolean {
  return typeof value === 'string' && /^«secret sha256:[0-9a-f]{8}»$/.test(value);
}

/** Keys whose string values stay in clear (when not secret-shaped). */
const CLEAR_STRINGS = new Set(['command', 'type', 'transportType']);
/** Keys whose lists of strings stay in clear: arguments and tool names. */
const CLEAR_LISTS = new Set(['args', 'alwaysAllow', 'autoApprove', 'disabledTools']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

const clearString = (s: string) => censorText(s) === s;

/** An argument list: each item in clear unless secret; the value after a secret-named flag is a secret. */
function redactArgs(args: unknown[]): unknown[] {
  const secret = argSecrets(args);
  return args.map((a, i) => {
    if (typeof a !== 'string') return redactValue(a, false, '');
    return secret.has(i) || !clearString(a) ? secretMarker(a) : a;
  });
}

/**
 * A JSON value redacted by allow-list. `secret`: everything below is a secret; `key`: the key it sits under.
 * Iterative over objects' width; depth is bounded by the caller's parse (a config is never deeper than 64).
 */
function redactValue(value: unknown, secret: boolean, key: string, depth = 0): unknown {
  if (depth > 64) return secretMarker(JSON.stringify(value) ?? '');
  if (Array.isArray(value)) {
    if (!secret && CLEAR_LISTS.has(key)) return redactArgs(value);
    return value.map((v) => redactValue(v, secret, '', depth + 1));
  }
  if (isObject(value))
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        // an MCP server's env block: every value in it is treated as a secret
        redactValue(v, secret || isSecretName(k) || (k === 'env' && isObject(v)), k, depth + 1),
      ]),
    );
  if (typeof value === 'string') {
    if (value === '') return value;
    return !secret && CLEAR_STRINGS.has(key) && clearString(value) ? value : secretMarker(value);
  }
  if ((typeof value === 'number' || typeof value === 'boolean') && secret) return secretMarker(String(value));
  return value;
}

const ENV_LINE = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*?)(\r?)$/;
const BLANK_OR_COMMENT = /^\s*(#.*)?\r?$/;

/** `NAME=value` lines (`.env`): names and comments stay, every value is a marker (an empty one stays empty). */
function redactEnvLines(lines: string[]): string {
  return lines
    .map((line) => {
      const m = ENV_LINE.exec(line);
      if (!m) return BLANK_OR_COMMENT.test(line) ? censorText(line) : secretMarker(line);
      const [, lead, name, eq, raw, cr] = m as unknown as [string, string, string, string, string, string];
      const value = raw.replace(/^(['"])(.*)\1$/, '$2');
      return value === '' ? line : `${lead}${name}${eq}${secretMarker(value)}${cr}`;
    })
    .join('\n');
}

/** The shareable text of a config: JSON redacted key by key (pretty-printed), `.env` lines, else opaque lines. */
export function redactConfig(text: string): { text: string; format: 'json' | 'lines' } {
  const body = text.replace(/^\uFEFF/, '');
  const errors: ParseError[] = [];
  // JSONC, as VS Code writes mcp_settings.json: a comment must not turn a JSON file into "lines"
  const parsed: unknown = parse(body, errors, { allowTrailingComma: true });
  if (errors.length === 0 && isObject(parsed))
    return { text: `${JSON.stringify(redactValue(parsed, false, ''), null, 2)}\n`, format: 'json' };
  const lines = body.split('\n');
  const envLike = lines.every((l) => ENV_LINE.test(l) || BLANK_OR_COMMENT.test(l));
  return {
    text: envLike ? redactEnvLines(lines) : lines.map((l) => (l.trim() ? secretMarker(l) : l)).join('\n'),
    format: 'lines',
  };
}
