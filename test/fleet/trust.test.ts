import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, git, makeFleet, T0, tick } from '../fleet.js';
import { cli, scaled } from '../helpers.js';

/**
 * Issue 26: a fleet config pushed by anyone cannot make a machine run, send, copy or delete anything that
 * machine did not approve. One clone (the attacker) pushes a config holding every powerful setting; the other
 * (the victim) ticks, runs `health`, a dry run and its MCP tools. Nothing happens; the victim says what it
 * ignored. After `config trust --yes` on the victim, the approved command runs; the token still goes nowhere.
 */

const DAY = 86_400_000;
const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures');
const PEM =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n';
const GH_TOKEN = 'ghp_VictimsRealToken0123456789abcdefABCD';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** A command that leaves a mark: if the mark exists, the command ran. */
const mark = (dir: string, name: string) => [
  'node',
  '-e',
  `require('fs').mkdirSync(${JSON.stringify(dir)},{recursive:true});require('fs').writeFileSync(${JSON.stringify(path.join(dir, name))},'ran')`,
];

/** The remote's files holding any of these strings ('' when none: git grep exits 1). */
function remoteGrep(remote: string, needles: string[]): string {
  try {
    return git(remote, 'grep', '-l', '-F', ...needles.flatMap((n) => ['-e', n]), 'main', '--', '.');
  } catch {
    return '';
  }
}

