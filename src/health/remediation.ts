import { readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { censorText, secretsOf } from '../util/censor.js';
import { runCommand, tailOf, type CommandSpec } from '../util/command.js';
import { unlessMissing } from '../util/fs.js';
import type { McpProbe, McpServerConfig } from './mcp.js';

/**
 * Bringing a down MCP server back, bounded the way Monit bounds its restarts: at most `maxAttempts`
 * attempts within `windowHours`, counted in local state that survives restarts; past that, it stops
 * trying and says so. An attempt: build when the entry point is missing or older than its sources,
 * then restart (the configured command, or make Roo reload the server by touching what Roo watches),
 * then probe again. Commands are the config's own (argv or command line); nothing from the server's
 * settings is ever put into them; their output is censored with the server's secrets.
 */

export interface RemediationSpec {
  cwd: string;
  build?: CommandSpec | undefined;
  restart?: CommandSpec | undefined;
}

export interface AttemptHistory {
  attempts: number[];
}

/** Whether another attempt is allowed now (pure), and how many were made within the window. */
export function attemptAllowed(
  history: AttemptHistory | undefined,
  now: number,
  maxAttempts: number,
  windowMs: number,
): { allowed: boolean; inWindow: number[] } {
  const inWindow = (history?.attempts ?? []).filter((t) => now - t < windowMs && t <= now);
  return { allowed: inWindow.length < maxAttempts, inWindow };
}

const SOURCE_DIRS = ['src', 'lib'];

function newestMtime(dir: string, depth = 0): number {
  if (depth > 6) return 0;
  let newest = 0;
  for (const e of unlessMissing(() => readdirSync(dir, { withFileTypes: true }), [])) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    const t = e.isDirectory() ? newestMtime(p, depth + 1) : unlessMissing(() => statSync(p).mtimeMs, 0);
    newest = Math.max(newest, t);
  }
  return newest;
}

/** The server's entry point: its first argument that names a script (relative to its folder). */
export function entryPointOf(server: McpServerConfig, cwd: string): string | undefined {
  const script = server.args.find((a) => /\.(m|c)?js$/.test(a));
  return script === undefined ? undefined : path.resolve(server.cwd ?? cwd, script);
}

/** Missing, or older than the newest file under its project's src/ or lib/: a build is due. */
export function buildDue(server: McpServerConfig, cwd: string): { due: boolean; why: string } {
  const entry = entryPointOf(server, cwd);
  if (!entry) return { due: true, why: 'no script entry point in its arguments' };
  const built = unlessMissing(() => statSync(entry).mtimeMs, undefined);
  if (built === undefined) return { due: true, why: `${entry} is missing` };
  const sources = Math.max(...SOURCE_DIRS.map((d) => newestMtime(path.join(cwd, d))));
  return sources > built ? { due: true, why: `${entry} is older than its sources` } : { due: false, why: 'built' };
}

export interface Remedy {
  ok: boolean;
  /** What was done, for the digest ("rebuilt and restarted github-mcp: ok"). */
  detail: string;
  /** The commands' last lines, censored. */
  output: string[];
  /** The probe after the attempt (none when the attempt stopped before restarting). */
  probe?: McpProbe;
}

/** One attempt: build if due, restart, probe again. */
export async function remediate(
  server: McpServerConfig,
  spec: RemediationSpec,
  o: { settingsFile: string; timeoutMs: number; env: NodeJS.ProcessEnv; probe: () => Promise<McpProbe> },
): Promise<Remedy> {
  const secrets = secretsOf(server);
  const output: string[] = [];
  const done: string[] = [];
  const run = async (what: string, command: CommandSpec) => {
    const r = await runCommand(command, { cwd: spec.cwd, timeoutMs: o.timeoutMs, env: o.env });
    output.push(`$ ${what}`, ...tailOf(censorText(r.output, secrets), 15));
    return r.exitCode === 0 && !r.timedOut;
  };
  const fail = (why: string): Remedy => ({
    ok: false,
    detail: `${done.join(' and ') || 'tried to fix'} ${server.name}: ${why}`,
    output,
  });
  if (spec.build && buildDue(server, spec.cwd).due) {
    if (!(await run('build', spec.build))) return fail('the build failed');
    done.push('rebuilt');
  }
  if (spec.restart) {
    if (!(await run('restart', spec.restart))) return fail('the restart command failed');
  } else {
    // Roo reloads a server when mcp_settings.json (or one of the server's watchPaths) changes
    const watched = server.watchPaths?.[0] ?? o.settingsFile;
    const now = new Date();
    unlessMissing(() => utimesSync(watched, now, now), undefined);
  }
  done.push('restarted');
  const probe = await o.probe();
  return {
    ok: probe.ok,
    detail: `${done.join(' and ')} ${server.name}: ${probe.ok ? 'ok' : `still down (${probe.detail})`}`,
    output,
    probe,
  };
}
