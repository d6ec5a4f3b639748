import { readFile } from 'node:fs/promises';
import { createScanner, type ParseError, parse, printParseErrorCode, SyntaxKind } from 'jsonc-parser';
import { existsSync, lstatSync, realpathSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { UsageError, errorCode, type Problem } from '../errors.js';
import {
  configSchema,
  MCP_SETTINGS,
  type MaintenanceConfig,
  ROO_STORAGE,
  type RuleConfig,
  ZOO_STORAGE,
} from './schema.js';
import { ROO_HEARTBEAT_FOLDERS } from '../roosync/heartbeats.js';
import { describeChar, lineAndColumn, printable } from '../util/untrustedJson.js';
import { censorText } from '../util/censor.js';
import { expandPath, isTooBroad, type ExpandContext } from './paths.js';
import { isInside, pathKey } from '../util/paths.js';
import type { CommandSpec } from '../util/command.js';
import { layerConfigs, settingSources, type ConfigSource, type TrustState } from './layers.js';
import { readApprovals } from './trustStore.js';

/** `rules[0].root`, `rollback.retentionDays` — the JSON path the operator looks for. */
export function jsonPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments)
    out += typeof s === 'number' ? `[${s}]` : out === '' ? printable(String(s)) : `.${printable(String(s))}`;
  return out === '' ? '(top level)' : out;
}

function shown(value: unknown): string {
  const text = printable(censorText(JSON.stringify(value) ?? ''));
  if (text === '') return 'nothing';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function issueToProblems(file: string, issue: z.core.$ZodIssue): Problem[] {
  const at = (extra: PropertyKey[] = []) => `${file}: ${jsonPath([...issue.path, ...extra])}`;
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      where: at([key]),
      message: 'unknown key',
      hint: 'check its spelling; `roosync-maint config init` writes every known key',
    }));
  }
  const input = (issue as { input?: unknown }).input;
  const generic = /^Invalid input: expected (\w+), received (\w+)$/.exec(issue.message);
  const message = generic
    ? `expected ${generic[1]}, got ${generic[2]}`
    : issue.message.replace(/^Invalid option: /, '');
  const got = issue.code === 'custom' || input === undefined ? '' : ` (got ${shown(input)})`;
  return [{ where: at(), message: `${message}${got}` }];
}

/** A config is written by hand: a little deeper than our own files is fine, 200,000 levels is not. */
const CONFIG_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 32 };

/** jsonc-parser's error codes, said as a person would; what was found at the spot is added after. */
const PARSE_ERRORS: Partial<Record<string, string>> = {
  CommaExpected: "expected ','",
  ColonExpected: "expected ':'",
  PropertyNameExpected: 'expected a property name',
  ValueExpected: 'expected a value',
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: 'expected the end of the document',
  InvalidSymbol: 'expected a value',
  InvalidCharacter: 'a control character inside a string',
  UnexpectedEndOfString: 'a string is not closed',
  UnexpectedEndOfComment: 'a comment is not closed',
};

/**
 * The config as VS Code reads JSONC: comments and trailing commas allowed (jsonc-parser, the editor's own
 * parser). Depth is measured first with its scanner, which does not recurse, so 200,000 brackets cannot
 * overflow the stack; an error names its line and column.
 */
function parseJsonc(text: string, file: string): unknown {
  const fail = (message: string) =>
    new UsageError({ where: file, message, hint: 'fix the file or run `roosync-maint config validate` after editing' });
  if (text.length > CONFIG_LIMITS.maxBytes) throw fail(`too large (${text.length} characters)`);
  if (text.includes('\u0000')) throw fail('holds NUL bytes: it looks like UTF-16; save it as UTF-8');
  const scanner = createScanner(text, false);
  let depth = 0;
  for (let t = scanner.scan(); t !== SyntaxKind.EOF; t = scanner.scan()) {
    if (t === SyntaxKind.OpenBraceToken || t === SyntaxKind.OpenBracketToken) depth++;
    else if (t === SyntaxKind.CloseBraceToken || t === SyntaxKind.CloseBracketToken) depth--;
    if (depth > CONFIG_LIMITS.maxDepth)
      throw fail(
        `not valid JSON at ${lineAndColumn(text, scanner.getTokenOffset())}: nested deeper than ${CONFIG_LIMITS.maxDepth} levels`,
      );
  }
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, allowEmptyContent: true });
  const first = errors[0];
  if (first) {
    const code = printParseErrorCode(first.error);
    const said = PARSE_ERRORS[code] ?? code;
    const found = code === 'InvalidCharacter' ? '' : `, found ${describeChar(text[first.offset])}`;
    throw fail(`not valid JSON at ${lineAndColumn(text, first.offset)}: ${said}${found}`);
  }
  return value;
}