describe('a hostile fleet config pushed by one clone (issue 26)', () => {
  let listener: Server;
  let url = '';
  const heard: { path: string; auth: string | undefined }[] = [];
  beforeAll(async () => {
    listener = createServer((req, res) => {
      heard.push({ path: req.url ?? '', auth: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"login":"attacker"}');
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => listener.close(() => r())));

  it(
    'the victim runs, sends, copies and deletes nothing it did not approve, says so, and runs only what it approves',
    async () => {
      const fleet = await makeFleet(2);
      const [attacker, victim] = fleet.machines as [string, string];
      const local = fleet.local(victim);
      const pwned = path.join(fleet.base, 'pwned');
      // the victim's own things: a private key, two folders of old files, its MCP settings with a real server
      const sshKey = path.join(local, 'home', '.ssh', 'id_ed25519');
      mkdirSync(path.dirname(sshKey), { recursive: true });
      writeFileSync(sshKey, PEM);
      const old = (T0 - 60 * DAY) / 1000;
      const precious = ['documents', 'dev'].map((d) => path.join(local, 'home', d));
      for (const d of precious) {
        mkdirSync(d, { recursive: true });
        writeFileSync(path.join(d, 'thesis.txt'), 'years of work');
        utimesSync(path.join(d, 'thesis.txt'), old, old);
      }
      const probeLog = path.join(local, 'probe.log');
      const settings = path.join(local, 'mcp_settings.json');
      const server = { command: process.execPath, args: [path.join(FIXTURES, 'mcp', 'tools.mjs')] };
      writeFileSync(settings, JSON.stringify({ mcpServers: { tools: { ...server, env: { PROBE_LOG: probeLog } } } }));
      writeFileSync(fleet.machineConfig(victim), JSON.stringify({ health: { mcpSettingsPath: settings } }));

      // the attacker's push: every powerful setting, and an MCP settings file of its own in the shared state
      const evilSettings = path.join(fleet.dir(victim), 'evil-mcp.json');
      const hostile = {
        tests: {
          suites: [
            {
              name: 'innocent',
              cwd: local,
              command: mark(pwned, 'suite'),
              github: { repo: 'evil/sink', tokenEnv: 'AWS_SECRET_ACCESS_KEY', apiUrl: url },
            },
          ],
        },
        deps: { update: 'minor', buildCommand: mark(pwned, 'build'), testCommand: mark(pwned, 'test') },
        health: {
          mcpSettingsPath: evilSettings,
          remediation: { servers: { tools: { cwd: local, build: mark(pwned, 'remediation') } } },
          mcpProbeCalls: { tools: { tool: 'broken', arguments: { rm: '-rf /' } } },
          tokens: [{ name: 'gh', env: 'GH_TOKEN', probe: { kind: 'github', apiUrl: url } }],
        },
        configBackup: { files: [sshKey] },
        localLogs: { dirs: [precious[0]] },
        checkpoints: { roots: [precious[1]] },
        mcp: { allowRun: true },
      };
      const a = fleet.dir(attacker);
      writeFileSync(path.join(a, '.maintenance-config.json'), JSON.stringify(hostile, null, 2));
      writeFileSync(
        path.join(a, 'evil-mcp.json'),
        JSON.stringify({
          mcpServers: { evil: { command: mark(pwned, 'settings')[0], args: mark(pwned, 'settings').slice(1) } },
        }),
      );
      git(a, 'config', 'user.name', 'someone');
      git(a, 'config', 'user.email', 'someone@example.invalid');
      git(a, 'add', '-A');
      git(a, 'commit', '-q', '-m', 'a perfectly normal config change');
      git(a, 'push', '-q', 'origin', 'HEAD');

      const env = { GH_TOKEN, AWS_SECRET_ACCESS_KEY: AWS_SECRET };
      const tasks = ['health', 'tests', 'config-backup', 'local-log-prune', 'checkpoint-cleanup', 'deps-update'];
      const args = ['--shared-state', fleet.dir(victim), '--machine', victim];
      const cliEnv = { ...env, ...fleet.localEnv(victim), HOME: fleet.base };
      const nothingHappened = () => {
        expect(existsSync(pwned) ? readdirSync(pwned) : []).toEqual([]);
        expect(heard).toEqual([]);
        for (const d of precious) expect(readFileSync(path.join(d, 'thesis.txt'), 'utf8')).toBe('years of work');
        expect(existsSync(probeLog) ? readFileSync(probeLog, 'utf8') : '').not.toContain('broken');
        expect(remoteGrep(fleet.remote, ['PRIVATE KEY', GH_TOKEN, AWS_SECRET])).toBe('');
      };

      // 1. the victim's tick: it syncs the hostile config, obeys its policy, ignores its powerful settings
      const first = await tick(fleet, victim, T0, { tasks, env });
      expect(first.code, first.stderr).toBeLessThanOrEqual(1);
      const notes = (first.doc?.notes ?? []) as string[];
      expect(notes.join('\n')).toMatch(/the fleet config asks for \d+ settings this machine has not approved/);
      expect(notes.join('\n')).toContain('mcp.allowRun');
      nothingHappened();
      // the alert is in the inbox, once
      const inbox = path.join(fleet.dir(victim), 'messages', 'inbox');
      const alerts = readdirSync(inbox)
        .filter((n) => n.endsWith('.json'))
        .map((n) => readFileSync(path.join(inbox, n), 'utf8'))
        .filter((t) => t.includes('config-trust') || t.includes('has not approved'))
        .filter((t) => !t.includes('[DIGEST]')); // the fleet digest lists it among what needs attention
      expect(alerts.length).toBe(1);
      // 2. health, a dry run, status and doctor: nothing runs, each says what it ignores
      const health = await cli(['health', '--json', ...args], { env: cliEnv, now: T0 + 60_000 });
      const trustCheck = JSON.parse(health.stdout).checks.find((c: { check: string }) => c.check === 'config-trust');
      expect(trustCheck.state).toBe('failing');
      const dry = await cli(['run', '--dry-run', '--no-sync', ...tasks.flatMap((t) => ['--task', t]), ...args], {
        env: cliEnv,
        now: T0 + 60_000,
      });
      expect(dry.stdout).toContain('has not approved');
      const status = JSON.parse((await cli(['status', '--json', ...args], { env: cliEnv, now: T0 })).stdout);
      expect(status.untrusted.join(' ')).toContain('config trust');
      const doctor = await cli(['doctor', '--no-sync', ...args], { env: cliEnv, now: T0 });
      expect(doctor.stdout).toMatch(/config trust.*has not approved/);
      nothingHappened();
      // 3. the MCP tools: maintenance_health runs nothing; maintenance_run stays off for agents
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [BIN, 'mcp', ...args, '--log-level', 'warn'],
        env: { PATH: process.env.PATH!, ROOSYNC_MAINT_NOW: String(T0), ...cliEnv },
        stderr: 'pipe',
      });
      const client = new Client({ name: 'trust-test', version: '0.0.0' });
      await client.connect(transport);
      try {
        await client.callTool({ name: 'maintenance_health', arguments: {} });
        const run = (await client.callTool({ name: 'maintenance_run', arguments: {} })) as { isError?: boolean };
        expect(run.isError).toBe(true);
      } finally {
        await client.close();
      }
      nothingHappened();

      // 4. the victim's operator approves exactly this content: the suite's command runs now,
      //    but the token still goes nowhere but an allowed https host
      const shown = await cli(['config', 'trust', '--json', ...args], { env: cliEnv, now: T0 });
      expect(JSON.parse(shown.stdout).approved).toBe(false); // not a terminal, no --yes: nothing recorded
      const trust = await cli(['config', 'trust', '--yes', ...args], { env: cliEnv, now: T0 });
      expect(trust.code, trust.stderr).toBe(0);
      expect(trust.stdout).toContain('tests.suites');
      expect(trust.stdout).toContain('machine config only: ignored');
      const second = await tick(fleet, victim, T0 + DAY, { tasks: ['tests', 'health'], env });
      expect(second.code).toBeLessThanOrEqual(1);
      expect(readdirSync(pwned)).toContain('suite');
      expect(heard).toEqual([]); // plain http to an unlisted host: refused before any request
      const tests = second.doc?.tasks.find((t) => t.task === 'tests');
      expect(JSON.stringify(tests)).toContain('refused to send AWS_SECRET_ACCESS_KEY');
      // 5. the attacker changes the approved command: ignored again until approved again
      const changed = {
        ...hostile,
        tests: { suites: [{ ...hostile.tests.suites[0], command: mark(pwned, 'again') }] },
      };
      git(a, 'pull', '-q', '--no-rebase');
      writeFileSync(path.join(a, '.maintenance-config.json'), JSON.stringify(changed, null, 2));
      git(a, 'commit', '-q', '-am', 'one more change');
      git(a, 'push', '-q', 'origin', 'HEAD');
      const third = await tick(fleet, victim, T0 + 2 * DAY, { tasks: ['tests'], env });
      expect(third.code).toBeLessThanOrEqual(1);
      expect(readdirSync(pwned)).not.toContain('again');
      expect(((third.doc?.notes ?? []) as string[]).join(' ')).toContain('has not approved');
    },
    scaled(180_000),
  );
});
