import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, git, makeFleet, remoteFile, type Fleet } from './fleet.js';
import { scaled, tempDir, until } from './helpers.js';

/** A one-machine fleet and its daemon, ticking every 300 ms, logging pino JSON on stderr. */
async function startDaemon(extraEnv: NodeJS.ProcessEnv = {}, bin = BIN, beforeStart = async (_: Fleet) => {}) {
  const fleet = await makeFleet(1);
  await beforeStart(fleet);
  const [m] = fleet.machines as [string];
  const args = [
    bin,
    'daemon',
    '--shared-state',
    fleet.dir(m),
    '--machine',
    m,
    '--log-level',
    'info',
    '--log-format',
    'json',
  ];
  const env = {
    PATH: process.env.PATH,
    HOME: fleet.base,
    ...fleet.localEnv(m),
    ROOSYNC_MAINT_DAEMON_INTERVAL_MS: '300',
  };
  const child = spawn(process.execPath, args, { env: { ...env, ...extraEnv } });
  let logs = '';
  child.stderr.on('data', (d) => (logs += d));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  return { fleet, m, child, exited, logs: () => logs };
}

describe('daemon', () => {
  it(
    'ticks, reloads a valid config, keeps the old one on an invalid edit, and on SIGTERM releases the lease and exits 0',
    async () => {
      const { fleet, m, child, exited, logs } = await startDaemon();
      expect(await until(() => remoteFile(fleet, `maintenance/machines/${m}.json`) !== undefined)).toBe(true);
      expect(JSON.parse(remoteFile(fleet, 'maintenance/leader.json')!)).toMatchObject({ holder: m, released: false });
      // a second daemon for the same shared state exits 3 at once
      const env = { PATH: process.env.PATH, HOME: fleet.base, ...fleet.localEnv(m) };
      const second = spawnSync(process.execPath, [BIN, 'daemon', '--shared-state', fleet.dir(m), '--machine', m], {
        env,
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(second.status).toBe(3);
      expect(second.stderr).toContain('another roosync-maint daemon runs');
      // SIGHUP reloads the config (after the tick in flight) and the daemon goes on
      child.kill('SIGHUP');
      expect(await until(() => logs().includes('"why":"SIGHUP"'))).toBe(true);
      expect(child.exitCode).toBe(null);

      const configFile = path.join(fleet.dir(m), '.maintenance-config.json');
      const config = JSON.parse(readFileSync(configFile, 'utf8'));
      writeFileSync(configFile, JSON.stringify({ ...config, logs: { retentionDays: 3 } }));
      expect(await until(() => logs().includes('"msg":"config reloaded"'))).toBe(true);
      writeFileSync(configFile, '{"logs": {"retentionDays": -1}}');
      expect(await until(() => logs().includes('the new config is invalid: keeping the running one'))).toBe(true);
      expect(logs()).toContain('logs.retentionDays: expected a number');
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
      expect(logs()).toContain('"msg":"lease on shutdown"');
    },
    scaled(60_000),
  );

  it(
    'lives through full ticks and its lock refreshes (the run lock is another key), then stops on daemon --stop',
    async () => {
      // the daemon lock is refreshed every ~1.7 s
      const { fleet, m, child, exited, logs } = await startDaemon({ ROOSYNC_MAINT_LOCK_STALE_MS: '5000' });
      const fullTicks = () => logs().split('"msg":"tick done"').length - 1;
      const daemonLock = path.join(fleet.dir(m), '.git', 'roosync-maint', 'daemon.lock');
      expect(await until(() => fullTicks() >= 1)).toBe(true);
      const firstMtime = statSync(daemonLock).mtimeMs;
      // each new inbox message makes the next tick a full one (the work tree changed)
      for (let n = 2; n <= 4; n++) {
        const msg = path.join(fleet.dir(m), 'messages', 'inbox', `msg-20261123T12000${n}-daemon.json`);
        writeFileSync(msg, JSON.stringify({ id: `msg-20261123T12000${n}-daemon`, body: 'x' }));
        expect(await until(() => fullTicks() >= n || child.exitCode !== null)).toBe(true);
        expect(child.exitCode, logs().slice(-2000)).toBe(null);
      }
      // the daemon's own lock was refreshed after the run lock came and went, and the daemon is alive
      expect(await until(() => statSync(daemonLock).mtimeMs !== firstMtime || child.exitCode !== null)).toBe(true);
      expect(child.exitCode, logs().slice(-2000)).toBe(null);
      expect(logs()).not.toContain('TypeError');
      // the way to stop it that works on Windows too (no SIGTERM there): a stop request in its local state
      const env = { PATH: process.env.PATH, HOME: fleet.base, ...fleet.localEnv(m) };
      const stop = spawnSync(
        process.execPath,
        [BIN, 'daemon', '--stop', '--shared-state', fleet.dir(m), '--machine', m],
        {
          env,
          encoding: 'utf8',
          timeout: 20_000,
        },
      );
      expect(stop.status, stop.stderr).toBe(0);
      expect(await exited).toBe(0);
      expect(logs()).toContain('"signal":"daemon --stop"');
      expect(JSON.parse(remoteFile(fleet, 'maintenance/leader.json')!)).toMatchObject({ holder: m, released: true });
    },
    scaled(60_000),
  );

  it(
    'an update of the installed package under a running daemon: its ticks go on with the code it started with',
    async () => {
      // the package as installed; an update replaces its CLI chunks with others (a build names them by content)
      const pkg = await tempDir('installed');
      cpSync(path.resolve(BIN, '..', '..'), path.join(pkg, 'dist'), { recursive: true });
      copyFileSync(path.resolve(BIN, '..', '..', '..', 'package.json'), path.join(pkg, 'package.json'));
      const cliDir = path.join(pkg, 'dist', 'cli');
      // another process holds the machine's run lock: the daemon's first tick waits for it, after the daemon started
      let holder: ChildProcess | undefined;
      let held = '';
      const holdRunLock = async (fleet: Fleet) => {
        const stateDir = path.join(fleet.dir(fleet.machines[0]!), '.git', 'roosync-maint');
        const script = path.join(fleet.base, 'hold.mjs');
        const lock = pathToFileURL(path.resolve(BIN, '..', '..', 'coordinator', 'lock.js')).href;
        writeFileSync(
          script,
          `const { acquireRunLock } = await import(${JSON.stringify(lock)});\n` +
            `const lock = await acquireRunLock(process.argv[2], { wait: false, staleMs: 60000 });\n` +
            `process.stdout.write('held\\n');\n` +
            `process.stdin.once('data', () => lock.release().then(() => process.exit(0)));\n`,
        );
        holder = spawn(process.execPath, [script, stateDir]);
        holder.stdout?.on('data', (d) => (held += d));
        expect(await until(() => held.includes('held'))).toBe(true);
      };
      const { child, exited, logs } = await startDaemon({}, path.join(cliDir, 'main.js'), holdRunLock);
      try {
        expect(await until(() => logs().includes('"msg":"daemon started"') || child.exitCode !== null)).toBe(true);
        for (const f of readdirSync(cliDir))
          if (f !== 'main.js' && f !== 'package.json') renameSync(path.join(cliDir, f), path.join(cliDir, `${f}.old`));
        holder?.stdin?.write('release\n');
        // the waiting tick runs every task (all are due at a first tick), each from the code loaded at start
        expect(await until(() => logs().includes('"msg":"tick done"') || child.exitCode !== null)).toBe(true);
        expect(child.exitCode, logs().slice(-3000)).toBe(null);
        const done = JSON.parse(
          logs()
            .split('\n')
            .find((l) => l.includes('"msg":"tick done"'))!,
        ) as { tasks: string[] };
        expect(done.tasks.length).toBeGreaterThan(10);
        expect(logs()).not.toContain('Cannot find module');
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      } finally {
        holder?.kill('SIGKILL');
        child.kill('SIGKILL');
      }
    },
    scaled(60_000),
  );

  it('a fault that escapes every tick ends the daemon: logged, exit 1, and shown by status and doctor', async () => {
    const fleet = await makeFleet(1);
    const [m] = fleet.machines as [string];
    const env = {
      PATH: process.env.PATH,
      HOME: fleet.base,
      ...fleet.localEnv(m),
      ROOSYNC_MAINT_DAEMON_INTERVAL_MS: '300',
      ROOSYNC_MAINT_FAULT: 'daemon-uncaught',
    };
    const args = ['--shared-state', fleet.dir(m), '--machine', m];
    const r = spawnSync(process.execPath, [BIN, 'daemon', ...args, '--log-format', 'json'], {
      env,
      encoding: 'utf8',
      timeout: scaled(60_000),
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the daemon died');
    const { ROOSYNC_MAINT_FAULT: _, ...calm } = env;
    const status = spawnSync(process.execPath, [BIN, 'status', ...args], { env: calm, encoding: 'utf8' });
    expect(status.stdout).toContain('this machine: the daemon died at');
    const doctor = spawnSync(process.execPath, [BIN, 'doctor', '--no-sync', ...args], { env: calm, encoding: 'utf8' });
    expect(doctor.stdout).toMatch(/FAIL +daemon +the daemon died at .*injected fault/);
  });
});
