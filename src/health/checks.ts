import { formatAgo, formatBytes, plural } from '../util/format.js';
import { probeWritable } from '../util/fs.js';
import { existsSync, lstatSync, readdirSync, statfsSync, type Stats } from 'node:fs';
import { runCommand } from '../util/command.js';
import path from 'node:path';
import { MINUTE_MS, DAY_MS } from '../util/time.js';
import { STASH_MARKER, type GitRepo } from '../git/repo.js';
import type { CheckResult } from './types.js';
import type { RooHeartbeat } from '../roosync/heartbeats.js';
import { trustDoc, trustNotice, type TrustState } from '../config/layers.js';
import type { McpProbe } from './mcp.js';

/** The shared state must take files (messages, status, archives): a read-only one fails every task that writes. */
export function checkWritable(sharedState: string): CheckResult {
  const problem = probeWritable(sharedState);
  return {
    check: 'shared-state',
    subject: 'writable',
    state: problem ? 'failing' : 'ok',
    type: 'HEALTH',
    severity: 'HIGH',
    summary: problem ? `${sharedState} is not writable (${problem.code})` : `${sharedState} is writable`,
    actions: problem
      ? [`Give this user write access to ${sharedState} (owner, permissions, a read-only mount or a full disk)`]
      : [],
    data: problem ? { ...problem } : {},
  };
}

/** Tokens by name and expiry only (never a value): in calendar days, < 7 MEDIUM, today HIGH, expired HIGH and URGENT. */
export function checkTokens(
  tokens: readonly { name: string; expiresAt: string; usedBy?: string }[],
  now: number,
): CheckResult[] {
  return tokens.map((t) => {
    const expires = Date.parse(t.expiresAt.length === 10 ? `${t.expiresAt}T23:59:59.999Z` : t.expiresAt);
    // whole calendar days (UTC) from today to the expiry date, whatever the hour of either
    const daysLeft = Math.floor(expires / DAY_MS) - Math.floor(now / DAY_MS);
    const base = {
      check: 'tokens' as const,
      subject: t.name,
      type: 'SECURITY' as const,
      data: { token: t.name, expiresAt: t.expiresAt, usedBy: t.usedBy ?? null, daysLeft },
      actions: [
        `Create a new ${t.name}${t.usedBy ? ` (used by ${t.usedBy})` : ''} and update it where it is used`,
        'Update its expiresAt in .maintenance-config.json',
      ],
    };
    if (expires <= now)
      return {
        ...base,
        state: 'failing',
        severity: 'HIGH',
        priority: 'URGENT',
        summary: `${t.name} expired on ${t.expiresAt}`,
      };
    if (daysLeft < 1)
      return {
        ...base,
        state: 'failing',
        severity: 'HIGH',
        summary: `${t.name} expires today (${t.expiresAt})`,
      };
    if (daysLeft < 7)
      return {
        ...base,
        state: 'failing',
        severity: 'MEDIUM',
        summary: `${t.name} expires in ${plural(daysLeft, 'day')} (${t.expiresAt})`,
      };
    return { ...base, state: 'ok', severity: 'LOW', summary: `${t.name} valid until ${t.expiresAt}` };
  });
}

export function mcpResult(p: McpProbe & { attempts: number }): CheckResult {
  return {
    check: 'mcp',
    subject: p.server,
    state: p.ok ? 'ok' : 'failing',
    type: 'HEALTH',
    severity: 'HIGH',
    summary: p.ok ? `MCP ${p.server}: ${p.detail}` : `MCP ${p.server} is down (${p.failure}): ${p.detail}`,
    actions: [
      `Check the ${p.server} entry in mcp_settings.json (command, args, cwd)`,
      'Rebuild the server if its build is missing, then restart VS Code / Roo',
      'See the stderr tail in the json block',
    ],
    data: {
      server: p.server,
      failure: p.failure ?? null,
      attempts: p.attempts,
      protocol: p.protocol ?? null,
      tools: p.tools ?? null,
      durationMs: p.durationMs,
      stderrTail: p.stderrTail,
    },
  };
}

