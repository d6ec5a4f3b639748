import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactConfig } from '../src/configBackup/redact.js';
import { IssueTracker } from '../src/github/issues.js';
import { createLogger } from '../src/log.js';
import { messageDirs } from '../src/roosync/layout.js';
import { sendMessage } from '../src/roosync/send.js';
import { censorText, censorValue, isSecretName } from '../src/util/censor.js';
import { type FakeGitHub, startFakeGitHub } from './fixtures/fakeGitHub.js';
import { cli, machineConfig, NOW, tempDir } from './helpers.js';

/**
 * Issue 26: one secret matcher for every channel. Each row is a shape a secret takes in real output, with the
 * secret part alone in `secret`; none may reach any channel in clear: the terminal's lines, `--json` and MCP
 * documents, the logs, a RooSync message, a GitHub issue, a config snapshot, and a real run's output.
 */
const SHAPES: { shape: string; text: string; secret: string }[] = [
  {
    shape: 'GitHub classic token',
    text: 'using ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8',
    secret: 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8',
  },
  {
    shape: 'GitHub fine-grained',
    text: 'github_pat_11ABCDEFG0123456789_abcdefghijklmnop',
    secret: 'github_pat_11ABCDEFG0123456789_abcdefghijklmnop',
  },
  { shape: 'GitLab token', text: 'CI_TOKEN glpat-xY9zW8vU7tS6rQ5pO4nM', secret: 'glpat-xY9zW8vU7tS6rQ5pO4nM' },
  {
    shape: 'npm token',
    text: '//registry.npmjs.org/:_authToken npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8',
    secret: 'npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8',
  },
  {
    shape: 'Google API key',
    text: 'maps key AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q',
    secret: 'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q',
  },
  {
    shape: 'Stripe restricted key',
    text: 'stripe rk_live_51H8aBcDeFgHiJkLmNoPqRsTu',
    secret: 'rk_live_51H8aBcDeFgHiJkLmNoPqRsTu',
  },
  {
    shape: 'Stripe secret key',
    text: 'stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc',
    secret: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  },
  {
    shape: 'OpenAI-style key',
    text: 'OPENAI sk-proj-Ab12Cd34Ef56Gh78Ij90Kl',
    secret: 'sk-proj-Ab12Cd34Ef56Gh78Ij90Kl',
  },
  { shape: 'Slack token', text: 'slack xoxb-123456789012-abcdefABCDEF', secret: 'xoxb-123456789012-abcdefABCDEF' },
  { shape: 'AWS access key id', text: 'id AKIAIOSFODNN7EXAMPLE', secret: 'AKIAIOSFODNN7EXAMPLE' },
  {
    shape: 'JWT',
    text: 'session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    secret: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  },
  {
    shape: 'PEM private key',
    text: '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAzPemBodyLine1\nPemBodyLine2xyz\n-----END RSA PRIVATE KEY-----',
    secret: 'MIIEowIBAAKCAQEAzPemBodyLine1',
  },
  {
    shape: 'password in a URL',
    text: 'connect postgres://admin:Pg5ecretW0rd@db.local:5432/app',
    secret: 'Pg5ecretW0rd',
  },
  { shape: 'split argument --token X', text: 'node server.js --token plainValue9x8y7z', secret: 'plainValue9x8y7z' },
  { shape: 'split argument --db-password', text: 'migrate --db-password "hunter2hunter2"', secret: 'hunter2hunter2' },
  { shape: 'camelCase sshKey', text: 'sshKey: AAAAC3NzaC1lZDI1NTE5camel', secret: 'AAAAC3NzaC1lZDI1NTE5camel' },
  { shape: 'camelCase accessKeyId', text: '"accessKeyId": "ASIAXAMPLEACCESSIDX"', secret: 'ASIAXAMPLEACCESSIDX' },
  { shape: 'SMTP_PASS style name', text: 'SMTP_PASS=mailPa55word!', secret: 'mailPa55word!' },
  {
    shape: 'Authorization: Bearer',
    text: 'Authorization: Bearer opaqueBearerValue123',
    secret: 'opaqueBearerValue123',
  },
  { shape: 'Authorization: token', text: 'Authorization: token opaqueTokenValue456', secret: 'opaqueTokenValue456' },
  { shape: 'JSON password', text: '{"password": "jsonPassw0rdValue"}', secret: 'jsonPassw0rdValue' },
  { shape: 'client_secret=', text: 'client_secret=clientS3cretValue&x=1', secret: 'clientS3cretValue' },
];

const ALL = SHAPES.map((s) => s.text).join('\n');
const noneIn = (where: string, text: string) => {
  const found = SHAPES.filter((s) => text.includes(s.secret)).map((s) => s.shape);
  expect(found, where).toEqual([]);
};

describe('one secret matcher, every channel (issue 26)', () => {
  it.each(SHAPES)('$shape: never in clear in a line or a document', ({ text, secret }) => {
    expect(censorText(text)).not.toContain(secret);
    expect(JSON.stringify(censorValue({ output: text, nested: [{ tail: text }] }))).not.toContain(secret);
  });

  it('names: secret by their parts, not by a word inside another', () => {
    for (const n of ['sshKey', 'accessKeyId', 'SMTP_PASS', 'API_KEY', 'clientSecret', 'x-auth-token', '--password'])
      expect(isSecretName(n), n).toBe(true);
    for (const n of ['tokenEnv', 'key', 'passed', 'keyboard', 'monkey', 'tokenHosts', 'keepCount', 'bypass'])
      expect(isSecretName(n), n).toBe(false);
    // what is left readable: the shape of the line, and an environment variable's name
    expect(censorText('token: GITHUB_TOKEN is not set; 3 passed, 1 failed')).toBe(
      'token: GITHUB_TOKEN is not set; 3 passed, 1 failed',
    );
  });

  it('logs: a record and its message', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    });
    const log = createLogger('info', sink as never);
    log.info({ output: ALL, sshKey: 'AAAAC3NzaC1lZDI1NTE5camel', env: { ANY: 'envValueX1' } }, ALL);
    log.flush();
    noneIn('log', out);
    expect(out).not.toContain('envValueX1');
  });

  it('a RooSync message (alerts, digests): subject and body', async () => {
    const shared = await tempDir('secrets-msg');
    const dirs = messageDirs(shared);
    mkdirSync(dirs.inbox, { recursive: true });
    sendMessage(dirs, { from: 'm:maintenance', to: 'all', subject: SHAPES[0]!.text, body: ALL, priority: 'HIGH' }, NOW);
    for (const f of readdirSync(dirs.inbox)) noneIn('message', readFileSync(path.join(dirs.inbox, f), 'utf8'));
  });

  describe('a GitHub issue', () => {
    let gh: FakeGitHub;
    beforeAll(async () => {
      gh = await startFakeGitHub('o/r', 'ghp_TheIssueTokenIsFine0123456789abcdefAB');
    });
    afterAll(() => gh.close());
    it('title and body, and a comment', async () => {
      const tracker = new IssueTracker({
        repo: 'o/r',
        token: 'ghp_TheIssueTokenIsFine0123456789abcdefAB',
        apiUrl: gh.url,
        labels: [],
        tokenHosts: [gh.url],
      });
      const issue = await tracker.open(`failing: ${SHAPES[2]!.text}`, ALL);
      await tracker.comment(issue.number, ALL);
      noneIn('issue', JSON.stringify(gh.issues));
    });
  });

  it('a config snapshot: JSON (with a comment), .env lines, and anything else', () => {
    const settings = {
      mcpServers: Object.fromEntries(
        SHAPES.map((s, i) => [
          `server${i}`,
          { command: 'node', args: ['index.js', s.text], env: { VALUE: s.secret }, url: s.text },
        ]),
      ),
    };
    noneIn('json snapshot', redactConfig(`// comment\n${JSON.stringify(settings)}`).text);
    // a secret as the argument after its flag, however it is spelt
    const split = {
      mcpServers: { s: { command: 'x', args: ['--token', 'plainValue9x8y7z', '--db-password', 'hunter2hunter2'] } },
    };
    noneIn('split args', redactConfig(JSON.stringify(split)).text);
    const envLines = SHAPES.map((s, i) => `NAME_${i}=${s.secret.replace(/\n/g, '')}`).join('\n');
    noneIn('env snapshot', redactConfig(envLines).text);
    noneIn('text snapshot', redactConfig(ALL).text);
  });

  it('a real run: a failing suite printing every shape, through --json, the inbox and the status file', async () => {
    const base = await tempDir('secrets-run');
    const shared = path.join(base, 'shared');
    mkdirSync(shared, { recursive: true });
    const own = machineConfig(base, {
      tests: {
        suites: [
          {
            name: 'leaky',
            cwd: base,
            command: [
              'node',
              '-e',
              `console.log(${JSON.stringify(ALL)}); console.error(${JSON.stringify(ALL)}); process.exit(1)`,
            ],
          },
        ],
      },
    });
    const args = ['run', '--no-sync', '--json', '--task', 'tests', '--shared-state', shared, '--machine', 'myia-m1'];
    const r = await cli(args, { env: own, now: NOW });
    const checks = JSON.parse(r.stdout).tasks[0].checks as { check: string; state: string }[];
    expect(checks.find((c) => c.check === 'tests')?.state).toBe('failing'); // reported as a failing suite
    noneIn('--json', r.stdout);
    noneIn('stderr', r.stderr);
    const human = await cli(
      args.filter((a) => a !== '--json'),
      { env: own, now: NOW + 86_400_000 },
    );
    noneIn('terminal', human.stdout);
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
      );
    const files = walk(shared);
    expect(files.some((f) => f.includes(`${path.sep}inbox${path.sep}`))).toBe(true);
    for (const f of files) noneIn(f, readFileSync(f, 'utf8'));
  });
});
