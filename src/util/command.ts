import {
  type ChildProcess,
  type ChildProcessWithoutNullStreams,
  spawn,
  spawnSync,
  type StdioOptions,
} from 'node:child_process';
import crossSpawn from 'cross-spawn';
import { censorText } from './censor.js';

/**
 * The one process runner. Commands start the way each OS needs them:
 * - an argv runs without a shell; on Windows through cross-spawn, which finds `npm` as `npm.cmd` (PATHEXT) and runs
 *   `.cmd`/`.bat` shims through `cmd.exe /d /s /c` with their arguments escaped (Node 20.12.2+ refuses to spawn a
 *   `.cmd` directly: CVE-2024-27980);
 * - a string runs in the platform's shell (`/bin/sh -c`, `cmd.exe /d /s /c`);
 * - an MCP server starts as Roo starts it: on Windows wrapped in `cmd.exe /c` (so `npx` works);
 * - every process gets its own process group (POSIX) and no console window (Windows); a deadline or a stop kills
 *   the whole tree: the group on POSIX, `taskkill /T /F` on Windows (a grandchild holding the pipes dies too).
 */
export interface StartOptions {
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  stdio: StdioOptions;
}

/** Starts a command (argv or shell line) in its own group, with no console window; the caller owns it. */
export function startProcess(command: CommandSpec, o: StartOptions): ChildProcess {
  const common = {
    cwd: o.cwd,
    env: o.env ?? process.env,
    stdio: o.stdio,
    detached: process.platform !== 'win32',
    windowsHide: true,
  };
  if (typeof command === 'string') return spawn(command, [], { ...common, shell: true });
  const [file = '', ...args] = command;
  return crossSpawn(file, args, common);
}

/**
 * Starts an MCP server's command as Roo does (on Windows through `cmd.exe /c` unless it already is cmd), with
 * its stdio as three pipes; the caller owns it and ends it with killGroup.
 */
export function startLikeRoo(
  command: string,
  args: readonly string[],
  o: Omit<StartOptions, 'stdio'>,
): ChildProcessWithoutNullStreams {
  const wrapped = process.platform === 'win32' && !/^cmd(\.exe)?$/i.test(command);
  const [file, argv] = wrapped ? ['cmd.exe', ['/c', command, ...args]] : [command, [...args]];
  return spawn(file, argv, {
    cwd: o.cwd,
    env: o.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
    windowsHide: true,
  });
}

/** A command from the config: a command line (run by the platform's shell) or an argv (run without one). */
export type CommandSpec = string | readonly string[];

export interface CommandRun {
  exitCode: number | null;
  timedOut: boolean;
  /** stdout and stderr interleaved, colours removed, secrets censored, at most the last 2 MB. */
  output: string;
  /** stdout alone (uncensored, for a JSON report), when asked for with `stdout: true`. */
  stdout?: string;
  durationMs: number;
}

const MAX_OUTPUT = 2 * 1024 * 1024;

export function describeCommand(command: CommandSpec): string {
  return typeof command === 'string' ? command : command.join(' ');
}

/** Runs a command with a deadline; past it the whole process group is killed. Never throws. */
export function runCommand(
  command: CommandSpec,
  o: {
    cwd: string;
    timeoutMs: number;
    env?: NodeJS.ProcessEnv;
    /** Keep stdout apart as well (a command whose stdout is a JSON report). */
    stdout?: boolean;
    /** Told the child's pid (its process group's id, off Windows) once it started: to find it again after a kill. */
    onStart?: (pid: number) => void;
  },
): Promise<CommandRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    let out = '';
    const keep = (d: Buffer) => {
      out = (out + d.toString('utf8')).slice(-MAX_OUTPUT);
    };
    const child = startProcess(command, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    if (child.pid) o.onStart?.(child.pid);
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) killGroup(child.pid);
    }, o.timeoutMs);
    let stdout = '';
    child.stdout?.on('data', keep);
    if (o.stdout) child.stdout?.on('data', (d: Buffer) => (stdout = (stdout + d.toString('utf8')).slice(-MAX_OUTPUT)));
    child.stderr?.on('data', keep);
    let finished = false;
    const finish = (exitCode: number | null, extra = '') => {
      if (finished) return; // 'error' and 'close' may both come
      finished = true;
      clearTimeout(timer);
      const output = censorText(out + extra).replace(/\x1b\[[0-9;]*m/g, '');
      resolve({ exitCode, timedOut, output, ...(o.stdout && { stdout }), durationMs: Date.now() - started });
    };
    child.on('error', (err) => finish(null, `\n${err.message}`));
    child.on('close', (code) => finish(code));
  });
}

/** Kills a process started here with everything it started: its process group (POSIX), its tree (Windows). */
export function killGroup(pid: number): void {
  if (process.platform === 'win32') {
    killTreeWindows(pid);
    return;
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const quiet = { windowsHide: true, timeout: 10_000 } as const;

/**
 * Windows has no process groups: `taskkill /T /F` kills the tree by parent pid. Where taskkill has no `/T`
 * (Wine's), the tree is walked from `wmic process get ParentProcessId,ProcessId` (gone from recent Windows,
 * where /T works) and each process is terminated, the deepest first.
 */
function killTreeWindows(pid: number): void {
  const r = spawnSync('taskkill', ['/pid', String(pid), '/T', '/F'], { ...quiet, stdio: 'ignore' });
  if (r.status !== 0) {
    const list = spawnSync('wmic', ['process', 'get', 'ParentProcessId,ProcessId'], { ...quiet, encoding: 'buffer' });
    const tree = list.stdout ? descendantsOf(pid, parseProcessTable(list.stdout)) : [];
    for (const p of tree.reverse())
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** `wmic process get ParentProcessId,ProcessId` output (UTF-16 or UTF-8) as [parent, pid] pairs. */
export function parseProcessTable(out: Buffer): [number, number][] {
  const utf16 = out.length >= 2 && ((out[0] === 0xff && out[1] === 0xfe) || out.includes(Buffer.from([0x00, 0x0d])));
  const text = out.toString(utf16 ? 'utf16le' : 'utf8');
  return text.split(/\r?\n/).flatMap((line) => {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line.replace(/^\uFEFF/, ''));
    return m ? [[Number(m[1]), Number(m[2])] as [number, number]] : [];
  });
}

/** Every descendant of `root` (not `root` itself), parents before children. */
export function descendantsOf(root: number, pairs: readonly [number, number][]): number[] {
  const out: number[] = [];
  const queue = [root];
  const seen = new Set(queue);
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const [pp, p] of pairs)
      if (pp === parent && !seen.has(p)) {
        seen.add(p);
        out.push(p);
        queue.push(p);
      }
  }
  return out;
}

/** Whether a process group started by runCommand still has a live member (off Windows: the process itself). */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(process.platform !== 'win32' ? -pid : pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The last lines of a command's output. */
export function tailOf(output: string, lines = 40): string[] {
  return output.trimEnd().split('\n').slice(-lines);
}
