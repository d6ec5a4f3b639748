import { existsSync } from 'node:fs';
import os from 'node:os';
import { checkDeps, checkDisk, checkGit, checkLiveness, checkRooHeartbeats, checkWritable } from '../health/checks.js';
import { remediateDownServers } from './mcpRemediation.js';
import { tokenChecks } from '../health/tokens.js';
import { checkMcpServer, type McpServerConfig, readMcpSettings } from '../health/mcp.js';
import type { CheckResult } from '../health/types.js';
import { fleetStatus } from '../report/fleetStatus.js';
import { readStatus } from '../report/status.js';
import { errorMessage } from '../errors.js';
import { plural } from '../util/format.js';
import { checkpointCleanup, localBackupRotation, localLogPrune } from './cleanupTasks.js';
import { defineTask } from './retentionTask.js';
import type { TaskContext, TaskResult } from './types.js';

/** Adds checks to a task's result: counted, and each failing one a warning (so the digest names it). */
export function record(result: TaskResult, checks: CheckResult[]): void {
  result.checks = [...(result.checks ?? []), ...checks];
  for (const c of checks) {
    result.counts.scanned++;
    if (c.state === 'skipped') result.counts.skipped++;
    else result.counts.kept++;
  }
  const failing = checks.filter((c) => c.state === 'failing');
  if (failing.length) result.warnings.push(...failing.map((c) => c.summary));
}

export async function mcpChecks(ctx: TaskContext): Promise<CheckResult[]> {
  const file = ctx.config.mcpSettingsPath;
  if (!file || !existsSync(file))
    return [
      {
        check: 'mcp',
        subject: 'mcp_settings.json',
        state: 'skipped',
        type: 'HEALTH',
        severity: 'LOW',
        summary: `no MCP settings at ${file ?? '(unset on this machine)'}`,
        actions: [],
        data: {},
      },
    ];
  let servers: McpServerConfig[];
  try {
    servers = readMcpSettings(file);
  } catch (err) {
    return [
      {
        check: 'mcp',
        subject: 'mcp_settings.json',
        state: 'failing',
        type: 'HEALTH',
        severity: 'HIGH',
        summary: `${file} is unreadable: ${errorMessage(err)}`,
        actions: [`Fix ${file}`],
        data: { file },
      },
    ];
  }
  const h = ctx.config.config.health;
  const check = (s: McpServerConfig, retries = h.mcpRetries) =>
    checkMcpServer(s, {
      timeoutMs: h.mcpTimeoutSeconds * 1000,
      retries,
      version: ctx.version ?? '0',
      call: h.mcpProbeCalls[s.name],
    });
  const probes = await Promise.all(servers.map((s) => check(s)));
  return remediateDownServers(ctx, file, servers, probes, (s) => check(s, 1));
}

/** A check task with failing checks has failed (run exits 1), each check's summary its reason. */
function failOnFailingChecks(result: TaskResult): void {
  const failing = (result.checks ?? []).filter((c) => c.state === 'failing');
  if (failing.length === 0 || result.dryRun) return;
  result.status = 'failed';
  result.failingChecks = failing.length;
  result.reason = `${plural(failing.length, 'check')} failing: ${failing.map((c) => c.summary).join('; ')}`;
}

/** MCP servers, the clone, tokens: the daily health check. */
export const healthTask = defineTask('health', async (ctx, result) => {
  const checks = [
    checkWritable(ctx.sharedState),
    ...(await mcpChecks(ctx)),
    ...(await tokenChecks(ctx.config.config.health.tokens, ctx.env, ctx.now, ctx.config.config.trust.tokenHosts)),
  ];
  if (ctx.git)
    checks.push(
      ...(await checkGit(
        ctx.git.repo,
        ctx.machineId,
        ctx.git.offline,
        readStatus(ctx.sharedState, ctx.machineId)?.lastSyncAt,
        ctx.now,
      )),
    );
  record(result, checks);
  failOnFailingChecks(result);
  // a server brought back is news for the digest ("rebuilt and restarted github-mcp: ok")
  result.warnings.push(...checks.filter((c) => c.data.remediation === 'fixed').map((c) => c.summary));
});

/** Free space; when low, the local cleanup runs at once, before the alert. */
export const diskCheckTask = defineTask('disk-check', async (ctx, result) => {
  const roots = [ctx.sharedState, ...ctx.config.checkpointRoots, os.tmpdir()];
  const checks = checkDisk(roots, ctx.config.config.health.diskMinFreeMB, ctx.config.config.health.diskMinFreePercent);
  if (checks.some((c) => c.state === 'failing') && !ctx.dryRun) {
    for (const task of [checkpointCleanup, localLogPrune, localBackupRotation])
      result.rules.push(...(await task.run(ctx)).rules);
  }
  record(result, checks);
  failOnFailingChecks(result);
});

export const depsAuditTask = defineTask('deps-audit', async (ctx, result) => {
  // one folder at a time: each npm audit is a network call with its own deadline
  const checks = [];
  for (const d of ctx.config.depsDirs) checks.push(await checkDeps(d));
  record(result, checks);
});

/** The leader watches every machine's status file, its own included. */
export const fleetLivenessTask = defineTask('fleet-liveness', async (ctx, result) => {
  const fleet = fleetStatus(ctx.sharedState, ctx.config.config, ctx.now);
  record(result, [
    ...checkLiveness(fleet.machines, fleet.malformed, ctx.config.config.schedule.heartbeatMinutes),
    ...checkRooHeartbeats(fleet.rooHeartbeats, ctx.config.config.health.roosyncHeartbeatStaleHours),
  ]);
});
