import { z } from 'zod';
import { readUntrustedFile } from '../util/untrustedJson.js';
import { censorText, secretsOf } from '../util/censor.js';
import { killGroup, startLikeRoo } from '../util/command.js';

export type McpFailure = 'not-found' | 'exited-early' | 'timed-out' | 'protocol-error' | 'no-tools' | 'call-failed';

/** A harmless tool call that proves the server works, not merely that it starts (`health.mcpProbeCalls`). */
export interface ProbeCall {
  tool: string;
  arguments: Record<string, unknown>;
}

export interface McpServerConfig {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Files Roo watches for this server: touching one makes Roo restart it. */
  watchPaths?: string[];
}

export interface McpProbe {
  server: string;
  ok: boolean;
  failure?: McpFailure;
  detail: string;
  protocol?: 'server/discover' | 'initialize';
  tools?: number;
  durationMs: number;
  /** The last lines the server wrote on stderr, censored (its env values and secret-shaped words replaced). */
  stderrTail: string;
}

const settingsSchema = z.looseObject({
  mcpServers: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

/** Roo's mcp_settings.json: the enabled stdio servers (remote ones, with a url, are not spawned). */
export function readMcpSettings(file: string): McpServerConfig[] {
  const read = readUntrustedFile(file, settingsSchema);
  if (!read.ok) throw new Error(`${file}: ${read.reason}`);
  const raw = read.value;
  return Object.entries(raw.mcpServers ?? {}).flatMap(([name, s]) => {
    if (s.disabled === true || typeof s.command !== 'string' || typeof s.url === 'string') return [];
    return [
      {
        name,
        command: s.command,
        args: Array.isArray(s.args) ? s.args.map(String) : [],
        env: (s.env as Record<string, string>) ?? {},
        ...(typeof s.cwd === 'string' && { cwd: s.cwd }),
        ...(Array.isArray(s.watchPaths) && { watchPaths: s.watchPaths.map(String) }),
      },
    ];
  });
}

/**
 * One probe: spawn the server as Roo would, and prove it answers — the 2026-07-28 protocol's
 * `server/discover`, else the `initialize` handshake — then `tools/list`. A process that starts
 * but does not answer within the deadline is down; whatever happens, its whole tree is killed.
 */
export function probeMcpServer(
  server: McpServerConfig,
  timeoutMs: number,
  clientVersion: string,
  call?: ProbeCall,
): Promise<McpProbe> {
  const started = Date.now();
  const secrets = secretsOf(server);
  return new Promise((resolve) => {
    let stderr = '';
    let buffer = '';
    let settled = false;
    const child = startLikeRoo(server.command, server.args, {
      cwd: server.cwd,
      env: { ...process.env, ...server.env },
    });
    const finish = (r: Omit<McpProbe, 'server' | 'durationMs' | 'stderrTail'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // the server and everything it started (its process group on POSIX, its tree on Windows)
      if (child.pid) killGroup(child.pid);
      const tail = stderr.split('\n').filter(Boolean).slice(-5).join('\n').slice(-1000);
      // a server may print its credentials at start-up: its output is censored before anyone sees it
      resolve({
        server: server.name,
        durationMs: Date.now() - started,
        ...r,
        detail: censorText(r.detail, secrets),
        stderrTail: censorText(tail, secrets),
      });
    };
    const timer = setTimeout(
      () => finish({ ok: false, failure: 'timed-out', detail: `no answer within ${Math.round(timeoutMs / 1000)} s` }),
      timeoutMs,
    );
    const send = (id: number | undefined, method: string, params: unknown = {}) =>
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...(id !== undefined && { id }), method, params })}\n`);
    let protocol: McpProbe['protocol'];
    let listed = 0;

    child.on('error', (err: NodeJS.ErrnoException) =>
      finish({
        ok: false,
        failure: err.code === 'ENOENT' ? 'not-found' : 'exited-early',
        detail: err.code === 'ENOENT' ? `command not found: ${server.command}` : err.message,
      }),
    );
    child.on('exit', (code, signal) =>
      finish({ ok: false, failure: 'exited-early', detail: `exited before answering (${signal ?? `code ${code}`})` }),
    );
    child.stdin.on('error', () => undefined);
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        let msg: {
          id?: number;
          result?: { tools?: unknown[]; isError?: boolean; content?: { type?: string; text?: string }[] };
          error?: { code: number; message: string };
        };
        try {
          msg = JSON.parse(line);
        } catch {
          finish({
            ok: false,
            failure: 'protocol-error',
            detail: `wrote something that is not JSON-RPC on stdout: ${JSON.stringify(line.slice(0, 80))}`,
          });
          return;
        }
        if (msg.id === 1) {
          if (msg.result) {
            protocol = 'server/discover';
            send(3, 'tools/list');
          } else {
            protocol = 'initialize';
            send(2, 'initialize', {
              protocolVersion: '2025-06-18',
              capabilities: {},
              clientInfo: { name: 'roosync-maint', version: clientVersion },
            });
          }
        } else if (msg.id === 2) {
          if (msg.error)
            return finish({ ok: false, failure: 'protocol-error', detail: `initialize failed: ${msg.error.message}` });
          send(undefined, 'notifications/initialized');
          send(3, 'tools/list');
        } else if (msg.id === 3) {
          if (msg.error)
            return finish({
              ok: false,
              failure: 'protocol-error',
              protocol,
              detail: `tools/list failed: ${msg.error.message}`,
            });
          const tools = Array.isArray(msg.result?.tools) ? msg.result.tools.length : 0;
          if (tools === 0)
            return finish({ ok: false, failure: 'no-tools', protocol, tools, detail: 'answers, but lists no tools' });
          listed = tools;
          if (!call) return finish({ ok: true, protocol, tools, detail: `answers (${protocol}), ${tools} tools` });
          send(4, 'tools/call', { name: call.tool, arguments: call.arguments });
        } else if (msg.id === 4 && call) {
          const text = (msg.result?.content ?? [])
            .map((c) => c.text ?? '')
            .join(' ')
            .trim()
            .slice(0, 300);
          const failed = msg.error
            ? msg.error.message
            : msg.result?.isError
              ? text || 'isError, no message'
              : undefined;
          if (failed !== undefined)
            return finish({
              ok: false,
              failure: 'call-failed',
              protocol,
              tools: listed,
              detail: `tools/call ${call.tool} failed: ${failed}`,
            });
          finish({
            ok: true,
            protocol,
            tools: listed,
            detail: `answers (${protocol}), ${listed} tools, ${call.tool} works`,
          });
        }
      }
    });
    send(1, 'server/discover');
  });
}

/** Retries a failing server before calling it down: one flaky start is not an incident. */
export async function checkMcpServer(
  server: McpServerConfig,
  o: { timeoutMs: number; retries: number; version: string; call?: ProbeCall | undefined },
): Promise<McpProbe & { attempts: number }> {
  let last: McpProbe | undefined;
  for (let attempt = 1; attempt <= Math.max(1, o.retries); attempt++) {
    last = await probeMcpServer(server, o.timeoutMs, o.version, o.call);
    if (last.ok || last.failure === 'not-found') return { ...last, attempts: attempt };
  }
  return { ...last!, attempts: Math.max(1, o.retries) };
}
