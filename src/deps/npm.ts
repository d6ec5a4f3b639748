import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { groupAlive, killGroup, runCommand, tailOf, type CommandSpec, type CommandRun } from '../util/command.js';
import { removeLeftoverTemps, unlessMissing, unlinkIfPresent, writeFileAtomic } from '../util/fs.js';

/**
 * npm as the `update` group needs it: what is outdated (`npm outdated --json`), and an update that
 * is either kept whole (the build and the tests passed) or undone whole (package.json and the lock put
 * back byte for byte, then `npm ci`), so a failed update never leaves a half-updated tree.
 */

export interface Outdated {
  package: string;
  current: string;
  wanted: string;
  latest: string;
}

export type UpdateLevel = 'patch' | 'minor';

/** npm by its name: the runner finds `npm.cmd` on Windows (util/command.ts). */
const NPM = 'npm';

function npm(args: string[], cwd: string, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<CommandRun> {
  return runCommand([NPM, ...args], { cwd, timeoutMs, ...(env && { env }) });
}

/** `npm outdated --json` (exit 1 just means "something is outdated"); a failure to run says why. */
export async function outdated(
  dir: string,
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Promise<{ ok: true; entries: Outdated[] } | { ok: false; reason: string }> {
  const run = await npm(['outdated', '--json'], dir, timeoutMs, env);
  if (run.timedOut) return { ok: false, reason: `npm outdated timed out after ${Math.round(timeoutMs / 1000)} s` };
  const start = run.output.indexOf('{');
  let parsed: Record<string, { current?: string; wanted?: string; latest?: string; error?: unknown }>;
  try {
    parsed = JSON.parse(start >= 0 ? run.output.slice(start) : '{}');
  } catch {
    return { ok: false, reason: `npm outdated said: ${tailOf(run.output, 3).join(' ')}` };
  }
  if (parsed.error) return { ok: false, reason: `npm outdated: ${JSON.stringify(parsed.error).slice(0, 300)}` };
  const entries = Object.entries(parsed).map(([name, v]) => ({
    package: name,
    current: v.current ?? 'not installed',
    wanted: v.wanted ?? '?',
    latest: v.latest ?? '?',
  }));
  return { ok: true, entries: entries.sort((a, b) => a.package.localeCompare(b.package)) };
}

const parts = (v: string) => v.split(/[.+-]/).slice(0, 3).map(Number);

/** How big a step from `from` to `to` is: patch, minor, major, or none (also: unknown versions are "major"). */
export function stepOf(from: string, to: string): 'none' | 'patch' | 'minor' | 'major' {
  if (from === to) return 'none';
  const [a, b] = [parts(from), parts(to)];
  if (a.some(Number.isNaN) || b.some(Number.isNaN) || a[0] !== b[0]) return 'major';
  return a[1] === b[1] ? 'patch' : 'minor';
}

/** The packages an update may move (pure): those whose `wanted` version is a step within `level`. */
export function updatable(entries: readonly Outdated[], level: UpdateLevel): Outdated[] {
  const allowed = level === 'patch' ? ['patch'] : ['patch', 'minor'];
  return entries.filter((e) => allowed.includes(stepOf(e.current, e.wanted)));
}

export interface UpdateResult {
  updated: boolean;
  /** What npm actually installed, read back from the lock (never what `npm outdated` wanted). */
  changed: { package: string; from: string; to: string }[];
  /** Set when the update was undone: which step failed, with the tail of its output. */
  failure?: { step: string; tail: string[] };
  /** Set when nothing was tried or nothing moved, with why. */
  skipped?: string;
}

export interface UpdateOptions {
  dir: string;
  level: UpdateLevel;
  buildCommand?: CommandSpec | undefined;
  testCommand?: CommandSpec | undefined;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** The intent file (local state): written before anything is touched, removed once kept or undone. */
  intent: string;
}

const LOCKED = ['package.json', 'package-lock.json'];

/**
 * What an update in flight needs to be undone after a kill: the two files as they were, and where it got
 * to. It is written before npm touches anything and removed only once the update is kept or undone
 * whole; a run that finds one finishes the rollback first (`finishInterrupted`).
 */
interface Intent {
  dir: string;
  startedAt: string;
  phase: 'updating' | 'rolling-back';
  saved: { name: string; base64: string }[];
  /** The process group of the step running now (npm, the build, the tests): a kill of ours leaves it running. */
  running?: number;
}

/** Where the intent for a checkout lives: this machine's local state, one file per checkout. */
export function intentFileFor(stateDir: string | undefined, dir: string): string {
  const key = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 16);
  return stateDir ? path.join(stateDir, 'deps-update', `${key}.json`) : path.join(dir, '.roosync-maint-update.json');
}

function writeIntent(file: string, intent: Intent): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify(intent, null, 2));
}

function readIntent(file: string): Intent | undefined {
  const text = unlessMissing(() => readFileSync(file, 'utf8'), undefined);
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Intent;
    return Array.isArray(v.saved) ? v : undefined;
  } catch {
    return undefined; // a torn intent: its write never finished, so npm never started
  }
}

