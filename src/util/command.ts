import { spawn } from 'node:child_process';
import { censorText } from './censor.js';

/** A command from the config: a command line (run by the platform's shell) or an argv (run without one). */
export type CommandSpec = string | readonly string[];

export interface CommandRun {
  exitCode: number | null;
  timedOut: boolean;
  /** stdout and stderr interleaved, colours removed, secrets censored, at most the last 2 MB. */
  output: string;
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
    /** Told the child's pid (its process group's id, off Windows) once it started: to find it again after a kill. */
    onStart?: (pid: number) => void;
  },
): Promise<CommandRun> {
  const started = Date.now();
  const [cmd, args, shell] =
    typeof command === 'string' ? [command, [] as string[], true] : [command[0] ?? '', command.slice(1), false];
  return new Promise((resolve) => {
    let out = '';
    const keep = (d: Buffer) => {
      out = (out + d.toString('utf8')).slice(-MAX_OUTPUT);
    };
    const child = spawn(cmd, [...args], {
      cwd: o.cwd,
      env: o.env ?? process.env,
      shell,
      detached: process.platform !== 'win32',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    if (child.pid) o.onStart?.(child.pid);
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) killGroup(child.pid);
    }, o.timeoutMs);
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let finished = false;
    const finish = (exitCode: number | null, extra = '') => {
      if (finished) return; // 'error' and 'close' may both come
      finished = true;
      clearTimeout(timer);
      const output = censorText(out + extra).replace(/\x1b\[[0-9;]*m/g, '');
      resolve({ exitCode, timedOut, output, durationMs: Date.now() - started });
    };
    child.on('error', (err) => finish(null, `\n${err.message}`));
    child.on('close', (code) => finish(code));
  });
}

/** Kills a process started by runCommand with everything it started (its process group, off Windows). */
export function killGroup(pid: number): void {
  try {
    if (process.platform !== 'win32') process.kill(-pid, 'SIGKILL');
    else process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
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
