import path from 'node:path';
import { z } from 'zod';
import { mcpResult } from '../health/checks.js';
import type { McpProbe, McpServerConfig } from '../health/mcp.js';
import { attemptAllowed, remediate } from '../health/remediation.js';
import type { CheckResult } from '../health/types.js';
import { stateFile } from '../sharedState/localState.js';
import { HOUR_MS } from '../util/time.js';
import type { TaskContext } from './types.js';

const historySchema = z.object({
  servers: z.record(
    z.string(),
    z.object({ attempts: z.array(z.number()), lastOutput: z.array(z.string()).default([]) }),
  ),
});
type History = z.output<typeof historySchema>;

type Probed = McpProbe & { attempts: number };

/**
 * Each server that is down after its retries and has `health.remediation.servers.<name>`: one bounded
 * attempt to bring it back (build, restart, probe again). The attempt history is local state; past
 * `maxAttempts` within `windowHours` the check says "remediation exhausted" with the last output.
 */
export async function remediateDownServers(
  ctx: TaskContext,
  settingsFile: string,
  servers: readonly McpServerConfig[],
  probes: readonly Probed[],
  reprobe: (server: McpServerConfig) => Promise<Probed>,
): Promise<CheckResult[]> {
  const r = ctx.config.config.health.remediation;
  const store = stateFile(
    path.join(ctx.stateDir, 'mcp-remediation.json'),
    historySchema,
    ctx.log,
    (): History => ({ servers: {} }),
  );
  const history = store.load();
  const out: CheckResult[] = [];
  for (const [i, server] of servers.entries()) {
    const probe = probes[i]!;
    const spec = r.servers[server.name];
    if (probe.ok || !spec || ctx.dryRun) {
      out.push(mcpResult(probe));
      // a server that is up again resolves a "remediation exhausted" alert
      if (probe.ok && spec) out.push({ ...mcpResult(probe), check: 'mcp-remediation' });
      continue;
    }
    const past = history.servers[server.name];
    const { allowed, inWindow } = attemptAllowed(past, ctx.now, r.maxAttempts, r.windowHours * HOUR_MS);
    if (!allowed) {
      const check = mcpResult(probe);
      const summary = `MCP ${server.name}: remediation exhausted (${inWindow.length} attempts in ${r.windowHours} h); ${probe.detail}`;
      const data = { ...check.data, remediation: 'exhausted', lastOutput: past?.lastOutput ?? [] };
      out.push({ ...check, summary, data });
      // its own alert, at once: the machine has stopped trying and a person must act
      out.push({ ...check, check: 'mcp-remediation', severity: 'HIGH', summary, data });
      continue;
    }
    ctx.progress.update(`MCP ${server.name}: trying to bring it back`);
    const remedy = await remediate(
      server,
      { ...spec, cwd: path.resolve(spec.cwd) },
      { settingsFile, timeoutMs: 10 * 60_000, env: ctx.env, probe: async () => reprobe(server) },
    );
    history.servers[server.name] = { attempts: [...inWindow, ctx.now], lastOutput: remedy.output };
    const after = (remedy.probe as Probed | undefined) ?? probe;
    const check = mcpResult(after);
    const fixed: CheckResult = {
      ...check,
      summary: remedy.ok ? `MCP ${remedy.detail}` : `MCP ${server.name} is down; ${remedy.detail}`,
      data: { ...check.data, remediation: remedy.ok ? 'fixed' : 'failed', output: remedy.output },
    };
    out.push(fixed);
    if (remedy.ok) out.push({ ...fixed, check: 'mcp-remediation', data: check.data });
  }
  if (!ctx.dryRun) store.save(history);
  return out;
}