/** Puts the saved files back byte for byte, then `npm ci` reinstalls exactly what they name; the intent goes once that passed. */
async function rollBack(o: UpdateOptions, intent: Intent): Promise<CommandRun> {
  await stopLeftover(intent);
  const rolling: Intent = { ...intent, phase: 'rolling-back' };
  delete rolling.running;
  writeIntent(o.intent, rolling);
  for (const s of intent.saved) writeFileAtomic(path.join(o.dir, s.name), Buffer.from(s.base64, 'base64'));
  const reinstall = await runCommand([NPM, 'ci', '--no-audit', '--no-fund'], {
    cwd: o.dir,
    timeoutMs: o.timeoutMs,
    ...(o.env && { env: o.env }),
    onStart: (pid) => writeIntent(o.intent, { ...rolling, running: pid }),
  });
  if (reinstall.exitCode === 0 && !reinstall.timedOut) unlinkIfPresent(o.intent);
  return reinstall;
}

/** A step a killed run left running (npm still writing node_modules) is stopped before anything is put back. */
async function stopLeftover(intent: Intent): Promise<void> {
  if (intent.running === undefined || !groupAlive(intent.running)) return;
  killGroup(intent.running);
  for (let i = 0; i < 200 && groupAlive(intent.running); i++) await new Promise((r) => setTimeout(r, 25));
}

/**
 * An update a killed run left half-done is undone first: the saved package.json and lock put back, `npm
 * ci`. Undefined when there was none; else what was found and whether the rollback finished (a failed
 * one keeps the intent, and the next run tries again).
 */
export async function finishInterrupted(
  o: Omit<UpdateOptions, 'level'>,
  dryRun: boolean,
): Promise<{ phase: string; startedAt: string; done: boolean; tail: string[] } | undefined> {
  // a run killed while writing the intent left its temp file: the run lock is held, so no write is in flight
  if (!dryRun) removeLeftoverTemps(o.intent);
  const intent = readIntent(o.intent);
  if (!intent) {
    unlinkIfPresent(o.intent);
    return undefined;
  }
  if (dryRun) return { phase: intent.phase, startedAt: intent.startedAt, done: false, tail: [] };
  const run = await rollBack({ ...o, level: 'patch' }, intent);
  const done = run.exitCode === 0 && !run.timedOut;
  return { phase: intent.phase, startedAt: intent.startedAt, done, tail: done ? [] : tailOf(run.output, 10) };
}

/** The version the lock names for a package (`undefined`: not in it). */
function lockedVersion(lock: Buffer | string | undefined, pkg: string): string | undefined {
  if (lock === undefined) return undefined;
  try {
    const l = JSON.parse(lock.toString()) as {
      packages?: Record<string, { version?: string }>;
      dependencies?: Record<string, { version?: string }>;
    };
    return l.packages?.[`node_modules/${pkg}`]?.version ?? l.dependencies?.[pkg]?.version;
  } catch {
    return undefined;
  }
}

/**
 * `npm update` of the packages within `level`, then the build and the tests; on any failure the two
 * files are put back as they were and `npm ci` reinstalls exactly what they name. An intent file makes
 * this whole across a kill too. The result says what the lock moved, read back after npm.
 */
export async function safeUpdate(o: UpdateOptions, candidates: readonly Outdated[]): Promise<UpdateResult> {
  const moves = updatable(candidates, o.level);
  if (moves.length === 0) return { updated: false, changed: [], skipped: `nothing to update within ${o.level}` };
  const saved = LOCKED.map((name) => ({ name, bytes: readFileSync(path.join(o.dir, name)) }));
  const intent: Intent = {
    dir: o.dir,
    startedAt: new Date().toISOString(),
    phase: 'updating',
    saved: saved.map((s) => ({ name: s.name, base64: s.bytes.toString('base64') })),
  };
  writeIntent(o.intent, intent);
  const steps: [string, CommandSpec | undefined][] = [
    ['npm update', [NPM, 'update', ...moves.map((m) => m.package)]],
    ['build', o.buildCommand],
    ['tests', o.testCommand],
  ];
  for (const [step, command] of steps) {
    if (!command) continue;
    const run = await runCommand(command, {
      cwd: o.dir,
      timeoutMs: o.timeoutMs,
      ...(o.env && { env: o.env }),
      onStart: (pid) => writeIntent(o.intent, { ...intent, running: pid }),
    });
    if (run.exitCode === 0 && !run.timedOut) continue;
    const reinstall = await rollBack(o, intent);
    const tail = tailOf(run.output, 20);
    if (reinstall.exitCode !== 0) tail.push('', 'and the reinstall (npm ci) failed:', ...tailOf(reinstall.output, 10));
    return { updated: false, changed: [], failure: { step: run.timedOut ? `${step} (timed out)` : step, tail } };
  }
  unlinkIfPresent(o.intent);
  const before = saved.find((s) => s.name === 'package-lock.json')?.bytes;
  const after = unlessMissing(() => readFileSync(path.join(o.dir, 'package-lock.json')), undefined);
  const changed = moves.flatMap((m) => {
    const [from, to] = [lockedVersion(before, m.package) ?? m.current, lockedVersion(after, m.package)];
    return to && to !== from ? [{ package: m.package, from, to }] : [];
  });
  if (changed.length === 0)
    return {
      updated: false,
      changed: [],
      skipped: `npm changed nothing (${moves.map((m) => m.package).join(', ')} stayed as the lock had them)`,
    };
  return { updated: true, changed };
}
