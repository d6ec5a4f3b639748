import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type ConfigLayers,
  layerFleetConfig,
  type LoadedConfig,
  loadConfigFile,
  MachineConfigError,
  parseConfigRaw,
  resolveConfig,
  type ResolvedConfig,
} from '../config/load.js';
import type { ExpandContext } from '../config/paths.js';
import { formatProblem, UsageError } from '../errors.js';
import { unlessMissing, writeFileAtomic } from '../util/fs.js';

/**
 * A fleet config pushed by any machine can be broken. A machine that refused to run on it would never sync
 * again, so it would never receive the fix: the fleet would stay stuck until someone pulled by hand. So a
 * run loads the config guarded: a valid one is also kept in local state as the last valid config; an invalid
 * one is reported (each problem with its JSON path) and the run goes on with the last valid config, or, on a
 * machine that never had one, with the defaults and no task but the sync, its status and the alert.
 */

export const LAST_VALID_FILE = 'last-valid-config.json';

export interface GuardedConfig {
  config: ResolvedConfig;
  /** Set when the config file is invalid: what is wrong, and what this run uses instead. */
  invalid?: { problems: string[]; using: 'last-valid' | 'defaults'; error: UsageError };
}

export async function loadGuarded(
  file: string,
  sharedState: string,
  stateDir: string,
  ctx: ExpandContext,
  layers: ConfigLayers = {},
): Promise<GuardedConfig> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfigFile(file, layers);
  } catch (err) {
    if (!(err instanceof UsageError) || err instanceof MachineConfigError) throw err;
    return fallBack(file, sharedState, stateDir, ctx, err, layers);
  }
  let config: ResolvedConfig;
  try {
    config = resolveConfig(loaded.config, file, loaded.found, sharedState, ctx, loaded.layers);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return fallBack(file, sharedState, stateDir, ctx, err, layers);
  }
  const text = loaded.found ? unlessMissing(() => readFileSync(file, 'utf8'), undefined) : undefined;
  if (text !== undefined) keepLastValid(stateDir, text);
  return { config };
}

function keepLastValid(stateDir: string, text: string): void {
  const saved = path.join(stateDir, LAST_VALID_FILE);
  if (unlessMissing(() => readFileSync(saved, 'utf8'), undefined) === text) return;
  try {
    mkdirSync(stateDir, { recursive: true });
    writeFileAtomic(saved, text);
  } catch {
    // a full disk: the previous last valid config stays
  }
}

async function fallBack(
  file: string,
  sharedState: string,
  stateDir: string,
  ctx: ExpandContext,
  error: UsageError,
  layers: ConfigLayers,
): Promise<GuardedConfig> {
  const problems = error.problems.map(formatProblem);
  const saved = path.join(stateDir, LAST_VALID_FILE);
  if (existsSync(saved)) {
    try {
      const raw = parseConfigRaw(readFileSync(saved, 'utf8'), saved);
      const last = await layerFleetConfig(raw, saved, true, layers);
      return {
        config: resolveConfig(last.config, file, true, sharedState, ctx, last.layers),
        invalid: { problems, using: 'last-valid', error },
      };
    } catch {
      // the saved copy no longer resolves on this machine: the defaults
    }
  }
  // the machine config still applies: its commands and paths are this machine's own
  const defaults = await layerFleetConfig(undefined, file, false, layers);
  return {
    config: resolveConfig(defaults.config, file, false, sharedState, ctx, defaults.layers),
    invalid: { problems, using: 'defaults', error },
  };
}

/** One line for the run's notes and the status file. */
export function invalidConfigNote(
  file: string,
  invalid: NonNullable<GuardedConfig['invalid']>,
  origin?: string,
): string {
  const using =
    invalid.using === 'last-valid'
      ? 'this machine keeps running with its last valid config'
      : 'this machine has no valid config yet: only the sync, its status and this alert run';
  const by = origin ? ` (last changed ${origin})` : '';
  return `${path.basename(file)} is invalid${by}: ${invalid.problems.join('; ')}; ${using} until a fix arrives`;
}
