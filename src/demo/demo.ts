import { defaultExpandContext } from '../config/paths.js';
import { MINUTE_MS } from '../util/time.js';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log.js';
import { loadResolvedConfig } from '../config/load.js';
import { tick, type TickResult } from '../coordinator/tick.js';
import { noProgress } from '../tasks/types.js';
import { actionVerb } from '../report/taskResult.js';
import { fleetStatus, renderFleetStatus } from '../report/fleetStatus.js';
import { formatBytes, plural } from '../util/format.js';
import type { TaskName } from '../config/taskCatalogue.js';
import { demoMcpSettings, expiringToken, listMaintenanceMessages, writeDemoServers } from './healthRound.js';
import { builtCliPath, packageVersion } from '../util/version.js';
import { buildAgedTree } from './agedTree.js';
import { buildMessageStore } from './messages.js';
import { createFleet, git, type Fleet } from './fleet.js';

const MACHINES = ['myia-ai-01', 'myia-po-2023', 'myia-po-2026'];

type Token = ReturnType<typeof expiringToken>;

function clockText(start: number, at: number): string {
  return `+${String(Math.round((at - start) / MINUTE_MS)).padStart(3)} min`;
}

/** The messages an archive moved, by name, with the reason for the first few. */
function archivedNames(r: TickResult): string[] {
  const moved = r.tasks
    .filter((t) => t.task === 'messages-archive')
    .flatMap((t) => t.rules.flatMap((rule) => rule.actions.filter((a) => a.verdict === 'archive')));
  const shown = moved.slice(0, 3).map((a) => `        ${path.basename(a.rel, '.json')} — ${a.reason}`);
  return moved.length > 3 ? [...shown, `        … and ${moved.length - 3} more (run --json lists them)`] : shown;
}

function taskSummary(r: TickResult): string[] {
  return r.tasks
    .filter((t) => t.status !== 'skipped' && t.counts.acted > 0)
    .map((t) => {
      const size = formatBytes(t.bytesActed ?? t.bytes);
      return `      ${t.task.padEnd(22)} ${actionVerb(t).padEnd(12)} ${String(t.counts.acted).padStart(3)}  (${size})`;
    });
}

/** What the demo tells: its exit code, a JSON document and the lines for a person (the CLI prints one). */
export interface DemoResult {
  exitCode: number;
  doc: Record<string, unknown>;
  lines: string[];
}

/**
 * The README's first command: a throw-away fleet in a temp dir — a bare remote and three
 * machine clones sharing a neglected shared state — with ticks on a simulated clock, the
 * leader killed mid-tick, the failover, the old leader fenced on its return, and the status.
 */