/** A config file's content as JSON (comments allowed), or undefined for an empty file. */
export function parseConfigRaw(text: string, file: string): unknown {
  return parseJsonc(text.replace(/^\uFEFF/, ''), file);
}

/** A raw config checked against the schema; every problem names the file and its JSON path. */
export function validateConfig(value: unknown, file: string): MaintenanceConfig {
  const parsed = configSchema.safeParse(value === undefined ? {} : value, { reportInput: true });
  if (!parsed.success) throw new UsageError(parsed.error.issues.flatMap((i) => issueToProblems(file, i)));
  return parsed.data;
}

export function parseConfigText(text: string, file: string): MaintenanceConfig {
  return validateConfig(parseConfigRaw(text, file), file);
}

/** The machine config is this machine's own file: a problem in it is the operator's to fix, never a fallback. */
export class MachineConfigError extends UsageError {}

/** Where the machine's own config and its approvals are (loaders without them obey policy only). */
export interface ConfigLayers {
  machineFile?: string;
  /** The local state's approvals of fleet configs (`config trust`). */
  trustFile?: string;
}

/** What the layering did: which file each setting came from, and what of the fleet config was not obeyed. */
export interface LayerInfo {
  machineFile: string | undefined;
  trustFile: string | undefined;
  machineFound: boolean;
  trust: TrustState;
  sources: Record<string, ConfigSource>;
}

export interface LoadedConfig {
  config: MaintenanceConfig;
  found: boolean;
  layers: LayerInfo;
}

async function readConfigRaw(file: string): Promise<{ raw: unknown; found: boolean; text?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return { raw: undefined, found: false };
    throw new UsageError({ where: file, message: `cannot read the config: ${errorCode(err) ?? String(err)}` });
  }
  return { raw: parseConfigRaw(text, file), found: true, text };
}

async function readMachineRaw(file: string | undefined): Promise<{ raw: unknown; found: boolean }> {
  if (!file) return { raw: undefined, found: false };
  try {
    const r = await readConfigRaw(file);
    validateConfig(r.raw, file);
    return r;
  } catch (err) {
    if (err instanceof UsageError) throw new MachineConfigError(err.problems);
    throw err;
  }
}

/**
 * The fleet config (its text already parsed) layered with this machine's config and approvals. The fleet
 * config is validated on its own first, so its problems name its file; then the machine config overrides it
 * key by key; the combination is validated again (a rule across keys, such as delete ≥ archive).
 */
export async function layerFleetConfig(
  fleetRaw: unknown,
  file: string,
  found: boolean,
  layers: ConfigLayers,
): Promise<LoadedConfig> {
  validateConfig(fleetRaw, file);
  const machine = await readMachineRaw(layers.machineFile);
  const approvals = layers.trustFile ? readApprovals(layers.trustFile) : [];
  const { merged, fleetInEffect, trust } = layerConfigs(fleetRaw, machine.raw, approvals);
  const where = machine.found ? `${file} with ${layers.machineFile}` : file;
  const config = validateConfig(merged, where);
  return {
    config,
    found,
    layers: {
      machineFile: layers.machineFile,
      trustFile: layers.trustFile,
      machineFound: machine.found,
      trust,
      sources: settingSources(config, fleetInEffect, machine.raw),
    },
  };
}

export async function loadConfigFile(file: string, layers: ConfigLayers = {}): Promise<LoadedConfig> {
  const fleet = await readConfigRaw(file);
  return layerFleetConfig(fleet.raw, file, fleet.found, layers);
}

/** No machine config, nothing approved, all defaults: what a loader without layers sees. */
export const NO_LAYERS: LayerInfo = {
  machineFile: undefined,
  trustFile: undefined,
  machineFound: false,
  trust: { hash: undefined, approved: true, unapproved: [], machineOnly: [] },
  sources: {},
};

/** A retention rule of the `rules` section with its root resolved inside the shared state. */
export interface ResolvedRule extends RuleConfig {
  rootPath: string;
}

/** Config with every path resolved for this machine; entries this machine cannot resolve are listed, not guessed. */
/** In `configBackup.files`: RooSync's `.env` file as ROOSYNC_ENV_FILE names it on this machine. */
const ROOSYNC_ENV = '<roosync-env>';

