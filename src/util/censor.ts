/**
 * The one secret matcher. Every channel that shows or stores text from elsewhere passes through it: the logs,
 * commands' output, alerts and digests, GitHub issues, `--json`, the MCP tools' results, and the config
 * snapshots that go to the shared state (configBackup/redact.ts). Two rules:
 *
 * - a value under a secret-named key (`token`, `sshKey`, `accessKeyId`, `SMTP_PASS`, `--password X`) is a secret;
 * - a value of a known secret shape (a PEM private key, a password inside a URL, `ghp_…`, `npm_…`, `glpat-…`,
 *   `AIza…`, `sk_live_…`, AWS access keys, JWTs, `Bearer …`) is a secret wherever it appears.
 *
 * Known values (an MCP server's env values) are replaced wherever they appear, too.
 */

export const CENSORED = '[redacted]';

/** The words that make a name secret, matched against its parts (`sshKey` → ssh, key; `SMTP_PASS` → smtp, pass). */
const SECRET_PARTS = new Set([
  'token',
  'password',
  'passwd',
  'pass',
  'pwd',
  'passphrase',
  'secret',
  'key',
  'apikey',
  'credential',
  'credentials',
  'auth',
  'authorization',
  'cookie',
  'private',
  'session',
  'signature',
  'bearer',
  'dsn',
]);

/** The parts of a name: camelCase, snake_case, kebab-case and dotted names alike, lowercased. */
function nameParts(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p.toLowerCase());
}

/** A name ending in one of these names a place or a property of a secret, not the secret (`tokenEnv`, `keyPath`). */
const NOT_A_SECRET_TAIL = new Set([
  'env',
  'name',
  'names',
  'path',
  'file',
  'files',
  'url',
  'host',
  'hosts',
  'expires',
  'expiry',
  'at',
  'count',
  'kind',
  'type',
  'probe',
  'hours',
  'days',
]);

/**
 * Whether a key, variable or flag name says its value is a secret: one of its parts is a secret word, and it
 * does not end in a word that names where the secret is. `key` alone names too many things (a drift key path)
 * to count by itself: `sshKey`, `API_KEY` and `accessKeyId` do.
 */
export function isSecretName(name: string): boolean {
  const parts = nameParts(name);
  const last = parts.at(-1);
  if (last === undefined || NOT_A_SECRET_TAIL.has(last)) return false;
  if (parts.length === 1 && last === 'key') return false;
  return parts.some((p) => SECRET_PARTS.has(p));
}

/** Secrets recognisable by their shape, wherever they appear. */
/** Where a token may start: a non-word character, the start, or an escape such as `\\n` (JSON inside JSON). */
const START = String.raw`(?<=^|[^A-Za-z0-9_]|\\[nrt])`;
const shaped = (body: string) => new RegExp(`${START}${body}`, 'g');

const SHAPED = [
  // PEM private keys (RSA, EC, OPENSSH, ENCRYPTED …), the whole block
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  shaped(String.raw`gh[pousr]_[A-Za-z0-9]{16,}\b`),
  shaped(String.raw`github_pat_[A-Za-z0-9_]{20,}\b`),
  shaped(String.raw`glpat-[A-Za-z0-9_-]{16,}\b`),
  shaped(String.raw`npm_[A-Za-z0-9]{30,}\b`),
  shaped(String.raw`AIza[0-9A-Za-z_-]{30,}\b`),
  shaped(String.raw`[rsp]k_(?:live|test)_[0-9A-Za-z]{16,}\b`),
  shaped(String.raw`sk-[A-Za-z0-9_-]{16,}\b`),
  shaped(String.raw`xox[abpors]-[A-Za-z0-9-]{10,}\b`),
  shaped(String.raw`(?:AKIA|ASIA)[0-9A-Z]{16}\b`),
  shaped(String.raw`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b`),
];

/** `scheme://user:password@host`: the password goes, the user and host stay. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]+:)([^\s/@'"]+)@/gi;

/** `Bearer …` / `Basic …` after any word (an Authorization header, a curl line). */
const SCHEME_VALUE = /\b(Bearer|Basic)\s+([A-Za-z0-9._~+/=-]{8,})/g;

