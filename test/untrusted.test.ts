import { mkdirSync, readdirSync, writeFileSync, truncateSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfigText } from '../src/config/load.js';
import { UsageError } from '../src/errors.js';
import { parseLease } from '../src/election/lease.js';
import { readLeaseFile } from '../src/election/lease.js';
import { readIncidents } from '../src/alerts/incidents.js';
import { fleetStatus } from '../src/report/fleetStatus.js';
import { checkLiveness } from '../src/health/checks.js';
import { readState } from '../src/sharedState/localState.js';
import { judgeInboxFile } from '../src/roosync/readPaths.js';
import { configSchema } from '../src/config/schema.js';
import { silentLogger } from '../src/log.js';
import { NOW, cli, tempDir } from './helpers.js';

const DEEP = 200_000;
const SECRETISH = 'ghp_NotForYourEyes0123456789abcdefghij';
const valid = { machine: 'myia-zz-01', version: '1', lastTickAt: new Date(NOW).toISOString() };
const utf16 = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);

/** What someone else may leave where we read: one malformed content a line. `dir` = a folder in place of the file. */
const MALFORMED: [string, string | Buffer | 'dir' | 'huge'][] = [
  ['empty', ''],
  ['garbage', `\u0001\u0002 ${SECRETISH} \u001b[31m`],
  ['BOM before garbage', `\uFEFF${SECRETISH}`],
  ['null', 'null'],
  ['an array', '[1, 2]'],
  ['a string', `"${SECRETISH}"`],
  ['a number', '42'],
  ['a deep array', `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`],
  ['a deep object', `${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`],
  ['60 MB', 'huge'],
  ['UTF-16', utf16(JSON.stringify(valid))],
  ['truncated', JSON.stringify(valid).slice(0, 20)],
  ['wrong types', JSON.stringify({ machine: 7, lastTickAt: true, holder: [], term: 'x', key: {} })],
  ['a directory', 'dir'],
];

function place(file: string, content: string | Buffer | 'dir' | 'huge'): void {
  mkdirSync(path.dirname(file), { recursive: true });
  if (content === 'dir') mkdirSync(file);
  else if (content === 'huge') {
    writeFileSync(file, '');
    truncateSync(file, 60 * 1024 * 1024);
  } else writeFileSync(file, content);
}

/** A reason is safe to print: no control characters, no piece of the content. */
function expectSafe(reason: string): void {
  expect(reason).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  expect(reason).not.toContain(SECRETISH.slice(4, 20));
}

describe.each(MALFORMED)('someone else wrote %s', (_what, content) => {
  it('as a status file: listed by name in status and fleet-liveness, never a throw', async () => {
    const shared = await tempDir('untrusted');
    place(path.join(shared, 'maintenance', 'machines', 'myia-zz-01.json'), content);
    writeFileSync(
      path.join(shared, 'maintenance', 'machines', 'myia-ai-01.json'),
      JSON.stringify({ ...valid, machine: 'myia-ai-01' }),
    );
    const s = fleetStatus(shared, configSchema.parse({}), NOW);
    expect(s.machines.map((m) => m.machine)).toEqual(['myia-ai-01']);
    expect(s.malformed).toHaveLength(1);
    expect(s.malformed[0]!.file).toBe('maintenance/machines/myia-zz-01.json');
    expectSafe(s.malformed[0]!.reason);
    const findings = checkLiveness(s.machines, s.malformed, 15);
    expect(findings.find((f) => f.subject === 'maintenance/machines/myia-zz-01.json')?.state).toBe('failing');
  });

  it('as the lease: corrupt, with a reason', async () => {
    const shared = await tempDir('untrusted');
    place(path.join(shared, 'maintenance', 'leader.json'), content);
    const lease = readLeaseFile(shared);
    expect(lease.kind).toBe('corrupt');
    if (lease.kind === 'corrupt') expectSafe(lease.reason);
  });

  it('as an incident history: no incidents', async () => {
    const shared = await tempDir('untrusted');
    place(path.join(shared, 'maintenance', 'history', 'myia-zz-01', 'incidents.json'), content);
    expect(readIncidents(shared, 'myia-zz-01')).toEqual([]);
  });

  it('as a local state file: moved aside and rebuilt', async () => {
    const dir = await tempDir('untrusted');
    const file = path.join(dir, 'state.json');
    place(file, content);
    if (content === 'dir') return; // a folder is not ours to move: reading it is an error the caller reports
    expect(readState(file, z.object({ n: z.number() }), silentLogger)).toBeUndefined();
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(dir).some((n) => n.startsWith('state.json.corrupt-'))).toBe(true);
  });

  it('as a config: a usage error naming where, never a crash', () => {
    if (content === 'dir' || content === 'huge') return; // covered through the CLI below
    const text = typeof content === 'string' ? content : content.toString('utf8');
    let err: unknown;
    try {
      parseConfigText(text, 'c.json');
    } catch (e) {
      err = e;
    }
    if (text.trim() === '') return expect(err).toBeUndefined(); // an empty config means the defaults
    expect(err).toBeInstanceOf(UsageError);
    expectSafe((err as Error).message);
  });

  it('as an inbox message: judged, never a throw, no content in the reason', () => {
    if (content === 'dir' || content === 'huge') return; // read through folder.ts: reported as unreadable (messages.test.ts)
    const text = typeof content === 'string' ? content : content.toString('utf8');
    const j = judgeInboxFile('msg-20261120T000000-abcdef.json', text, NOW);
    if (j.kind !== 'listed') expectSafe(j.reason);
  });
});

describe('deep or broken JSON gives a position', () => {
  it('a 200,000-deep config: exit 2 with line and column, not a stack overflow', async () => {
    const dir = await tempDir('deepcfg');
    const file = path.join(dir, 'cfg.json');
    writeFileSync(file, `{"rules": ${'['.repeat(DEEP)}${']'.repeat(DEEP)}}`);
    const r = await cli(['config', 'validate', '--config', file, '--shared-state', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nested deeper than 32 levels');
    expect(r.stderr).toMatch(/line 1, column \d+/);
    expect(r.stderr).not.toContain('Maximum call stack');
  });

  it.each([
    ['garbage', 'garbage', /line 1, column 1: expected a value, found 'g'/],
    [
      'truncated',
      '{\n  "rollback": {\n    "retentionDays": 7,\n',
      /line 4, column 1: expected a property name, found the end of the file/,
    ],
    ['UTF-16', utf16('{"rollback": {}}'), /looks like UTF-16/],
    ['control bytes', '{"x\u0007": 1}', /a control character inside a string/],
  ] as const)('%s', async (_what, content, expected) => {
    const dir = await tempDir('badcfg');
    const file = path.join(dir, 'cfg.json');
    writeFileSync(file, content);
    const r = await cli(['config', 'validate', '--config', file, '--shared-state', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(expected);
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
  });

  it('an unknown key with control bytes is shown escaped', () => {
    expect(() => parseConfigText('{"rollback": {"a\\u001b[31m": 1}}', 'c.json')).toThrow(
      /rollback\.a\\u001b\[31m: unknown key/,
    );
  });

  it('parseLease says where a lease is broken', () => {
    const r = parseLease('{"holder": "myia-ai-01", "term": }');
    expect(r.kind === 'corrupt' && r.reason).toBe("not valid JSON at line 1, column 34: expected a value, found '}'");
  });
});