export interface ResolvedConfig {
  config: MaintenanceConfig;
  file: string;
  found: boolean;
  checkpointRoots: string[];
  localLogDirs: string[];
  localBackupFiles: string[];
  /** The test suites of this machine, their folders resolved (a suite whose folder uses an unset variable is skipped). */
  testSuites: (MaintenanceConfig['tests']['suites'][number] & { cwdPath: string })[];
  /** The files config-backup snapshots on this machine (read only: they may lie anywhere, the shared state included). */
  configBackupFiles: string[];
  mcpSettingsPath: string | undefined;
  depsDirs: string[];
  /** This machine's components (machine config only), their checkouts resolved. */
  components: { name: string; dir: string; build?: CommandSpec; verify?: CommandSpec; timeoutMs: number }[];
  rules: ResolvedRule[];
  /** Paths skipped on this machine (a variable it does not define), with the JSON path. */
  skipped: Problem[];
  /** The machine config and approvals behind this config (`config show`, the unapproved-settings notice). */
  layers: LayerInfo;
}

/** Folders inside the shared state that no rule may ever act in: secrets, git, and RooSync's liveness files. */
export const FORBIDDEN_SHARED_DIRS = ['env', '.git', ...Object.values(ROO_HEARTBEAT_FOLDERS)];

/** Whether a top folder of the shared state is one maintenance never touches (`ENV` is `env` where case is ignored). */
export function isForbiddenSharedDir(name: string, platform: NodeJS.Platform = process.platform): boolean {
  return FORBIDDEN_SHARED_DIRS.some((d) => pathKey(d, platform) === pathKey(name, platform));
}

/**
 * Why a folder must not be cleaned by this user, if it must not: it is a symbolic link (another user can point
 * `/tmp/roo-state-manager-logs` at your home), or on POSIX it belongs to another user. A folder that does not
 * exist yet is fine (nothing to clean).
 */
