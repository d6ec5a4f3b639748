import { isSecretMarker } from './redact.js';

/**
 * Config drift between machines (pure): each machine's view of one file flattened to key paths
 * (`mcpServers.github.args[1]`), compared path by path. Secret markers compare by their hash, and are
 * shown only as "differs". Paths matching `ignore` (segments, `*` = any one segment) are meant to differ.
 */

export type Flat = Map<string, string>;

/** A JSON value as key path → leaf (as JSON text); arrays index as `[n]`. */
export function flatten(value: unknown, prefix = '', out: Flat = new Map()): Flat {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(prefix, '[]');
    for (const [i, v] of value.entries()) flatten(v, `${prefix}[${i}]`, out);
  } else if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0 && prefix) out.set(prefix, '{}');
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) out.set(prefix, JSON.stringify(value));
  return out;
}

/** `.env` text as key path → value (comments and blank lines aside). */
export function flattenLines(text: string): Flat {
  const out: Flat = new Map();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out.set(m[1]!, JSON.stringify(m[2]!.replace(/^(['"])(.*)\1$/, '$2')));
  }
  return out;
}

const segments = (keyPath: string) => keyPath.replace(/\[(\d+)\]/g, '.$1').split('.');

export function ignored(keyPath: string, patterns: readonly string[]): boolean {
  const have = segments(keyPath);
  return patterns.some((p) => {
    const want = segments(p);
    // a pattern covers its key path and everything below it
    return want.length <= have.length && want.every((w, i) => w === '*' || w === have[i]);
  });
}

export interface Drift {
  keyPath: string;
  /** Each distinct value with the machines holding it (`(absent)` when a machine lacks the key). */
  values: { value: string; machines: string[] }[];
  secret: boolean;
}

export const ABSENT = '(absent)';

/** Where the machines' flattened views disagree, sorted by key path. */
export function compareViews(views: ReadonlyMap<string, Flat>, ignore: readonly string[]): Drift[] {
  const keys = new Set<string>();
  for (const v of views.values()) for (const k of v.keys()) keys.add(k);
  const drifts: Drift[] = [];
  for (const keyPath of [...keys].sort()) {
    if (ignored(keyPath, ignore)) continue;
    const byValue = new Map<string, string[]>();
    for (const [machine, view] of views) {
      const value = view.get(keyPath) ?? ABSENT;
      byValue.set(value, [...(byValue.get(value) ?? []), machine]);
    }
    if (byValue.size < 2) continue;
    const secret = [...byValue.keys()].some((v) => v !== ABSENT && isSecretMarker(JSON.parse(v)));
    drifts.push({
      keyPath,
      secret,
      values: [...byValue.entries()].map(([value, machines]) => ({ value, machines: machines.sort() })),
    });
  }
  return drifts;
}

/** One drift in a line: the key path and who holds what (a secret only as "differs"). */
export function describeDrift(d: Drift): string {
  const who = d.values.map((v) => {
    const shown = d.secret && v.value !== ABSENT ? 'a secret' : v.value;
    return `${v.machines.join(', ')}: ${shown}`;
  });
  return `${d.keyPath} differs (${who.join('; ')})`;
}
