import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireRunLock } from '../src/coordinator/lock.js';
import { createFleet, type Fleet } from '../src/demo/fleet.js';
import { cli, NOW, tempDir } from './helpers.js';

const BIN = path.resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const MACHINE = 'myia-m1';

type ToolResult = {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
};

describe('roosync-maint mcp: the SDK client over stdio, on a real temp fleet', () => {
  let fleet: Fleet;
  let client: Client;
  let transport: StdioClientTransport;
  const identity = () => ['--shared-state', fleet.dir(MACHINE), '--machine', MACHINE];
  const env = () => ({ ...fleet.localEnv(MACHINE), ROOSYNC_MAINT_NOW: String(NOW) });
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as ToolResult;
  const text = (r: ToolResult) => r.content.map((c) => c.text ?? '').join('\n');

  beforeAll(async () => {
    fleet = await createFleet(await tempDir('mcp'), 2);
    // one tick first, so that the fleet has a leader and a status file
    const first = await cli(['run', '--json', ...identity()], { now: NOW, env: env() });
    expect(first.code, first.stdout).toBe(0);
    transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', ...identity(), '--log-level', 'warn'],
      env: { PATH: process.env.PATH!, HOME: fleet.base, ...env() },
      stderr: 'pipe',
    });
    client = new Client({ name: 'roosync-maint-test', version: '0.0.0' });
    await client.connect(transport);
  });
  afterAll(async () => {
    await client?.close();
  });

  it('initializes and lists the five tools, each with an input schema', async () => {
    expect(client.getServerVersion()?.name).toBe('roosync-maint');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'maintenance_health',
      'maintenance_leader',
      'maintenance_plan',
      'maintenance_run',
      'maintenance_status',
    ]);
    for (const t of tools) expect(t.inputSchema.type).toBe('object');
    const run = tools.find((t) => t.name === 'maintenance_run')!;
    expect(Object.keys(run.inputSchema.properties ?? {}).sort()).toEqual(['dryRun', 'tasks']);
  });

  it('maintenance_status: the same document as status --json', async () => {
    const r = await call('maintenance_status');
    expect(r.isError).toBeFalsy();
    const byCli = JSON.parse((await cli(['status', '--json', ...identity()], { now: NOW, env: env() })).stdout);
    expect(r.structuredContent).toEqual(byCli);
    expect((r.structuredContent!.machines as { machine: string }[]).map((m) => m.machine)).toEqual([MACHINE]);
    expect(text(r)).toContain(MACHINE);
  });

  it('maintenance_health, maintenance_leader and maintenance_plan answer with their reasons', async () => {
    const health = await call('maintenance_health');
    expect(health.isError).toBeFalsy();
    expect((health.structuredContent!.checks as unknown[]).length).toBeGreaterThan(0);
    const leader = await call('maintenance_leader');
    expect(leader.isError).toBeFalsy();
    expect(JSON.stringify(leader.structuredContent)).toContain(MACHINE);
    const plan = await call('maintenance_plan');
    expect(plan.isError).toBeFalsy();
    expect(plan.structuredContent).toMatchObject({ command: 'run', dryRun: true, committed: false, pushed: false });
    expect((plan.structuredContent!.schedule as { reason: string }[]).every((d) => d.reason.length > 0)).toBe(true);
  });

  it('maintenance_run: refused by default; a malformed argument is a tool error, never a crash', async () => {
    const refused = await call('maintenance_run', { tasks: ['log-rotation'] });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain('"allowRun": true');
    const malformed = await call('maintenance_run', { tasks: 'log-rotation' });
    expect(malformed.isError).toBe(true);
    expect(text(malformed)).toMatch(/tasks/);
    // the server is still there
    expect((await call('maintenance_status')).isError).toBeFalsy();
  });

  it('maintenance_run: runs a tick when allowed; busy while another run holds the lock; CLI reasons for bad input', async () => {
    // the shared fleet config cannot hand agents the run: only this machine's own config can
    const file = path.join(fleet.dir(MACHINE), '.maintenance-config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...config, mcp: { allowRun: true } }, null, 2));
    const refused = await call('maintenance_run', { tasks: ['log-rotation'] });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain("this machine's own config");
    const own = fleet.machineConfig(MACHINE);
    writeFileSync(own, JSON.stringify({ ...JSON.parse(readFileSync(own, 'utf8')), mcp: { allowRun: true } }));
    const ran = await call('maintenance_run', { tasks: ['log-rotation'] });
    expect(ran.isError, text(ran)).toBeFalsy();
    expect(ran.structuredContent).toMatchObject({ command: 'run', ok: true, machine: MACHINE });
    expect((ran.structuredContent!.tasks as { task: string }[]).map((t) => t.task)).toEqual(['log-rotation']);
    const unknown = await call('maintenance_run', { tasks: ['no-such-task'] });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain('usage or config error, nothing was done');
    const lock = await acquireRunLock(path.join(fleet.dir(MACHINE), '.git', 'roosync-maint'), {
      wait: false,
      staleMs: 60_000,
    });
    try {
      const busy = await call('maintenance_run', { dryRun: false });
      expect(busy.isError).toBe(true);
      expect(text(busy)).toContain('busy, nothing was done');
    } finally {
      await lock.release();
    }
  });
});