export function foreignFolder(p: string): string | undefined {
  let st: Stats;
  try {
    st = lstatSync(p);
  } catch {
    return undefined;
  }
  if (st.isSymbolicLink()) return 'is a symbolic link: not cleaned (name the real folder)';
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `belongs to another user (uid ${st.uid}): not cleaned`;
  return undefined;
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The default (Roo's) MCP settings file, or Zoo Code's where only Zoo's exists on this machine. */
function zooIfOnlyZoo(raw: string, ctx: ExpandContext): string {
  const roo = `${ROO_STORAGE}/${MCP_SETTINGS}`;
  if (raw !== roo) return raw;
  const zoo = `${ZOO_STORAGE}/${MCP_SETTINGS}`;
  const exists = (p: string) => {
    const ex = expandPath(p, ctx);
    return ex.ok && existsSync(ex.path);
  };
  return !exists(roo) && exists(zoo) ? zoo : roo;
}

export function resolveConfig(
  config: MaintenanceConfig,
  file: string,
  found: boolean,
  sharedState: string,
  ctx: ExpandContext,
  layers: LayerInfo = NO_LAYERS,
): ResolvedConfig {
  const problems: Problem[] = [];
  const skipped: Problem[] = [];
  const where = (segments: PropertyKey[]) => `${file}: ${jsonPath(segments)}`;
  const sharedReal = realOrSelf(sharedState);

  const localPath = (raw: string, segments: PropertyKey[], kind: 'dir' | 'file'): string | undefined => {
    const ex = expandPath(raw, ctx);
    if (!ex.ok) {
      skipped.push({ where: where(segments), message: `skipped on this machine: ${ex.missing} is not set` });
      return undefined;
    }
    if (!path.isAbsolute(ex.path)) {
      problems.push({
        where: where(segments),
        message: `expected an absolute path (or one starting with ~, $VAR, %VAR%, <tmp>), got "${raw}"`,
      });
      return undefined;
    }
    const target = kind === 'dir' ? ex.path : path.dirname(ex.path);
    if (isTooBroad(target, ctx.home) || isInside(target, sharedState) || isInside(realOrSelf(target), sharedReal)) {
      problems.push({
        where: where(segments),
        message:
          `refused: ${ex.path} is too broad a folder to clean (a filesystem root, your home folder, or ` +
          `one holding the shared state)`,
        hint: 'name the exact folder, e.g. <tmp>/roo-state-manager-logs',
      });
      return undefined;
    }
    return ex.path;
  };
  /** A folder this machine cleans: never a symbolic link, never another user's (a shared /tmp is anyone's). */
  const cleanable = (p: string, segments: PropertyKey[]): boolean => {
    const why = foreignFolder(p);
    if (why) skipped.push({ where: where(segments), message: `skipped on this machine: ${p} ${why}` });
    return why === undefined;
  };
  const list = (raws: string[], key: PropertyKey[], kind: 'dir' | 'file', cleans = false) =>
    raws.flatMap((raw, i) => {
      const p = localPath(raw, [...key, i], kind);
      return p === undefined || (cleans && !cleanable(p, [...key, i])) ? [] : [p];
    });

  const rules: ResolvedRule[] = config.rules.flatMap((rule, i) => {
    const rootPath = path.resolve(sharedState, rule.root);
    const rel = path.relative(sharedState, rootPath);
    const first = rel.split(path.sep)[0] ?? '';
    if (!isInside(sharedState, rootPath) || !isInside(sharedReal, realOrSelf(rootPath))) {
      problems.push({
        where: where(['rules', i, 'root']),
        message: `refused: "${rule.root}" resolves outside the shared state (${rootPath})`,
        hint: 'a rule root is a folder relative to the shared state',
      });
      return [];
    }
    if (isForbiddenSharedDir(first)) {
      problems.push({
        where: where(['rules', i, 'root']),
        message: `refused: ${first}/ is never touched by maintenance`,
      });
      return [];
    }
    return [{ ...rule, rootPath }];
  });

  const resolved: ResolvedConfig = {
    config,
    file,
    found,
    checkpointRoots: list(config.checkpoints.roots, ['checkpoints', 'roots'], 'dir', true),
    localLogDirs: list(config.localLogs.dirs, ['localLogs', 'dirs'], 'dir', true),
    localBackupFiles: list(config.localBackups.files, ['localBackups', 'files'], 'file'),
    configBackupFiles: config.configBackup.files.flatMap((raw, i) => {
      // RooSync's .env, where this machine names one (ROOSYNC_ENV_FILE); nothing to back up otherwise
      if (raw === ROOSYNC_ENV) return ctx.env.ROOSYNC_ENV_FILE ? [path.resolve(ctx.env.ROOSYNC_ENV_FILE)] : [];
      const ex = expandPath(raw, { ...ctx, sharedState });
      const segments = ['configBackup', 'files', i];
      if (!ex.ok) {
        skipped.push({ where: where(segments), message: `skipped on this machine: ${ex.missing} is not set` });
        return [];
      }
      if (path.isAbsolute(ex.path)) return [ex.path];
      problems.push({ where: where(segments), message: `expected an absolute path or a placeholder, got "${raw}"` });
      return [];
    }),
    mcpSettingsPath: (() => {
      const ex = expandPath(zooIfOnlyZoo(config.health.mcpSettingsPath, ctx), ctx);
      // every machine can write the shared state: a settings file there would let any of them pick our commands
      if (ex.ok && (isInside(sharedState, ex.path) || isInside(sharedReal, realOrSelf(ex.path)))) {
        // skipped, not fatal: the rest of the run goes on, and `config validate` and the MCP check say why
        skipped.push({
          where: where(['health', 'mcpSettingsPath']),
          message: `skipped: ${ex.path} is inside the shared state, which every machine can write`,
          hint: "name this machine's own Roo MCP settings file (the default finds it in VS Code's storage)",
        });
        return undefined;
      }
      if (ex.ok) return ex.path;
      skipped.push({
        where: where(['health', 'mcpSettingsPath']),
        message: `skipped on this machine: ${ex.missing} is not set`,
      });
      return undefined;
    })(),
    depsDirs: list(config.health.depsDirs, ['health', 'depsDirs'], 'dir'),
    testSuites: config.tests.suites.flatMap((suite, i) => {
      const ex = expandPath(suite.cwd, { ...ctx, sharedState });
      if (ex.ok && path.isAbsolute(ex.path)) return [{ ...suite, cwdPath: ex.path }];
      if (ex.ok)
        problems.push({
          where: where(['tests', 'suites', i, 'cwd']),
          message: `expected an absolute path, got "${suite.cwd}"`,
        });
      else
        skipped.push({
          where: where(['tests', 'suites', i, 'cwd']),
          message: `skipped on this machine: ${ex.missing} is not set`,
        });
      return [];
    }),
    components: Object.entries(config.components).flatMap(([name, c]) => {
      const ex = expandPath(c.dir, ctx);
      const segments = ['components', name, 'dir'];
      if (!ex.ok) {
        skipped.push({ where: where(segments), message: `skipped on this machine: ${ex.missing} is not set` });
        return [];
      }
      if (!path.isAbsolute(ex.path)) {
        problems.push({ where: where(segments), message: `expected an absolute path, got "${c.dir}"` });
        return [];
      }
      const commands = { ...(c.build && { build: c.build }), ...(c.verify && { verify: c.verify }) };
      return [{ name, dir: ex.path, ...commands, timeoutMs: c.timeoutMinutes * 60_000 }];
    }),
    rules,
    skipped,
    layers,
  };
  if (problems.length > 0) throw new UsageError(problems);
  return resolved;
}

export async function loadResolvedConfig(
  file: string,
  sharedState: string,
  ctx: ExpandContext,
  layers: ConfigLayers = {},
): Promise<ResolvedConfig> {
  const loaded = await loadConfigFile(file, layers);
  return resolveConfig(loaded.config, file, loaded.found, sharedState, ctx, loaded.layers);
}
