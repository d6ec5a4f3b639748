import { renderFleetStatus, type FleetStatus } from '../src/report/fleetStatus.js';
import { writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAgedTree } from '../src/demo/agedTree.js';
import { buildMessageStore } from '../src/demo/messages.js';
import { MaintenanceService } from '../src/index.js';
import { nextOnPhase, phaseOffsetMs } from '../src/coordinator/phase.js';
import { scheduleEntry, windowsCommandLine } from '../src/setup/osSchedule.js';
import { UsageError } from '../src/errors.js';
import { NOW, cli, fleetAliveAt, isolatedEnv, tempDir } from './helpers.js';

describe('schedule print', () => {
  const input = {
    node: '/usr/bin/node',
    bin: '/opt/roosync-maint/dist/cli/main.js',
    sharedState: "/home/op/it's/.shared-state",
    machineId: 'myia-ai-01',
    logFile: '/tmp/rm.log',
    noSync: false,
    name: 'roosync-maint',
  };
  it('cron: one line with the environment, quoted; refuses intervals cron cannot express', () => {
    const offset = phaseOffsetMs('myia-ai-01', 15 * 60_000) / 1000;
    const [minute, second] = [Math.floor(offset / 60), Math.floor(offset % 60)];
    expect(scheduleEntry({ ...input, kind: 'cron', tickMinutes: 15 })).toBe(
      `${minute}-59/15 * * * * sleep ${second}; ROOSYNC_SHARED_PATH='/home/op/it'\\''s/.shared-state' ROOSYNC_MACHINE_ID='myia-ai-01' '/usr/bin/node' '/opt/roosync-maint/dist/cli/main.js' run --log-level warn >/dev/null 2>>'/tmp/rm.log'`,
    );
    expect(scheduleEntry({ ...input, kind: 'cron', tickMinutes: 120 })).toMatch(/^\d+ [01]-23\/2 \* \* \* sleep /);
    expect(() => scheduleEntry({ ...input, kind: 'cron', tickMinutes: 7 })).toThrow(UsageError);
  });
  it('systemd: a oneshot service and a timer on the tick interval', () => {
    const units = scheduleEntry({ ...input, kind: 'systemd', tickMinutes: 15 });
    expect(units).toContain('Type=oneshot');
    expect(units).toContain('ExecStart="/usr/bin/node" "/opt/roosync-maint/dist/cli/main.js" run --log-level warn');
    expect(scheduleEntry({ ...input, kind: 'systemd', tickMinutes: 15, noSync: true })).toContain('run --no-sync');
    // a plain folder's leader keeps --leader in its scheduled runs (issue 28); a clone never gets it
    for (const kind of ['cron', 'systemd', 'windows'] as const)
      expect(scheduleEntry({ ...input, kind, tickMinutes: 15, noSync: true, leader: true })).toContain(
        'run --no-sync --leader',
      );
    expect(scheduleEntry({ ...input, kind: 'cron', tickMinutes: 15, leader: true })).not.toContain('--leader');
    expect(units).toMatch(/^OnCalendar=\*-\*-\* \*:\d\d\/15:\d\d$/m);
    expect(units).toContain('Environment="ROOSYNC_MACHINE_ID=myia-ai-01"');
  });
  it('a path the scheduler reads specially is quoted for it; one it cannot carry is refused', () => {
    const odd = { ...input, sharedState: '/srv/100% $HOME "x"/.shared-state', tickMinutes: 15 };
    // cron reads % as a newline: escaped; the shell quoting keeps $ and quotes as they are
    expect(scheduleEntry({ ...odd, kind: 'cron' })).toContain(
      `ROOSYNC_SHARED_PATH='/srv/100\\% $HOME "x"/.shared-state'`,
    );
    // systemd: % is a specifier and $ a variable: doubled; the value is one quoted word
    expect(scheduleEntry({ ...odd, kind: 'systemd' })).toContain(
      'Environment="ROOSYNC_SHARED_PATH=/srv/100%% $$HOME \\"x\\"/.shared-state"',
    );
    for (const kind of ['cron', 'systemd'] as const)
      expect(() => scheduleEntry({ ...odd, kind, sharedState: '/srv/a\n* * * * * evil' })).toThrow(/line break/);
    expect(() => scheduleEntry({ ...input, kind: 'systemd', tickMinutes: 15, logFile: '/tmp/a b.log' })).toThrow(
      /space/,
    );
  });
  it('windows: Task Scheduler XML repeating every tick, and the schtasks line', () => {
    const task = scheduleEntry({ ...input, kind: 'windows', tickMinutes: 15 });
    expect(task).toContain('<Interval>PT15M</Interval>');
    expect(task).toContain('<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>');
    expect(windowsCommandLine({ ...input, kind: 'windows', tickMinutes: 15 })).toContain(
      'schtasks /Create /TN "roosync-maint" /SC MINUTE /MO 15',
    );
    // XML 1.0 §2.5: a comment never holds "--" (Task Scheduler and xmllint refuse such a file)
    for (const c of task.matchAll(/<!--([\s\S]*?)-->/g)) expect(c[1]).not.toContain('--');
    expect(task).toContain("it's/.shared-state");
    expect(task.startsWith('<?xml version="1.0" encoding="UTF-16"?>')).toBe(true); // nothing may come before it
  });
  it('staggers a fleet: each machine its own stable offset within the interval', () => {
    const period = 15 * 60_000;
    const offsets = Array.from({ length: 20 }, (_, i) => phaseOffsetMs(`myia-m${i + 1}`, period));
    expect(offsets.map((o) => phaseOffsetMs('myia-m1', period) === o)).toEqual(offsets.map((_, i) => i === 0));
    for (const o of offsets) expect(o >= 0 && o < period).toBe(true);
    expect(new Set(offsets.map((o) => Math.floor(o / 1000))).size).toBe(20); // 20 different seconds
    const next = nextOnPhase(Date.UTC(2026, 0, 1, 12, 0, 0), period, offsets[0]!);
    expect((next - offsets[0]!) % period).toBe(0);
    expect(next - Date.UTC(2026, 0, 1, 12, 0, 0)).toBeLessThanOrEqual(period);
    const windows = scheduleEntry({ ...input, kind: 'windows', tickMinutes: 15 });
    expect(windows).not.toContain('RandomDelay');
    const own = Math.floor(phaseOffsetMs('myia-ai-01', period) / 60_000);
    expect(windows).toContain(`<StartBoundary>2026-01-01T00:${String(own).padStart(2, '0')}:`);
  });
  it('from the CLI, with this machine’s shared state and id', async () => {
    const dir = await tempDir('sp');
    const r = await cli(['schedule', 'print', '--for', 'cron', '--shared-state', dir, '--machine', 'myia-ai-01']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ROOSYNC_SHARED_PATH='${dir}'`);
    expect((await cli(['schedule', 'print', '--for', 'launchd', '--shared-state', dir])).code).toBe(2);
  });
});

describe('status', () => {
  it('shows the leader, each machine (silent ones marked) and the KPIs against targets', async () => {
    const base = await tempDir('status');
    const shared = path.join(base, 'shared');
    await buildAgedTree({ sharedState: shared, local: path.join(base, 'local'), machines: ['myia-ai-01'], now: NOW });
    await buildMessageStore(shared, NOW);
    const args = ['--shared-state', shared, '--machine', 'myia-ai-01'];
    expect(
      (await cli(['run', '--no-sync', '--leader', '--task', 'log-rotation', ...args], { now: NOW - 5 * 3600_000 }))
        .code,
    ).toBe(0);
    const r = await cli(['status', '--json', ...args], { now: NOW });
    const doc = JSON.parse(r.stdout);
    expect(doc.machines).toHaveLength(1);
    expect(doc.silent).toEqual(['myia-ai-01']); // last status 5 h ago, heartbeat 4 h, interval 15 min
    expect(doc.kpis.find((k: { name: string }) => k.name === 'rollback dirs')).toMatchObject({ value: 12, ok: false });
    expect(doc.kpis.find((k: { name: string }) => k.name === 'inbox messages')).toMatchObject({ ok: true });
    const human = await cli(['status', ...args], { now: NOW });
    expect(human.stdout).toMatch(/rollback dirs +12 +< 10 +MISSED/);
    expect(human.stdout).toContain('SILENT');
  });
});

describe('the library API (MaintenanceService)', () => {
  it('offers the original plan’s methods with typed results, reasons included', async () => {
    const base = await tempDir('svc');
    const tree = await buildAgedTree({
      sharedState: path.join(base, 'shared'),
      local: path.join(base, 'local'),
      machines: ['myia-ai-01'],
      now: NOW,
    });
    await buildMessageStore(tree.sharedState, NOW);
    fleetAliveAt(tree.sharedState, NOW);
    writeFileSync(path.join(tree.sharedState, '.maintenance-config.json'), JSON.stringify(tree.config));
    const env = await isolatedEnv();
    const dry = new MaintenanceService({
      sharedState: tree.sharedState,
      machineId: 'myia-ai-01',
      clock: () => NOW,
      dryRun: true,
      env,
    });
    const plan = await dry.cleanupRollbacks(7);
    expect(plan).toMatchObject({ task: 'rollback-cleanup', status: 'ok', acted: 13 });
    expect(plan.reasons.find((r) => r.verdict === 'remove')!.reason).toMatch(/^older than 7 days/);
    const svc = new MaintenanceService({
      sharedState: tree.sharedState,
      machineId: 'myia-ai-01',
      clock: () => NOW,
      env,
    });
    expect((await svc.cleanupRollbacks(30)).acted).toBeLessThan(plan.acted); // the argument is the policy
    expect((await svc.archiveOldMessages()).acted).toBeGreaterThan(0);
    expect((await svc.rotateBackups(2)).acted).toBeGreaterThan(0);
    const logs = await svc.pruneLogs(3);
    expect(logs).toMatchObject({ task: 'log-rotation', status: 'ok' });
    expect(logs.acted).toBeGreaterThan(0);
    const report = await svc.runScheduledMaintenance();
    expect(report.results.length).toBeGreaterThan(0);
    expect(report.leader.reason).toContain('--no-sync'); // not a git clone: acts on the plain folder
    // its own status file beside the other machine's
    expect(readdirSync(path.join(tree.sharedState, 'maintenance', 'machines')).sort()).toEqual([
      'myia-ai-01.json',
      'myia-po-2023.json',
    ]);
  });
});

describe('status names what fails', () => {
  const machine = (id: string, over: Partial<FleetStatus['machines'][number]> = {}) => ({
    machine: id,
    version: '1',
    lastTickAt: new Date(NOW).toISOString(),
    lastSuccessAt: null,
    offline: false,
    leader: { isLeader: false, term: 1, reason: '' },
    tasks: [],
    failed: [],
    health: { failing: [] },
    silent: false,
    sinceMinutes: 5,
    ...over,
  });
  it('lists each failing check under the table, and drops a liveness finding about a machine that came back', () => {
    const fleet: FleetStatus = {
      at: new Date(NOW).toISOString(),
      leader: {
        holder: 'myia-m1',
        term: 1,
        acquiredAt: new Date(NOW).toISOString(),
        renewedAt: new Date(NOW).toISOString(),
        expiresAt: new Date(NOW + 3_600_000).toISOString(),
        ageMinutes: 5,
        released: false,
        live: true,
      },
      versions: [{ version: '1', machines: ['myia-m1', 'myia-m2'] }],
      components: [],
      machines: [
        machine('myia-m1', {
          health: { failing: ['myia-m2 has sent no status for 300 min (last …)', 'MCP github is down (timed-out): …'] },
        }),
        machine('myia-m2'),
      ],
      silent: [],
      malformed: [],
      kpis: [],
      rooHeartbeats: [],
    };
    const lines = renderFleetStatus(fleet).join('\n');
    expect(lines).toContain('myia-m1: MCP github is down (timed-out): …');
    expect(lines).not.toContain('myia-m2 has sent no status'); // myia-m2 has sent a newer status since
    expect(lines).toMatch(/^myia-m1 .* 1 failing$/m);
  });
});
