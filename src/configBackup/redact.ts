import { createHash } from 'node:crypto';
import { censorText } from '../util/censor.js';

/**
 * The copy of a config that leaves the machine (the shared state's `maintenance/configs/<machine>/`):
 * every value that may be a secret is replaced by a marker keeping a short hash of it, so two machines
 * holding the same secret still compare equal (config drift) while the value itself never leaves.
 *
 * Secret-looking: a JSON key or `.env` name containing token, password, secret, key, authorization,
 * credential(s), auth, cookie or private; every value under an `env` object (MCP servers' environments);
 * and, anywhere else in the text, the token shapes the censor knows (ghp_…, sk-…, JWTs, …).
 */

const SECRET_KEY =
  /token|passw(or)?d|secret|(^|[^a-z])key|apikey|api_key|authori[sz]ation|credential|auth|cookie|private/i;

/** `«secret sha256:1a2b3c4d»`: stable for a value, and says nothing of it. */
export function secretMarker(value: string): string {
  return `«secret sha256:${createHash('sha256').update(value).digest('hex').slice(0, 8)}»`;
}

export function isSecretMarker(value: unknown): boolean {
  return typeof value === 'string' && /^«secret sha256:[0-9a-f]{8}»$/.test(value);
}

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;

/** A JSON value with every secret-looking leaf replaced; `secret`: everything below is a secret. */
function redactJson(value: unknown, secret: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => redactJson(v, secret));
  if (isObject(value))
    return Object.fromEntries(
      // an MCP server's env block: every value in it is treated as a secret
      Object.entries(value).map(([k, v]) => [
        k,
        redactJson(v, secret || SECRET_KEY.test(k) || (k === 'env' && isObject(v))),
      ]),
    );
  if (typeof value === 'string')
    return value !== '' && (secret || censorText(value) !== value) ? secretMarker(value) : value;
  if (typeof value === 'number' && secret) return secretMarker(String(value));
  return value;
}

/** `NAME=value` lines (`.env`): a secret-looking name keeps its name, loses its value; comments stay. */
function redactEnvLines(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const m = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*?)(\r?)$/.exec(line);
      if (!m) return censorText(line);
      const [, lead, name, eq, raw, cr] = m as unknown as [string, string, string, string, string, string];
      const value = raw.replace(/^(['"])(.*)\1$/, '$2');
      if (value !== '' && (SECRET_KEY.test(name) || censorText(value) !== value))
        return `${lead}${name}${eq}${secretMarker(value)}${cr}`;
      return `${lead}${name}${eq}${raw}${cr}`;
    })
    .join('\n');
}

/** The shareable text of a config: JSON redacted key by key (pretty-printed), anything else line by line. */
export function redactConfig(text: string): { text: string; format: 'json' | 'lines' } {
  try {
    const parsed: unknown = JSON.parse(text.replace(/^\uFEFF/, ''));
    if (typeof parsed === 'object' && parsed !== null)
      return { text: `${JSON.stringify(redactJson(parsed, false), null, 2)}\n`, format: 'json' };
  } catch {
    // not JSON: a .env or another line-based file
  }
  return { text: redactEnvLines(text), format: 'lines' };
}
