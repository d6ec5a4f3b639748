/**
 * Free text from elsewhere (a server's stderr, a command's output) on its way to `--json`, a message
 * or a file: known secret values and secret-shaped words are replaced. The logs censor secret-named
 * keys (log.ts); this is the same rule for text that has no keys.
 */

const CENSORED = '[redacted]';

const SECRET_WORDS = 'token|password|passwd|secret|api[_-]?key|authorization|credentials?';

/** Tokens recognisable by their prefix (GitHub, OpenAI-style, Slack, AWS access keys, JWTs). */
const SHAPED = [
  /\bgh[pousr]_[A-Za-z0-9]{16,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bsk-[A-Za-z0-9_-]{16,}\b/g,
  /\bxox[abpors]-[A-Za-z0-9-]{10,}\b/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g,
];

/** `token=…`, `"password": "…"`, `Authorization: Bearer …`: the value after a secret-named word. */
const NAMED = new RegExp(
  `\\b([A-Za-z_-]*(?:${SECRET_WORDS})[A-Za-z_-]*)` + // the secret-named word
    '("?\\s*[:=]\\s*"?)(?:Bearer\\s+|Basic\\s+)?' + // its separator, and a scheme word if any
    '([^\\s"\',;]+)', // the value
  'gi',
);

const SECRET_NAME = new RegExp(SECRET_WORDS, 'i');

/** Values shorter than this are too common to replace safely (a `1`, a `true`). */
const MIN_KNOWN = 6;

export function censorText(text: string, knownSecrets: readonly string[] = []): string {
  let out = text;
  const known = [...new Set(knownSecrets)].filter((s) => s.length >= MIN_KNOWN).sort((a, b) => b.length - a.length);
  for (const s of known) out = out.split(s).join(CENSORED);
  for (const re of SHAPED) out = out.replace(re, CENSORED);
  return out.replace(NAMED, (_m, name: string, sep: string) => `${name}${sep}${CENSORED}`);
}

/** The values of an MCP server's settings that may be secrets: every env value, and args that look like `--token=…`. */
export function secretsOf(server: { env: Record<string, string>; args: readonly string[] }): string[] {
  const fromArgs = server.args.flatMap((a) => {
    const eq = a.indexOf('=');
    return eq > 0 && SECRET_NAME.test(a.slice(0, eq)) ? [a.slice(eq + 1)] : [];
  });
  return [...Object.values(server.env).filter((v) => typeof v === 'string'), ...fromArgs];
}