/** `name=value`, `"name": "value"`, `name: value`: replaced when the name is secret (checked by its parts). */
const NAMED =
  /(?<=^|[^A-Za-z0-9_.\\-]|\\[nrt])([A-Za-z_][A-Za-z0-9_.-]*)(\\?"?\s*[:=]\s*(?:\\?["'])?)(?:(?:Bearer|Basic|token)\s+)?([^\s"'\\,;}\]]+)/g;

/** `--token X`, `--db-password X`: a secret-named flag followed by its value as the next word. */
const SPLIT_FLAG = /(?<=^|[^A-Za-z0-9_\\-]|\\[nrt])(--?[A-Za-z][A-Za-z0-9_-]*)(\s+)(?!-)(\\?["']?)([^\s"'\\]+)\3/g;

/** `token: GITHUB_TOKEN` names where a secret is, it is not one: an environment variable's name stays. */
const ENV_NAME = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;

/** Values shorter than this are too common to replace safely (a `1`, a `true`). */
const MIN_KNOWN = 6;

export function censorText(text: string, knownSecrets: readonly string[] = []): string {
  let out = text;
  // each known secret as it is, and as it reads inside JSON text (a quote or a backslash in it is escaped there)
  const forms = knownSecrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
  const known = [...new Set(forms)].filter((s) => s.length >= MIN_KNOWN).sort((a, b) => b.length - a.length);
  for (const s of known) out = out.split(s).join(CENSORED);
  for (const re of SHAPED) out = out.replace(re, CENSORED);
  out = out.replace(URL_PASSWORD, `$1${CENSORED}@`);
  out = out.replace(SCHEME_VALUE, (m, scheme: string, value: string) =>
    value === CENSORED ? m : `${scheme} ${CENSORED}`,
  );
  out = out.replace(NAMED, (m, name: string, sep: string, value: string) =>
    isSecretName(name) && !value.startsWith(CENSORED) && !ENV_NAME.test(value) ? `${name}${sep}${CENSORED}` : m,
  );
  return out.replace(SPLIT_FLAG, (m, flag: string, space: string, quote: string, value: string) =>
    isSecretName(flag) && value !== CENSORED ? `${flag}${space}${quote}${CENSORED}${quote}` : m,
  );
}

/**
 * A JSON-like value with every secret censored: values under secret-named keys replaced whole, every string
 * through `censorText`. Iterative, so a deep document cannot overflow the stack; shared references are copied
 * once each time they are met, cycles are cut.
 */
export function censorValue<T>(value: T, knownSecrets: readonly string[] = []): T {
  const seen = new WeakSet<object>();
  const visit = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return censorText(v, knownSecrets);
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v) || depth > 64) return '[…]';
    if (v instanceof Date) return v;
    seen.add(v);
    const out = Array.isArray(v)
      ? v.map((x) => visit(x, depth + 1))
      : Object.fromEntries(
          Object.entries(v).map(([k, x]) => [
            k,
            isSecretName(k) && (typeof x === 'string' || typeof x === 'number') ? CENSORED : visit(x, depth + 1),
          ]),
        );
    seen.delete(v);
    return out;
  };
  return visit(value, 0) as T;
}

/** The values of an MCP server's settings that may be secrets: every env value, and args that look like `--token=…`. */
export function secretsOf(server: { env: Record<string, string>; args: readonly string[] }): string[] {
  return [...Object.values(server.env).filter((v) => typeof v === 'string'), ...argSecrets(server.args).values()];
}

/**
 * The secrets in an argument list, by the index of the argument holding each: the value of `name=value` under a
 * secret name, and the whole argument after a secret-named flag (`--token X`). One rule for the probe's censoring
 * and for the config snapshots (configBackup/redact.ts).
 */
export function argSecrets(args: readonly unknown[]): Map<number, string> {
  const out = new Map<number, string>();
  args.forEach((a, i) => {
    if (typeof a !== 'string') return;
    const eq = a.indexOf('=');
    if (eq > 0 && isSecretName(a.slice(0, eq))) out.set(i, a.slice(eq + 1));
    const next = args[i + 1];
    if (/^--?[A-Za-z]/.test(a) && eq < 0 && isSecretName(a) && typeof next === 'string') out.set(i + 1, next);
  });
  return out;
}
