import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';

/** A resolved value together with where it came from, so `config show` can say why. */
export interface Sourced<T> {
  value: T;
  source: string;
}

export interface IdentityInputs {
  sharedStateFlag?: string | undefined;
  machineFlag?: string | undefined;
  configFlag?: string | undefined;
  machineConfigFlag?: string | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
  hostname?: string;
}

export interface Identity {
  sharedState: Sourced<string>;
  machineId: Sourced<string>;
  configPath: Sourced<string>;
  /** This machine's own config (config/layers.ts): `--machine-config`, env, else the user's config folder. */
  machineConfig: Sourced<string>;
}

const MACHINE_ID = /^[a-z0-9][a-z0-9._-]*$/;

/** RooSync's own rule (docs/roosync-format.md): lowercase, anything outside [a-z0-9-] becomes `-`. */
export function machineIdFromHostname(hostname: string): string {
  return hostname.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

export function resolveMachineId(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  hostname = os.hostname(),
): Sourced<string> {
  const explicit =
    flag !== undefined
      ? { raw: flag, source: '--machine' }
      : env.ROOSYNC_MACHINE_ID
        ? { raw: env.ROOSYNC_MACHINE_ID, source: 'env ROOSYNC_MACHINE_ID' }
        : undefined;
  if (!explicit) return { value: machineIdFromHostname(hostname), source: `hostname (${hostname})` };
  const value = explicit.raw.trim().toLowerCase();
  if (!MACHINE_ID.test(value)) {
    throw new UsageError({
      where: explicit.source,
      message: `"${explicit.raw}" is not a usable machine id: expected lowercase letters, digits, '-', '.' or '_'`,
      hint: 'RooSync fleet ids look like myia-ai-01',
    });
  }
  return { value, source: explicit.source };
}

/**
 * Reads the `ROOSYNC_SHARED_PATH=` line of a RooSync `.env` file the way RooSync does:
 * `#` comment lines ignored, one pair of surrounding quotes stripped.
 */
export function readSharedPathFromDotEnv(text: string): string | undefined {
  let found: string | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?ROOSYNC_SHARED_PATH\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = (m[1] ?? '').trim();
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2] ?? '';
    else value = value.replace(/\s+#.*$/, '');
    found = value;
  }
  return found === '' ? undefined : found;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** RooSync's `.env`: named by ROOSYNC_ENV_FILE, else a `.env` in the working directory. */
function dotEnvCandidates(env: NodeJS.ProcessEnv, cwd: string): string[] {
  return env.ROOSYNC_ENV_FILE ? [path.resolve(cwd, env.ROOSYNC_ENV_FILE)] : [path.join(cwd, '.env')];
}

/** A folder that is a RooSync shared state itself: our config in it, or RooSync's inbox beside its sync config. */
function isSharedState(dir: string): boolean {
  if (existsSync(path.join(dir, DEFAULT_CONFIG_NAME))) return true;
  const roosync = existsSync(path.join(dir, 'sync-config.json')) || isDirectory(path.join(dir, 'maintenance'));
  return roosync && isDirectory(path.join(dir, 'messages', 'inbox'));
}

/**
 * As git finds its repository: from the current folder up, the first folder that holds a `.shared-state`
 * or is one (so running from inside the clone, or from any folder below the one holding it, works).
 */
function findFromFolder(cwd: string): Sourced<string> | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const inside = path.join(dir, '.shared-state');
    if (isDirectory(inside))
      return { value: inside, source: dir === path.resolve(cwd) ? './.shared-state' : `.shared-state in ${dir}` };
    if (isSharedState(dir)) return { value: dir, source: `the shared state holding the current folder (${dir})` };
    if (path.dirname(dir) === dir) return undefined;
  }
}

export function resolveSharedState(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): Sourced<string> {
  const candidates: Sourced<string>[] = [];
  if (flag !== undefined) candidates.push({ value: flag, source: '--shared-state' });
  else if (env.ROOSYNC_SHARED_PATH)
    candidates.push({ value: env.ROOSYNC_SHARED_PATH, source: 'env ROOSYNC_SHARED_PATH' });
  else {
    for (const file of dotEnvCandidates(env, cwd)) {
      if (!existsSync(file)) continue;
      const fromFile = readSharedPathFromDotEnv(readFileSync(file, 'utf8'));
      if (fromFile)
        candidates.push({
          value: path.resolve(path.dirname(file), fromFile),
          source: `ROOSYNC_SHARED_PATH in ${file}`,
        });
    }
    if (candidates.length === 0) {
      const found = findFromFolder(cwd);
      if (found) candidates.push(found);
    }
  }
  const chosen = candidates[0];
  if (!chosen) {
    throw new UsageError({
      where: 'shared state',
      message:
        'no shared-state folder found: ROOSYNC_SHARED_PATH is not set, no RooSync .env names it, and neither ' +
        'this folder nor any above it is or holds a .shared-state',
      hint: 'pass --shared-state <dir> or set ROOSYNC_SHARED_PATH',
    });
  }
  const value = path.resolve(cwd, chosen.value);
  if (!isDirectory(value)) {
    throw new UsageError({
      where: chosen.source,
      message: `${value} is not a directory`,
      hint: 'point it at the .shared-state folder (the git clone RooSync reads)',
    });
  }
  return { value, source: chosen.source };
}

export const DEFAULT_CONFIG_NAME = '.maintenance-config.json';

/** Where this machine's own config lives: `--machine-config`, env, else the user's config folder. */
export function machineConfigPath(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  home = os.homedir(),
): { value: string; source: string } {
  if (flag) return { value: path.resolve(flag), source: '--machine-config' };
  if (env.ROOSYNC_MAINT_MACHINE_CONFIG)
    return { value: path.resolve(env.ROOSYNC_MAINT_MACHINE_CONFIG), source: 'env ROOSYNC_MAINT_MACHINE_CONFIG' };
  if (platform === 'win32') {
    const appData = env.APPDATA ?? path.win32.join(env.USERPROFILE ?? home, 'AppData', 'Roaming');
    return { value: path.win32.join(appData, 'roosync-maint', 'machine.jsonc'), source: '%APPDATA% (default)' };
  }
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || home, '.config');
  return { value: path.join(base, 'roosync-maint', 'machine.jsonc'), source: '$XDG_CONFIG_HOME (default)' };
}

export function resolveIdentity(inputs: IdentityInputs): Identity {
  const sharedState = resolveSharedState(inputs.sharedStateFlag, inputs.env, inputs.cwd);
  const machineId = resolveMachineId(inputs.machineFlag, inputs.env, inputs.hostname);
  const configPath: Sourced<string> =
    inputs.configFlag !== undefined
      ? { value: path.resolve(inputs.cwd, inputs.configFlag), source: '--config' }
      : inputs.env.ROOSYNC_MAINT_CONFIG
        ? { value: path.resolve(inputs.cwd, inputs.env.ROOSYNC_MAINT_CONFIG), source: 'env ROOSYNC_MAINT_CONFIG' }
        : {
            value: path.join(sharedState.value, DEFAULT_CONFIG_NAME),
            source: 'default (<shared-state>/.maintenance-config.json)',
          };
  const flag = inputs.machineConfigFlag && path.resolve(inputs.cwd, inputs.machineConfigFlag);
  return { sharedState, machineId, configPath, machineConfig: machineConfigPath(flag, inputs.env) };
}
