import { isSecretMarker } from './redact.js';

/**
 * Config drift between machines (pure): each machine's view of one file flattened to key paths
 * (`mcpServers.github.args[1]`), compared path by path. Secret markers compare by their hash, and are
 * shown only as "differs". Paths matching `ignore` (segments, `*` = any one segment) are meant to differ.
 */

export type Flat = Map<string, string>;

/** At most this many leaves of one file are compared; a bigger file is summarised past it, never a crash. */
export const MAX_LEAVES = 200_000;

/**
 * A JSON value as key path → leaf (as JSON text); arrays index as `[n]`. Iterative (an explicit stack), so a
 * document of any depth or width cannot overflow the call stack; past `MAX_LEAVES` leaves the rest is one
 * `(…)` entry saying how many were left out.
 */
export function flatten(value: unknown, maxLeaves = MAX_LEAVES): Flat {
  const out: Flat = new Map();
  const stack: [string, unknown][] = [['', value]];
  let skipped = 0;
  while (stack.length > 0) {
    const [prefix, v] = stack.pop() as [string, unknown];
    if (out.size >= maxLeaves) {
      skipped++;
      continue;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) out.set(prefix, '[]');
      for (let i = v.length - 1; i >= 0; i--) stack.push([`${prefix}[${i}]`, v[i]]);
    } else if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v);
      if (entries.length === 0 && prefix) out.set(prefix, '{}');
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i] as [string, unknown];
        stack.push([prefix ? `${prefix}.${k}` : k, x]);
      }
    } else if (v !== undefined) out.set(prefix, JSON.stringify(v));
  }
  if (skipped > 0) out.set('(…)', JSON.stringify(`${skipped} more values not compared`));
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

/** At most this many drifts are listed in a check, an alert or a run's warnings; the rest are counted. */
export const MAX_DRIFTS_LISTED = 200;

/** One drift in a line: the key path and who holds what (a secret only as "differs"). */
export function describeDrift(d: Drift): string {
  const who = d.values.map((v) => {
    const shown = d.secret && v.value !== ABSENT ? 'a secret' : v.value;
    return `${v.machines.join(', ')}: ${shown}`;
  });
  return `${d.keyPath} differs (${who.join('; ')})`;
}