function biggest(root: string, limitFiles = 20_000): { path: string; bytes: number }[] {
  let budget = limitFiles;
  const size = (p: string): number => {
    if (budget-- <= 0) return 0;
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch {
      return 0;
    }
    if (!st.isDirectory()) return st.size;
    let sum = 0;
    for (const c of readdirSync(p)) sum += size(path.join(p, c));
    return sum;
  };
  let children: string[] = [];
  try {
    children = readdirSync(root);
  } catch {
    return [];
  }
  return children
    .map((c) => ({ path: path.join(root, c), bytes: size(path.join(root, c)) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 5);
}

/** Free space of the volumes holding the watched folders; under the minimum, name the biggest consumers. */
export function checkDisk(roots: readonly string[], minFreeMB: number, minFreePercent?: number): CheckResult[] {
  const seen = new Set<string>();
  return roots.flatMap((root): CheckResult[] => {
    if (!existsSync(root)) return [];
    const fs = statfsSync(root);
    const volume = `${fs.type}:${fs.blocks}`;
    if (seen.has(volume)) return [];
    seen.add(volume);
    const freeMB = Math.floor((fs.bavail * fs.bsize) / 1024 / 1024);
    const pct = Math.round((100 * fs.bavail) / Math.max(1, fs.blocks));
    const low = freeMB < minFreeMB || (minFreePercent !== undefined && pct < minFreePercent);
    const consumers = low ? biggest(root) : [];
    return [
      {
        check: 'disk',
        subject: root,
        state: low ? 'failing' : 'ok',
        type: 'DISK',
        severity: 'HIGH',
        summary:
          `${formatBytes(freeMB * 1024 * 1024)} free (${pct} %) on the volume of ` +
          `${root}${low ? `, under ${minFreeMB} MB${minFreePercent !== undefined ? ` or ${minFreePercent} %` : ''}` : ''}`,
        actions: [
          'The local cleanup tasks ran already in this tick; free more space by hand',
          ...consumers.map((c) => `Look at ${c.path} (${formatBytes(c.bytes)})`),
        ],
        data: { root, freeMB, freePercent: pct, minFreeMB, minFreePercent: minFreePercent ?? null, biggest: consumers },
      },
    ];
  });
}

/** The clone itself: an unfinished rebase or merge, unmerged files, commits waiting to be pushed. */
export async function checkGit(
  repo: GitRepo,
  machineId: string,
  offline: string | undefined,
  lastSyncAt?: string | null,
  now = Date.now(),
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const base = { check: 'git' as const, type: 'HEALTH' as const, severity: 'MEDIUM' as const };
  results.push({
    ...base,
    subject: 'remote',
    state: offline ? 'failing' : 'ok',
    summary: offline ? `the remote is unreachable from ${machineId}: ${offline}` : 'the remote answers',
    actions: ['Check the network and the remote URL (git remote -v)', 'Check credentials (git fetch by hand)'],
    data: { offline: offline ?? null },
    inhibits: { check: 'git', subjectPrefix: 'sync' },
  });
  const detached = !(await repo.onBranch());
  const pending = (await repo.stashes(STASH_MARKER)).length;
  const kept = await repo.keptBranches();
  const clone = [
    ...(detached ? ['on a detached HEAD (the next sync returns it to its branch)'] : []),
    ...(pending ? [`${pending} stash of local edits not re-applied yet`] : []),
    ...(kept.length ? [`commits kept aside on ${kept.join(', ')}: merge or delete them by hand`] : []),
  ];
  const cloneActions = [
    'git status and git log --all --oneline in the clone',
    'Merge or delete the roosync-maint/kept/ branches once reviewed',
  ];
  results.push({
    ...base,
    subject: 'clone',
    state: clone.length ? 'failing' : 'ok',
    summary: clone.length ? `the clone needs a look: ${clone.join('; ')}` : 'on its branch, nothing kept aside',
    actions: cloneActions,
    data: { detached, pendingStashes: pending, keptBranches: kept },
  });
  const op = repo.unfinishedOperation();
  const unfinished = op ? [op.what] : [];
  const unmerged = await repo.hasUnmerged();
  const upstream = await repo.upstream();
  const { ahead, behind } = upstream ? await repo.divergence(upstream) : { ahead: 0, behind: 0 };
  const stuck = unfinished.length > 0 || unmerged;
  results.push({
    ...base,
    subject: 'sync',
    state: stuck || (ahead ?? 0) > 0 ? 'failing' : 'ok',
    summary: stuck
      ? `the clone is stuck: ${unfinished.join(', ') || 'unmerged files'}`
      : (ahead ?? 0) > 0
        ? `${ahead} local commits not pushed`
        : `in sync (${behind} behind before the next fetch)`,
    actions: ['Finish or abort the rebase/merge in the clone (git status)', 'Then run roosync-maint run'],
    data: {
      unfinished,
      unmerged,
      ahead,
      behind,
      lastSyncAt: lastSyncAt ?? null,
      lastSyncAgeMinutes: lastSyncAt ? Math.round((now - Date.parse(lastSyncAt)) / MINUTE_MS) : null,
    },
  });
  return results;
}

/**
 * A machine whose status file is older than its interval plus grace (the leader itself included),
 * and every status file that cannot be read, named so that someone fixes it.
 */
export interface LivenessRow {
  machine: string;
  lastTickAt: string;
  heartbeatMinutes?: number | undefined;
  sinceMinutes: number;
  silent: boolean;
}

/** RooSync's listener and worker heartbeats: one stale past the limit is a machine whose RooSync is not running. */
export function checkRooHeartbeats(beats: readonly RooHeartbeat[], staleHours: number): CheckResult[] {
  return beats.map((h) => ({
    check: 'fleet-liveness',
    subject: `${h.machine} ${h.kind}`,
    state: h.stale ? 'failing' : 'ok',
    type: 'HEALTH',
    severity: 'MEDIUM',
    summary: h.stale
      ? `RooSync's ${h.kind} on ${h.machine} has not written its heartbeat for ${formatAgo(h.ageMinutes * MINUTE_MS)} ` +
        `(stale after ${staleHours} h)`
      : `RooSync's ${h.kind} on ${h.machine} wrote its heartbeat ${formatAgo(h.ageMinutes * MINUTE_MS)}`,
    actions: [`Check RooSync's ${h.kind} on ${h.machine} (its scheduled task and its log)`],
    data: { machine: h.machine, kind: h.kind, at: h.at, ageMinutes: h.ageMinutes },
  }));
}

export function checkLiveness(
  rows: readonly LivenessRow[],
  unreadable: readonly { file: string; reason: string }[],
  /** The config's heartbeat, for status files that do not state their own. */
  heartbeatMinutes: number,
): CheckResult[] {
  const machines: CheckResult[] = rows.map((m) => ({
    check: 'fleet-liveness',
    subject: m.machine,
    state: m.silent ? 'failing' : 'ok',
    type: 'HEALTH',
    severity: 'HIGH',
    summary: m.silent
      ? `${m.machine} has sent no status for ${m.sinceMinutes} min (last ${m.lastTickAt}; it promised one at ` +
        `least every ${m.heartbeatMinutes ?? heartbeatMinutes} min)`
      : `${m.machine} sent its status ${formatAgo(m.sinceMinutes * MINUTE_MS)}`,
    actions: [
      `Check that roosync-maint still runs on ${m.machine} (daemon, schedule or hooks)`,
      'Check the machine itself is up',
    ],
    data: { machine: m.machine, lastTickAt: m.lastTickAt, sinceMinutes: m.sinceMinutes },
  }));
  const malformed: CheckResult[] = unreadable.map((f) => ({
    check: 'fleet-liveness',
    subject: f.file,
    state: 'failing',
    type: 'HEALTH',
    severity: 'MEDIUM',
    summary: `${f.file}: ${f.reason}`,
    actions: [
      `Remove or fix ${f.file} (its machine rewrites it at its next tick)`,
      'Check which clone committed it (git log -- the file)',
    ],
    data: { file: f.file, reason: f.reason },
  }));
  return [...machines, ...malformed];
}

/** `npm audit --json` in a project folder; an unreachable registry is "skipped", never "failed". */
export async function checkDeps(dir: string, timeoutMs = 120_000): Promise<CheckResult> {
  const base = {
    check: 'deps' as const,
    subject: dir,
    type: 'BUILD' as const,
    actions: [`Run npm audit in ${dir} and update the vulnerable packages`],
  };
  // through the one runner: npm is npm.cmd on Windows, the deadline kills the tree, the run lock keeps refreshing
  const r = await runCommand(['npm', 'audit', '--json'], { cwd: dir, timeoutMs, stdout: true });
  const text = r.output;
  // npm did not start at all (not installed, or a shim the OS refused): said as such, never "registry unreachable"
  if (r.exitCode === null && !r.timedOut)
    return {
      ...base,
      state: 'skipped',
      severity: 'LOW',
      summary: `npm audit skipped in ${dir}: npm could not start (${text.trim().split('\n').at(-1) ?? ''})`,
      data: { dir },
    };
  if (
    r.exitCode === null ||
    (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network|audit endpoint/i.test(text) &&
      !/"vulnerabilities"/.test(r.stdout ?? ''))
  ) {
    return {
      ...base,
      state: 'skipped',
      severity: 'LOW',
      summary: `npm audit skipped in ${dir}: registry unreachable`,
      data: { dir },
    };
  }
  let report: { metadata?: { vulnerabilities?: Record<string, number> }; error?: { code?: string; summary?: string } };
  try {
    report = JSON.parse(r.stdout ?? '');
  } catch {
    return { ...base, state: 'skipped', severity: 'LOW', summary: `npm audit gave no report in ${dir}`, data: { dir } };
  }
  // npm's own refusal (no lock file, registry error) is not "no vulnerabilities"
  if (report.error || !report.metadata?.vulnerabilities)
    return {
      ...base,
      state: 'skipped',
      severity: 'LOW',
      summary:
        `npm audit could not run in ${dir}: ${report.error?.code ?? 'no report'} ${report.error?.summary ?? ''}`.trim(),
      data: { dir, error: report.error ?? null },
    };
  const vulns = report.metadata.vulnerabilities;
  const serious = (vulns.high ?? 0) + (vulns.critical ?? 0);
  return {
    ...base,
    state: serious > 0 ? 'failing' : 'ok',
    severity: (vulns.critical ?? 0) > 0 ? 'HIGH' : 'MEDIUM',
    summary: `${serious} high/critical vulnerabilities in ${dir}`,
    data: { dir, vulnerabilities: vulns },
  };
}

/** The config this machine was asked to load: refused (with each problem) or accepted. */
/**
 * The fleet config asks for powerful settings (commands, local paths, hosts) this machine has not approved,
 * or for ones only its own config may set: they are ignored, and the operator is told once (config/layers.ts).
 */
export function checkTrust(file: string, machineId: string, trust: TrustState): CheckResult {
  const name = path.basename(file);
  const notice = trustNotice(trust);
  const n = trust.unapproved.length + trust.machineOnly.length;
  return {
    check: 'config-trust',
    subject: name,
    state: n > 0 ? 'failing' : 'ok',
    type: 'HEALTH',
    severity: 'MEDIUM',
    summary:
      n > 0
        ? `the fleet config asks for ${n} setting${n === 1 ? '' : 's'} this machine has not approved (ignored)`
        : `every powerful setting of ${name} in effect on this machine is approved`,
    actions: [
      `On ${machineId}, review them with \`roosync-maint config trust\`, and approve them only if you expect them`,
      "Or set this machine's commands and paths in its own config (`--machine-config`)",
    ],
    data: { file, ...trustDoc(trust), ...(notice.length > 0 && { notice }) },
  };
}

export function checkConfig(file: string, problems: readonly string[] | undefined, detail?: string): CheckResult {
  const name = path.basename(file);
  return {
    check: 'config',
    subject: name,
    state: problems ? 'failing' : 'ok',
    type: 'HEALTH',
    severity: 'MEDIUM',
    summary: problems ? 'maintenance config is invalid' : `${name} is valid again`,
    actions: ['Fix the config (each problem names its JSON path)', 'Check it with `roosync-maint config validate`'],
    data: { file, keptRunningConfig: true, problems: problems ?? [], ...(detail && { detail }) },
  };
}
