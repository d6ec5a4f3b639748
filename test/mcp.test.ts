import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkMcpServer, probeMcpServer, readMcpSettings } from '../src/health/mcp.js';
import { tempDir } from './helpers.js';

const FIX = path.resolve(import.meta.dirname, 'fixtures', 'mcp');
const server = (name: string, file = `${name}.mjs`) => ({
  name,
  command: process.execPath,
  args: [path.join(FIX, file)],
  env: {},
});

/** Processes whose command line mentions the fixtures folder (Linux /proc). */
function fixtureProcesses(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(FIX) || cmd.includes('setInterval(() => {}, 1000)')) out.push(`${pid}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return out;
}

describe('MCP health probe (real processes)', () => {
  it('a real SDK server answers the handshake and lists its tools', async () => {
    const r = await probeMcpServer(server('healthy'), 10_000, 'test');
    expect(r).toMatchObject({ ok: true, protocol: 'initialize', tools: 1 });
  });

  it('tools/call: reaches a real stdio server with the env of its settings entry; isError is a failure', async () => {
    const log = path.join(await tempDir('calls'), 'calls.log');
    const tools = { ...server('tools'), env: { PROBE_MARK: 'present', PROBE_LOG: log } };
    const ok = await probeMcpServer(tools, 10_000, 'test', { tool: 'whoami', arguments: {} });
    expect(ok).toMatchObject({ ok: true, tools: 2 });
    expect(ok.detail).toContain('whoami works');
    expect(readFileSync(log, 'utf8')).toBe('whoami\n'); // the call arrived
    const noEnv = await probeMcpServer({ ...tools, env: { PROBE_LOG: log } }, 10_000, 'test', {
      tool: 'whoami',
      arguments: {},
    });
    expect(noEnv).toMatchObject({ ok: false, failure: 'call-failed' });
    expect(noEnv.detail).toContain('PROBE_MARK did not reach the server');
    const broken = await probeMcpServer(tools, 10_000, 'test', { tool: 'broken', arguments: {} });
    expect(broken).toMatchObject({ ok: false, failure: 'call-failed' });
    expect(broken.detail).toBe('tools/call broken failed: this tool always fails');
  });

  it('classifies each failure within the deadline and leaves no process behind', async () => {
    const deadline = 1500;
    const results = await Promise.all([
      probeMcpServer(server('exits'), deadline, 'test'),
      probeMcpServer(server('silent'), deadline, 'test'),
      probeMcpServer(server('garbage'), deadline, 'test'),
      probeMcpServer({ name: 'missing', command: '/definitely/not/a/command', args: [], env: {} }, deadline, 'test'),
    ]);
    expect(results.map((r) => r.failure)).toEqual(['exited-early', 'timed-out', 'protocol-error', 'not-found']);
    for (const r of results) expect(r.durationMs).toBeLessThan(deadline + 1000);
    expect(results[0]!.stderrTail).toContain('Cannot find module');
    await new Promise((r) => setTimeout(r, 200));
    expect(fixtureProcesses()).toEqual([]);
  });

  it('retries before calling a server down, and reads Roo’s settings (enabled stdio servers only)', async () => {
    const down = await checkMcpServer(server('exits'), { timeoutMs: 2000, retries: 3, version: 'test' });
    expect(down).toMatchObject({ ok: false, attempts: 3 });
    const dir = await tempDir('mcpcfg');
    const file = path.join(dir, 'mcp_settings.json');
    writeFileSync(
      file,
      JSON.stringify({
        mcpServers: {
          a: { command: 'node', args: ['x.js'], env: { GITHUB_TOKEN: 'ghp_x' } },
          b: { command: 'y', disabled: true },
          c: { url: 'https://example.invalid/mcp', type: 'streamable-http' },
        },
      }),
    );
    expect(readMcpSettings(file)).toEqual([
      { name: 'a', command: 'node', args: ['x.js'], env: { GITHUB_TOKEN: 'ghp_x' } },
    ]);
  });
});
