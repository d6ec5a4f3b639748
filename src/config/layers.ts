import { createHash } from 'node:crypto';
import { censorText } from '../util/censor.js';
import { printable } from '../util/untrustedJson.js';
import { configSchema } from './schema.js';
import { compareText } from '../util/order.js';

/**
 * Two sources of config, and what each may decide.
 *
 * - The **fleet config** (`.maintenance-config.json` in the shared state) is written by anyone who can write the
 *   shared state: another machine, a compromised one, an agent through RooSync. It sets policy: ages, counts,
 *   intervals, thresholds, which tasks run.
 * - The **machine config** (local, never in the shared state) is this machine's operator's. It uses the same
 *   schema and overrides the fleet config key by key.
 *
 * A *powerful* setting makes the machine run a command, read, copy or clean a path outside the shared state,
 * send a secret somewhere, or hand control to agents. From the machine config it takes effect. From the fleet
 * config it takes effect only once this machine's operator approved that exact content (`config trust`, a hash
 * in local state, as direnv's `allow`); until then it is ignored and reported. A few settings are honoured from
 * the machine config only, whatever is approved.
 */

/** Paths of powerful settings; `[]` stands for every entry of an array. */
export const POWERFUL_PATHS = [
  'tests.suites',
  'deps.buildCommand',
  'deps.testCommand',
  'deps.update',
  'health.remediation.servers',
  'health.mcpProbeCalls',
  'health.mcpSettingsPath',
  'health.depsDirs',
  'health.tokens[].env',
  'health.tokens[].probe',
  'configBackup.files',
  'localBackups.files',
  'localLogs.dirs',
  'checkpoints.roots',
] as const;

/** Honoured from the machine config only: approval of the fleet config never turns these on. */
export const MACHINE_ONLY_PATHS = ['mcp.allowRun', 'trust', 'components'] as const;

export type ConfigSource = 'default' | 'fleet' | 'machine';

export interface PowerfulSetting {
  /** `tests.suites`, `health.tokens[0].env`. */
  path: string;
  value: unknown;
}

export interface TrustState {
  /** The hash of the fleet config's powerful part (empty part: no hash needed, nothing to approve). */
  hash: string | undefined;
  /** Powerful settings of the fleet config in effect: approved (or none asked for). */
  approved: boolean;
  /** The fleet config's powerful settings this machine has not approved: ignored. */
  unapproved: PowerfulSetting[];
  /** Settings the fleet config sets that only the machine config may set: ignored. */
  machineOnly: PowerfulSetting[];
}

type Json = unknown;
type JsonObject = Record<string, Json>;

const isObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The settings at one pattern path of a raw config (each array entry for `[]`), with their concrete paths. */
function settingsAt(raw: Json, pattern: string): PowerfulSetting[] {
  let found: PowerfulSetting[] = [{ path: '', value: raw }];
  for (const part of pattern.split('.')) {
    const each = part.endsWith('[]');
    const key = each ? part.slice(0, -2) : part;
    found = found.flatMap((f) => {
      if (!isObject(f.value) || !Object.hasOwn(f.value, key)) return [];
      const at = f.path === '' ? key : `${f.path}.${key}`;
      const value = f.value[key];
      if (!each) return [{ path: at, value }];
      return Array.isArray(value) ? value.map((v, i) => ({ path: `${at}[${i}]`, value: v })) : [];
    });
  }
  return found;
}

/** The program's own defaults are trusted: a fleet config that spells one out asks for nothing new. */
let defaults: Json;
function isDefault(s: PowerfulSetting): boolean {
  defaults ??= configSchema.parse({});
  const [found] = settingsAt(defaults, s.path);
  if (found === undefined) return false;
  // a list that names only default entries (an older starter listed fewer) asks for nothing new either
  if (Array.isArray(found.value) && Array.isArray(s.value)) {
    const known = new Set(found.value.map(canonicalJson));
    return s.value.every((v) => known.has(canonicalJson(v)));
  }
  return canonicalJson(found.value) === canonicalJson(s.value);
}

/** Every powerful setting a raw config holds that differs from the default, in a stable order. */
export function powerfulSettings(raw: Json): PowerfulSetting[] {
  return POWERFUL_PATHS.flatMap((p) => settingsAt(raw, p)).filter((s) => !isDefault(s));
}

export function machineOnlySettings(raw: Json): PowerfulSetting[] {
  return MACHINE_ONLY_PATHS.flatMap((p) => settingsAt(raw, p)).filter((s) => !isDefault(s));
}

