import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCommand, tailOf, type CommandSpec, type CommandRun } from '../util/command.js';
import { writeFileAtomic } from '../util/fs.js';

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

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

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
  changed: { package: string; from: string; to: string }[];
  /** Set when the update was undone: which step failed, with the tail of its output. */
  failure?: { step: string; tail: string[] };
  /** Set when nothing was tried, with why. */
  skipped?: string;
}

export interface UpdateOptions {
  dir: string;
  level: UpdateLevel;
  buildCommand?: CommandSpec | undefined;
  testCommand?: CommandSpec | undefined;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

const LOCKED = ['package.json', 'package-lock.json'];

/**
 * `npm update` of the packages within `level`, then the build and the tests; on any failure the two
 * files are put back as they were and `npm ci` reinstalls exactly what they name.
 */
export async function safeUpdate(o: UpdateOptions, candidates: readonly Outdated[]): Promise<UpdateResult> {
  const moves = updatable(candidates, o.level);
  if (moves.length === 0) return { updated: false, changed: [], skipped: `nothing to update within ${o.level}` };
  const saved = LOCKED.map((f) => ({ file: path.join(o.dir, f), text: readFileSync(path.join(o.dir, f)) }));
  const steps: [string, CommandSpec | undefined][] = [
    ['npm update', [NPM, 'update', ...moves.map((m) => m.package)]],
    ['build', o.buildCommand],
    ['tests', o.testCommand],
  ];
  for (const [step, command] of steps) {
    if (!command) continue;
    const run = await runCommand(command, { cwd: o.dir, timeoutMs: o.timeoutMs, ...(o.env && { env: o.env }) });
    if (run.exitCode === 0 && !run.timedOut) continue;
    for (const s of saved) writeFileAtomic(s.file, s.text);
    const reinstall = await npm(['ci', '--no-audit', '--no-fund'], o.dir, o.timeoutMs, o.env);
    const tail = tailOf(run.output, 20);
    if (reinstall.exitCode !== 0) tail.push('', 'and the reinstall (npm ci) failed:', ...tailOf(reinstall.output, 10));
    return { updated: false, changed: [], failure: { step: run.timedOut ? `${step} (timed out)` : step, tail } };
  }
  return { updated: true, changed: moves.map((m) => ({ package: m.package, from: m.current, to: m.wanted })) };
}
