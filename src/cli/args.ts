import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from '../util/logLevels.js';
import { SCHEDULERS, type SchedulerKind } from '../setup/schedulers.js';

export type { SchedulerKind } from '../setup/schedulers.js';

export const LOG_FORMATS = ['human', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface GlobalOptions {
  sharedState?: string;
  machine?: string;
  config?: string;
  machineConfig?: string;
  json: boolean;
  dryRun: boolean;
  noSync: boolean;
  leader: boolean;
  /** What stderr shows: warn by default, error with -q, info with -v, debug with -vv, or --log-level. */
  logLevel: LogLevel;
  /** stderr as human lines (the default) or pino JSON (`--log-format json`). */
  logFormat: LogFormat;
  quiet: boolean;
}

export interface ParsedArgs {
  /** The command's words, then its operands (`restore <id>`: ['restore', id]). */
  command: string[];
  global: GlobalOptions;
  tasks: string[];
  keep: boolean;
  force: boolean;
  yes: boolean;
  revoke: boolean;
  stop: boolean;
  wait: boolean;
  listKept: boolean;
  for?: SchedulerKind;
  at?: string;
  out?: string;
  waves: string[];
  soak?: string;
}

export interface OptionDef {
  /** As commander writes it: `--task <name>`, `-q, --quiet`. */
  flags: string;
  description: string;
  choices?: readonly string[];
  /** Repeatable: `--task a --task b` collects, `-vv` counts. */
  repeat?: 'collect' | 'count';
}

/** Options every command takes, in the order `--help` lists them. */
export const GLOBAL_OPTIONS = {
  'shared-state': {
    flags: '--shared-state <dir>',
    description:
      'env ROOSYNC_SHARED_PATH; else RooSync .env (ROOSYNC_ENV_FILE or ./.env); else a .shared-state found from the ' +
      'current folder up, as git finds its repository',
  },
  machine: {
    flags: '--machine <id>',
    description: 'env ROOSYNC_MACHINE_ID; else the hostname, lowercased, [^a-z0-9-] → -',
  },
  config: {
    flags: '--config <file>',
    description: 'env ROOSYNC_MAINT_CONFIG; else <shared-state>/.maintenance-config.json (missing = defaults)',
  },
  'machine-config': {
    flags: '--machine-config <file>',
    description:
      "env ROOSYNC_MAINT_MACHINE_CONFIG; else this user's roosync-maint/machine.jsonc (~/.config, %APPDATA%): " +
      'commands, local paths, hosts; overrides the fleet config',
  },
  json: { flags: '--json', description: 'exactly one JSON document on stdout, errors included' },
  'dry-run': { flags: '--dry-run', description: 'plan only: no file changed, no commit, no push' },
  'no-sync': {
    flags: '--no-sync',
    description: 'no git: a plain folder elects through its lease file (a clone: local tasks only); --leader forces',
  },
  leader: { flags: '--leader', description: 'with --no-sync: act as leader' },
  quiet: { flags: '-q, --quiet', description: 'errors only on stderr, no progress line' },
  verbose: { flags: '-v, --verbose', description: 'more on stderr: -v info, -vv debug', repeat: 'count' },
  'log-level': {
    flags: '--log-level <level>',
    description: 'env ROOSYNC_MAINT_LOG_LEVEL; what stderr shows (default warn)',
    choices: LOG_LEVELS,
  },
  'log-format': {
    flags: '--log-format <format>',
    description: 'stderr as human lines (default) or pino JSON; the log file in the local state folder is always JSON',
    choices: LOG_FORMATS,
  },
  version: { flags: '--version', description: 'print the version' },
} as const satisfies Record<string, OptionDef>;

/** Options only some commands take; each command's spec names the ones it accepts. */
export const COMMAND_OPTIONS = {
  task: {
    flags: '--task <name>',
    description: 'run this task or group now, due or not (repeatable)',
    repeat: 'collect',
  },
  wait: { flags: '--wait', description: 'wait for another run on this machine instead of exiting 3' },
  'list-kept': {
    flags: '--list-kept',
    description: 'with --json: list every kept entry with its reason, not only counts',
  },
  keep: { flags: '--keep', description: 'keep the temp folder and print where it is' },
  force: { flags: '--force', description: 'overwrite an existing file' },
  yes: { flags: '--yes', description: 'approve without asking (for scripts)' },
  revoke: { flags: '--revoke', description: 'forget every approval of the fleet config on this machine' },
  stop: { flags: '--stop', description: "ask this machine's daemon to stop after its tick in flight (any OS)" },
  for: { flags: '--for <scheduler>', description: 'which scheduler', choices: SCHEDULERS },
  at: { flags: '--at <time>', description: 'the newest snapshot taken at or before this time (ISO)' },
  out: { flags: '--out <file>', description: 'the file to write' },
  waves: {
    flags: '--waves <machines>',
    description: "one wave: machine ids, comma-separated, or '*' for every other machine (repeatable, in order)",
    repeat: 'collect',
  },
  soak: { flags: '--soak <duration>', description: 'how long a wave runs before the next opens: 30m, 24h, 2d' },
} as const satisfies Record<string, OptionDef>;

export type CommandOptionName = keyof typeof COMMAND_OPTIONS;

/** Option values as both parsers hand them over, keyed by long name. */
export type RawOptions = Record<string, string | boolean | string[] | number | undefined>;

/** Validates and shapes parsed values; the one place both parsers' results become `ParsedArgs`. */
export function finishArgs(command: string[], v: RawOptions, env: NodeJS.ProcessEnv): ParsedArgs {
  const verbose = Number(v.verbose ?? 0);
  const fromFlags: LogLevel | undefined = v.quiet
    ? 'error'
    : verbose >= 2
      ? 'debug'
      : verbose === 1
        ? 'info'
        : undefined;
  const logLevel = ((v['log-level'] as string | undefined) ??
    fromFlags ??
    env.ROOSYNC_MAINT_LOG_LEVEL ??
    'warn') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError({
      where: v['log-level'] ? '--log-level' : 'env ROOSYNC_MAINT_LOG_LEVEL',
      message: `unknown level "${logLevel}"`,
      hint: `one of ${LOG_LEVELS.join(', ')}`,
    });
  }
  const noSync = v['no-sync'] === true;
  if (v.leader && !noSync) {
    throw new UsageError({
      where: '--leader',
      message: 'only valid with --no-sync (with sync on, the lease decides who leads)',
    });
  }
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  return {
    command,
    global: {
      ...(str('shared-state') !== undefined && { sharedState: str('shared-state') }),
      ...(str('machine') !== undefined && { machine: str('machine') }),
      ...(str('config') !== undefined && { config: str('config') }),
      ...(str('machine-config') !== undefined && { machineConfig: str('machine-config') }),
      json: v.json === true,
      dryRun: v['dry-run'] === true,
      noSync,
      leader: v.leader === true,
      logLevel,
      logFormat: (str('log-format') ?? env.ROOSYNC_MAINT_LOG_FORMAT ?? 'human') === 'json' ? 'json' : 'human',
      quiet: v.quiet === true,
    },
    tasks: Array.isArray(v.task) ? v.task.map(String) : [],
    keep: v.keep === true,
    force: v.force === true,
    yes: v.yes === true,
    revoke: v.revoke === true,
    stop: v.stop === true,
    wait: v.wait === true,
    listKept: v['list-kept'] === true,
    ...(str('for') !== undefined && { for: str('for') as SchedulerKind }),
    ...(str('at') !== undefined && { at: str('at') }),
    ...(str('out') !== undefined && { out: str('out') }),
    waves: Array.isArray(v.waves) ? v.waves.map(String) : [],
    ...(str('soak') !== undefined && { soak: str('soak') }),
  };
}

/** `--task <name>` → `task`, `-q, --quiet` → `quiet`. */
export function longName(def: OptionDef): string {
  return /--([a-z-]+)/.exec(def.flags)?.[1] ?? def.flags;
}

/**
 * The fast path's parser (node:util, nothing loaded): global options only, so any command-scoped flag or
 * anything unknown gives `undefined` and the full parser (commander) takes over and reports it.
 */
export function quickParse(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedArgs | undefined {
  const options = Object.fromEntries(
    Object.values(GLOBAL_OPTIONS).map((def: OptionDef) => {
      const short = /^-([a-z]),/.exec(def.flags)?.[1];
      const type = def.flags.includes('<') ? 'string' : 'boolean';
      return [longName(def), { type, ...(short && { short }), ...(def.repeat && { multiple: true }) }];
    }),
  ) as Parameters<typeof parseArgs>[0] extends infer C ? (C extends { options?: infer O } ? O : never) : never;
  try {
    const parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    const values: RawOptions = { ...(parsed.values as RawOptions) };
    if (Array.isArray(values.verbose)) values.verbose = values.verbose.length;
    return finishArgs(parsed.positionals, values, env);
  } catch {
    return undefined;
  }
}
