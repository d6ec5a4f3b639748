import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, git, makeFleet, remoteFile } from './fleet.js';
import { until, scaled } from './helpers.js';

describe('daemon', () => {
  it(
    'ticks, reloads a valid config, keeps the old one on an invalid edit, and on SIGTERM releases the lease and exits 0',
    async () => {
      const fleet = await makeFleet(1);
      const [m] = fleet.machines as [string];
      const child = spawn(
        process.execPath,
        [BIN, 'daemon', '--shared-state', fleet.dir(m), '--machine', m, '--log-level', 'info', '--log-format', 'json'],
        {
          env: {
            PATH: process.env.PATH,
            HOME: fleet.base,
            RM_LOCAL: fleet.local(m),
            ROOSYNC_MAINT_DAEMON_INTERVAL_MS: '300',
          },
        },
      );
      let logs = '';
      child.stderr.on('data', (d) => (logs += d));
      const exited = new Promise<number | null>((r) => child.on('exit', r));
      expect(await until(() => remoteFile(fleet, `maintenance/machines/${m}.json`) !== undefined)).toBe(true);
      expect(JSON.parse(remoteFile(fleet, 'maintenance/leader.json')!)).toMatchObject({ holder: m, released: false });
      // a second daemon for the same shared state exits 3 at once
      const env = { PATH: process.env.PATH, HOME: fleet.base, RM_LOCAL: fleet.local(m) };
      const second = spawnSync(process.execPath, [BIN, 'daemon', '--shared-state', fleet.dir(m), '--machine', m], {
        env,
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(second.status).toBe(3);
      expect(second.stderr).toContain('another roosync-maint daemon runs');
      // SIGHUP reloads the config (after the tick in flight) and the daemon goes on
      child.kill('SIGHUP');
      expect(await until(() => logs.includes('"why":"SIGHUP"'))).toBe(true);
      expect(child.exitCode).toBe(null);

      const configFile = path.join(fleet.dir(m), '.maintenance-config.json');
      const config = JSON.parse(readFileSync(configFile, 'utf8'));
      writeFileSync(configFile, JSON.stringify({ ...config, logs: { retentionDays: 3 } }));
      expect(await until(() => logs.includes('"msg":"config reloaded"'))).toBe(true);
      writeFileSync(configFile, '{"logs": {"retentionDays": -1}}');
      expect(await until(() => logs.includes('the new config is invalid: keeping the running one'))).toBe(true);
      expect(logs).toContain('logs.retentionDays: expected a number');
      // and an alert in the inbox, in the plan's template, committed by the next tick
      const alert = () =>
        git(fleet.remote, 'ls-tree', '--name-only', 'main', 'messages/inbox/')
          .split('\n')
          .filter((f) => f.endsWith('.json'))
          .map(
            (f) =>
              JSON.parse(git(fleet.remote, 'show', `main:${f}`)) as { subject: string; body: string; priority: string },
          )
          .find((msg) => msg.subject.startsWith('[ALERT]'));
      expect(await until(() => alert() !== undefined)).toBe(true);
      expect(alert()).toMatchObject({
        subject: `[ALERT][MEDIUM] ${m}: maintenance config is invalid`,
        priority: 'HIGH',
      });
      expect(alert()!.body).toContain(`## Alert Maintenance - ${m.toUpperCase()}`);
      expect(alert()!.body).toContain('**Action Requise:**');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(JSON.parse(remoteFile(fleet, 'maintenance/leader.json')!)).toMatchObject({ holder: m, released: true });
      expect(logs).toContain('"msg":"lease on shutdown"');
    },
    scaled(60_000),
  );
});