export async function runDemo(opts: {
  keep: boolean;
  log: Logger;
  now: number;
  env: NodeJS.ProcessEnv;
}): Promise<DemoResult> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'roosync-maint-demo-'));
  const lines: string[] = [];
  const bin = builtCliPath();
  try {
    const T = opts.now;
    let inbox = 0;
    const fleet: Fleet = await createFleet(
      base,
      MACHINES.length,
      async (seed) => {
        await buildAgedTree({ sharedState: seed, local: seed, machines: MACHINES, now: T, parts: 'shared' });
        const store = await buildMessageStore(seed, T);
        inbox =
          store.expect.archive.length +
          store.expect.stayInInbox.length +
          store.expect.pending.length +
          store.malformed.length +
          store.oddButListed.length;
      },
      MACHINES,
    );
    for (const m of MACHINES) {
      // a neglected inbox: its files were written long ago (a clone gives them the checkout's time)
      const inboxDir = path.join(fleet.dir(m), 'messages', 'inbox');
      const long = (T - 86_400_000) / 1000;
      for (const name of await readdir(inboxDir)) await utimes(path.join(inboxDir, name), long, long);
    }
    for (const m of MACHINES)
      await buildAgedTree({
        sharedState: fleet.dir(m),
        local: fleet.local(m),
        machines: MACHINES,
        now: T,
        parts: 'local',
      });
    lines.push(
      `A throw-away fleet in ${base}:`,
      `  a bare git remote, and ${MACHINES.join(', ')} as clones of a neglected .shared-state`,
      `  (old rollback points, backup families past their cap, 160 MB of logs, env/ secrets, an inbox of ` +
        `${inbox} files, some that break RooSync), each with its own Roo checkpoints and logs.`,
      '',
    );

    const run = async (m: string, at: number, only?: { tasks: TaskName[]; tokens?: Token[] }): Promise<TickResult> => {
      // each machine resolves the fleet's $RM_LOCAL paths to its own local folder
      const env = { ...opts.env, ...fleet.localEnv(m) };
      const ctx = {
        env,
        home: os.homedir(),
        tmp: os.tmpdir(),
        globalStorage: path.join(fleet.local(m), 'globalStorage'),
      };
      // the fleet config sets policy; the local paths come from the machine's own config
      const config = await loadResolvedConfig(path.join(fleet.dir(m), '.maintenance-config.json'), fleet.dir(m), ctx, {
        machineFile: fleet.machineConfig(m),
      });
      if (only?.tokens) config.config.health.tokens = only.tokens;
      return tick({
        sharedState: fleet.dir(m),
        machineId: m,
        config,
        env,
        log: opts.log,
        clock: () => at,
        tasks: only?.tasks,
        dryRun: false,
        noSync: false,
        leaderFlag: false,
        wait: true,
        progress: noProgress,
        version: packageVersion(),
      });
    };

    lines.push(`${clockText(T, T)}  every machine ticks (hooks, daemon or schedule would do this)`);
    for (const m of MACHINES) {
      const r = await run(m, T);
      lines.push(
        `    ${m}: ${r.leader.isLeader ? `LEADER, term ${r.leader.term}` : 'follower'} — ${r.pushed ? 'pushed' : 'not pushed'}`,
        ...taskSummary(r),
        ...archivedNames(r),
      );
    }
    const [first, ...others] = MACHINES as [string, ...string[]];

    const killedAt = T + 15 * MINUTE_MS;
    await new Promise<void>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          bin,
          'run',
          '--shared-state',
          fleet.dir(first),
          '--machine',
          first,
          '--task',
          'rollback-cleanup',
          '--log-level',
          'silent',
        ],
        {
          env: {
            ...opts.env,
            ...fleet.localEnv(first),
            ROOSYNC_MAINT_NOW: String(killedAt),
            ROOSYNC_MAINT_FAULT: 'kill-before-push',
          },
          stdio: 'ignore',
        },
      );
      child.on('exit', () => resolve());
    });
    lines.push(
      '',
      `${clockText(T, killedAt)}  ${first} renews its lease, commits fleet work, and is KILLED before its push`,
    );

    let failover: { m: string; at: number; term: number | null } | undefined;
    for (let at = T + 30 * MINUTE_MS; at <= T + 120 * MINUTE_MS && !failover; at += 15 * MINUTE_MS) {
      for (const m of others) {
        const r = await run(m, at);
        if (r.leader.isLeader) {
          failover = { m, at, term: r.leader.term };
          lines.push(
            `${clockText(T, at)}  ${m}: LEADER, term ${r.leader.term} — ${r.leader.reason}`,
            ...taskSummary(r),
          );
          break;
        }
        lines.push(`${clockText(T, at)}  ${m}: follower — ${r.leader.reason}`);
      }
    }
    if (failover)
      lines.push(
        `           failover ${Math.round((failover.at - killedAt) / MINUTE_MS)} min after ${first}'s last renewal ` +
          `(lease 60 min, ticks every 15 min)`,
      );

    const backAt = (failover?.at ?? T) + 5 * MINUTE_MS;
    const back = await run(first, backAt);
    const fenced = back.notes.filter((n) => n.startsWith('fenced')).map((n) => ` — ${n}`);
    const role = back.leader.isLeader ? 'leader' : 'follower';
    lines.push('', `${clockText(T, backAt)}  ${first} comes back: ${role}${fenced.join('')}`);

    // the health round: one machine's daily health task, three times 15 min apart (an MCP server is
    // reported down after 3 failed rounds; a token about to expire at once)
    const patient = MACHINES[2] as string;
    const servers = writeDemoServers(path.join(base, 'mcp-servers'));
    const settings = path.join(fleet.local(patient), 'globalStorage', 'rooveterinaryinc.roo-cline', 'settings');
    writeFileSync(path.join(settings, 'mcp_settings.json'), demoMcpSettings(servers));
    lines.push(
      '',
      `${clockText(T, backAt + 5 * MINUTE_MS)}  ${patient} runs its health task three times, 15 min apart: a healthy ` +
        'roo-state-manager, a github MCP server that dies at start (real stdio processes), a token expiring in 3 days',
    );
    let lastAt = backAt;
    for (let round = 1; round <= 3; round++) {
      const at = backAt + (5 + 15 * (round - 1)) * MINUTE_MS;
      lastAt = at;
      const r = await run(patient, at, { tasks: ['health'], tokens: [expiringToken(at)] });
      const health = r.tasks.find((t) => t.task === 'health');
      lines.push(
        `    round ${round}: health ${health?.status ?? 'not run'}${health?.reason ? ` — ${health.reason}` : ''}`,
      );
    }

    const viewer = failover?.m ?? first;
    git(fleet.dir(viewer), 'pull', '-q', '--rebase');
    const status = fleetStatus(
      fleet.dir(viewer),
      (
        await loadResolvedConfig(
          path.join(fleet.dir(viewer), '.maintenance-config.json'),
          fleet.dir(viewer),
          defaultExpandContext(opts.env),
        )
      ).config,
      lastAt,
    );
    const listed = listMaintenanceMessages(fleet.dir(viewer));
    lines.push(
      '',
      `roosync-maint status (seen from ${viewer}):`,
      ...renderFleetStatus(status).map((l) => `  ${l}`),
      '',
      `what roosync-maint sent, in ${viewer}'s inbox as RooSync lists it (${plural(listed.length - 1, 'message')}):`,
      ...listed,
    );
    lines.push(opts.keep ? `kept for inspection: ${base}` : 'removed the throw-away fleet (pass --keep to inspect it)');
    return {
      exitCode: 0,
      doc: { command: 'demo', dir: opts.keep ? base : null, failover: failover ?? null, status },
      lines,
    };
  } finally {
    if (!opts.keep) await rm(base, { recursive: true, force: true });
  }
}