/** JSON with keys sorted at every level: one text for one content, whatever the key order or spacing. */
export function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The hash an approval records: of the powerful settings only, so policy edits need no new approval. */
export function powerfulHash(settings: readonly PowerfulSetting[]): string | undefined {
  if (settings.length === 0) return undefined;
  const text = canonicalJson(settings.map((s) => [s.path, s.value]));
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** A copy of `raw` without the settings at `paths` (concrete paths, as `powerfulSettings` gives them). */
function without(raw: Json, paths: readonly string[]): Json {
  const copy = structuredClone(raw);
  for (const p of paths) {
    const parts = p.split(/\.|(?=\[)/);
    let at: Json = copy;
    for (const part of parts.slice(0, -1)) {
      const index = /^\[(\d+)\]$/.exec(part);
      at = index ? (at as Json[])[Number(index[1])] : (at as JsonObject)[part];
    }
    const last = parts.at(-1) ?? '';
    if (isObject(at)) delete at[last];
  }
  return copy;
}

/** A token entry left with neither a date nor a probe once its env and probe are ignored says nothing: dropped. */
function dropEmptyTokens(raw: Json): Json {
  if (!isObject(raw) || !isObject(raw.health) || !Array.isArray(raw.health.tokens)) return raw;
  const tokens = raw.health.tokens.filter((t) => !isObject(t) || t.expiresAt !== undefined || t.probe !== undefined);
  return { ...raw, health: { ...raw.health, tokens } };
}

/**
 * Key by key: objects merge, anything else (a value, an array) from `over` replaces `base`'s. Recursion is
 * bounded: a config file is at most 32 levels deep (load.ts checks before parsing).
 */
export function mergeConfigs(base: Json, over: Json): Json {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(out[k]) && isObject(v) ? mergeConfigs(out[k], v) : v;
  return out;
}

/** The fleet config as this machine obeys it: powerful settings only if approved, machine-only ones never. */
export function layerConfigs(
  fleet: Json,
  machine: Json,
  approvedHashes: readonly string[],
): { merged: Json; fleetInEffect: Json; trust: TrustState } {
  const powerful = powerfulSettings(fleet);
  const hash = powerfulHash(powerful);
  const approved = hash === undefined || approvedHashes.includes(hash);
  const machineOnly = machineOnlySettings(fleet);
  const dropped = [...(approved ? [] : powerful), ...machineOnly].map((s) => s.path);
  // keys are deleted, array entries never spliced: no path shifts another
  const fleetInEffect = dropEmptyTokens(without(fleet ?? {}, dropped));
  return {
    merged: mergeConfigs(fleetInEffect, machine ?? {}),
    fleetInEffect,
    trust: { hash, approved, unapproved: approved ? [] : powerful, machineOnly },
  };
}

/**
 * Where each setting of the effective config came from: the machine config, the fleet config, or the
 * defaults. Keys are dotted paths down to the leaves of the defaults' shape (arrays are leaves).
 */
export function settingSources(effective: Json, fleetInEffect: Json, machine: Json): Record<string, ConfigSource> {
  const out: Record<string, ConfigSource> = {};
  const has = (raw: Json, parts: string[]) => {
    let at = raw;
    for (const p of parts) {
      if (!isObject(at) || !Object.hasOwn(at, p)) return false;
      at = at[p];
    }
    return true;
  };
  const stack: { value: Json; parts: string[] }[] = [{ value: effective, parts: [] }];
  while (stack.length > 0) {
    const { value, parts } = stack.pop() as { value: Json; parts: string[] };
    const leaf = !isObject(value) || parts[0] === 'rules' || (parts.length === 3 && parts[1] === 'remediation');
    if (!leaf || parts.length === 0) {
      for (const [k, v] of Object.entries(value as JsonObject)) stack.push({ value: v, parts: [...parts, k] });
      continue;
    }
    out[parts.join('.')] = has(machine, parts) ? 'machine' : has(fleetInEffect, parts) ? 'fleet' : 'default';
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => compareText(a, b)));
}

/** One line per setting, for `config trust`, run notes and the alert: its path and its value, bounded. */
export function describeSetting(s: PowerfulSetting, width = 160): string {
  const text = printable(censorText(JSON.stringify(s.value) ?? 'undefined'));
  return `${s.path} = ${text.length > width ? `${text.slice(0, width - 3)}...` : text}`;
}

/**
 * What this machine does not obey of the fleet config, in words: for `run`, `status`, `doctor`, the
 * health check and the alert. Empty when everything asked for is in effect.
 */
export function trustNotice(trust: TrustState): string[] {
  const out: string[] = [];
  const n = trust.unapproved.length;
  if (n > 0)
    out.push(
      `the fleet config asks for ${n} setting${n === 1 ? '' : 's'} this machine has not approved: ` +
        `${trust.unapproved.map((s) => s.path).join(', ')}; they are ignored until its operator runs ` +
        '`roosync-maint config trust` (which shows them) on this machine',
    );
  if (trust.machineOnly.length > 0)
    out.push(
      `the fleet config sets ${trust.machineOnly.map((s) => s.path).join(', ')}, which only this machine's own ` +
        'config may set: ignored',
    );
  return out;
}

/** The same for `--json`: each setting with its (bounded) value. */
export function trustDoc(trust: TrustState) {
  return {
    approved: trust.approved,
    hash: trust.hash ?? null,
    unapproved: trust.unapproved.map((s) => describeSetting(s)),
    machineOnlyIgnored: trust.machineOnly.map((s) => describeSetting(s)),
  };
}
