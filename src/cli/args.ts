import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from '../util/logLevels.js';

export interface GlobalOptions {
  sharedState?: string;
  machine?: string;
  config?: string;
  json: boolean;
  dryRun: boolean;
  noSync: boolean;
  leader: boolean;
  logLevel: LogLevel;
  /** Whether the level was asked for (flag or env): otherwise a terminal gets human lines, not JSON. */
  logLevelExplicit: boolean;
}

export interface ParsedArgs {
  command: string[];
  global: GlobalOptions;
  tasks: string[];
  help: boolean;
  version: boolean;
  keep: boolean;
  force: boolean;
  wait: boolean;
  for?: string;
  at?: string;
}

const OPTIONS = {
  'shared-state': { type: 'string' },
  machine: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'no-sync': { type: 'boolean' },
  leader: { type: 'boolean' },
  'log-level': { type: 'string' },
  task: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  keep: { type: 'boolean' },
  force: { type: 'boolean' },
  wait: { type: 'boolean' },
  for: { type: 'string' },
  at: { type: 'string' },
} as const;

export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedArgs {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError({
      where: 'command line',
      message: err instanceof Error ? err.message.replace(/\. To specify.*$/s, '') : String(err),
      hint: 'see roosync-maint --help',
    });
  }
  const v = parsed.values;
  const logLevel = (v['log-level'] ?? env.ROOSYNC_MAINT_LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError({
      where: v['log-level'] ? '--log-level' : 'env ROOSYNC_MAINT_LOG_LEVEL',
      message: `unknown level "${logLevel}"`,
      hint: `one of ${LOG_LEVELS.join(', ')}`,
    });
  }
  if (v.leader && !v['no-sync']) {
    throw new UsageError({
      where: '--leader',
      message: 'only valid with --no-sync (with sync on, the lease decides who leads)',
    });
  }
  return {
    command: parsed.positionals,
    global: {
      ...(v['shared-state'] !== undefined && { sharedState: v['shared-state'] }),
      ...(v.machine !== undefined && { machine: v.machine }),
      ...(v.config !== undefined && { config: v.config }),
      json: v.json ?? false,
      dryRun: v['dry-run'] ?? false,
      noSync: v['no-sync'] ?? false,
      leader: v.leader ?? false,
      logLevel,
      logLevelExplicit: v['log-level'] !== undefined || env.ROOSYNC_MAINT_LOG_LEVEL !== undefined,
    },
    tasks: v.task ?? [],
    help: v.help ?? false,
    version: v.version ?? false,
    keep: v.keep ?? false,
    force: v.force ?? false,
    wait: v.wait ?? false,
    ...(v.for !== undefined && { for: v.for }),
    ...(v.at !== undefined && { at: v.at }),
  };
}
