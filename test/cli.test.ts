import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isoDashed, writeAged } from '../src/demo/agedTree.js';
import { LOG_FILE_MAX_BYTES, createLogger, humanLogStream, rotateLogFile } from '../src/log.js';
import { localLogFile } from '../src/sharedState/localState.js';
import { existsSync } from 'node:fs';
import { main } from '../src/cli/main.js';
import { COMMANDS } from '../src/cli/commands.js';
import { TASK_GROUPS, TASK_NAMES } from '../src/config/taskCatalogue.js';
import { Capture, DAY, agedFleetDir, cli, isolatedEnv, snapshotTree, tempDir } from './helpers.js';

const BIN = path.resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

describe('command line contract', () => {
  it('--help lists every command of design.md §3', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(c.usage);
    for (const w of [
      'run',
      'daemon',
      'status',
      'health',
      'leader status',
      'leader release',
      'hooks install',
      'hooks uninstall',
      'hooks status',
      'config validate',
      'config show',
      'config init',
      'schedule print',
      'restore',
      'demo',
    ])
      expect(r.stdout).toContain(w);
  });

  it('health exits 1 when a check fails, with its fix under it; it says which checks did not run', async () => {
    const { tree, args } = await agedFleetDir();
    const config = { ...tree.config, health: { tokens: [{ name: 'old-pat', expiresAt: '2020-01-01' }] } };
    await writeFile(path.join(tree.sharedState, '.maintenance-config.json'), JSON.stringify(config));
    const failing = await cli(['health', ...args]);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/^FAIL {2}tokens +old-pat expired on 2020-01-01$/m);
    expect(failing.stdout).toContain('      fix: Create a new old-pat');
    expect(failing.stdout).toContain('skip  git: the shared state is not a git clone');
    await writeFile(path.join(tree.sharedState, '.maintenance-config.json'), JSON.stringify(tree.config));
    const passing = await cli(['health', '--json', ...args]);
    expect(JSON.parse(passing.stdout).notRun.map((n: { check: string }) => n.check)).toContain('tokens');
  });

  it('per-command help: each command has its page with an example; run --help lists every task and group', async () => {
    for (const c of COMMANDS) {
      const r = await cli([...c.words, '--help']);
      expect(r.code, c.words.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: roosync-maint ${c.words.join(' ')}`);
      expect(r.stdout).toContain(c.examples[0]);
    }
    const run = await cli(['run', '--help']);
    for (const t of TASK_NAMES) expect(run.stdout).toMatch(new RegExp(`^  ${t} +(fleet|local) +every `, 'm'));
    for (const g of Object.keys(TASK_GROUPS)) expect(run.stdout).toMatch(new RegExp(`^  ${g} +\\S`, 'm'));
    const viaHelp = await cli(['help', 'restore']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toContain('roosync-maint restore msg-');
    const group = await cli(['leader']);
    expect(group.code).toBe(2);
    expect(group.stdout).toMatch(/status .*lease/);
    expect(group.stdout).toMatch(/release .*give up/);
  });

  it('flags belong to their commands; typos get a did-you-mean; choices are checked', async () => {
    const scoped = await cli(['status', '--keep', '--for', 'cron', '--force']);
    expect(scoped.code).toBe(2);
    expect(scoped.stderr).toContain("unknown option '--keep'");
    const typo = await cli(['stauts']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('Did you mean status?');
    const flagTypo = await cli(['run', '--dry-rn']);
    expect(flagTypo.stderr).toContain('Did you mean --dry-run?');
    const choice = await cli(['schedule', 'print', '--for', 'cronn']);
    expect(choice.code).toBe(2);
    expect(choice.stderr).toContain('Allowed choices are cron, systemd, windows');
    const asJson = await cli(['stauts', '--json']);
    expect(JSON.parse(asJson.stdout)).toMatchObject({
      ok: false,
      error: { problems: [{ hint: 'Did you mean status?' }] },
    });
    expect(asJson.stderr).toBe('');
  });

  it('usage errors exit 2, saying what is wrong and what to do', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['run', '--bogus'])).code).toBe(2);
    const missing = await cli(['restore']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('roosync-maint restore <message-id | path>');
    const { args } = await agedFleetDir();
    expect((await cli(['run', '--task', 'nope', '--no-sync', ...args])).stderr).toContain('unknown task or group');
  });

  it('--json prints exactly one JSON document, errors included', async () => {
    const { args } = await agedFleetDir();
    const ok = await cli(['run', '--no-sync', '--leader', '--dry-run', '--json', '--task', 'cleanup', ...args]);
    expect(ok.code).toBe(0);
    const doc = JSON.parse(ok.stdout);
    expect(doc).toMatchObject({ command: 'run', ok: true, dryRun: true });
    expect(
      doc.tasks.find((t: { task: string }) => t.task === 'rollback-cleanup').rules[0].actions.length,
    ).toBeGreaterThan(0);
    const bad = await cli(['config', 'validate', '--json', '--shared-state', '/definitely/not/here']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      ok: false,
      error: { problems: [expect.objectContaining({ where: '--shared-state' })] },
    });
  });

  it('invariant 3: --dry-run leaves the tree byte-for-byte unchanged, and prints the plan (-v: with reasons) and totals', async () => {
    const { base, args } = await agedFleetDir();
    const before = await snapshotTree(base);
    const r = await cli(['run', '--no-sync', '--leader', '--dry-run', '-v', '--task', 'all', ...args]);
    expect(r.code).toBe(0);
    expect(await snapshotTree(base)).toEqual(before);
    expect(r.stdout).toMatch(/remove +decision-10_.*older than 7 days: dated 2026-11-13 \(from its name\)/);
    expect(r.stdout).toMatch(/skip +CRITICAL_pre-migration_.*excluded: matches CRITICAL_\*/);
    expect(r.stdout).toMatch(/health \(local\) ok/);
    expect(r.stdout).toMatch(/total: would act on \d+ \(.+\) across \d+ tasks — dry run: nothing was changed/);
  });

  it('invariant 6: a garbage config is exit 2, one line per problem, and nothing is touched', async () => {
    const { base, tree, args } = await agedFleetDir();
    await writeFile(
      path.join(tree.sharedState, '.maintenance-config.json'),
      '{"rollback": {"retentionDays": -1}, "logz": {}}',
    );
    const before = await snapshotTree(base);
    const r = await cli(['run', '--no-sync', '--leader', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('rollback.retentionDays: expected a number ≥ 1 (got -1)');
    expect(r.stderr).toContain('logz: unknown key');
    expect(await snapshotTree(base)).toEqual(before);
    await writeFile(path.join(tree.sharedState, '.maintenance-config.json'), '\u0000\u0001 not json');
    expect((await cli(['config', 'validate', ...args])).code).toBe(2);
  });

  it('run without --no-sync refuses until sync lands, touching nothing', async () => {
    const { base, args } = await agedFleetDir();
    const before = await snapshotTree(base);
    const r = await cli(['run', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--no-sync');
    expect(await snapshotTree(base)).toEqual(before);
  });

  it('config show names where the shared state, machine id and config came from', async () => {
    const { tree } = await agedFleetDir();
    const r = await cli(['config', 'show', '--json'], {
      env: { ROOSYNC_SHARED_PATH: tree.sharedState, ROOSYNC_MACHINE_ID: 'Myia-AI-01' },
    });
    expect(JSON.parse(r.stdout).sources).toMatchObject({
      sharedState: { source: 'env ROOSYNC_SHARED_PATH' },
      machineId: { value: 'myia-ai-01', source: 'env ROOSYNC_MACHINE_ID' },
    });
  });

  it('config init writes a starter that validates, and will not overwrite without --force', async () => {
    const dir = await tempDir('init');
    const args = ['--shared-state', dir, '--machine', 'myia-ai-01'];
    expect((await cli(['config', 'init', ...args])).code).toBe(0);
    expect((await cli(['config', 'validate', ...args])).stdout).toContain(': valid');
    expect((await cli(['config', 'init', ...args])).code).toBe(2);
    expect((await cli(['config', 'init', '--force', ...args])).code).toBe(0);
    // in a clone, it says how the fleet gets the file: no tick commits a config for you
    const clone = await tempDir('init-clone');
    spawnSync('git', ['init', '-q', clone]);
    const inClone = await cli(['config', 'init', '--shared-state', clone, '--machine', 'myia-ai-01']);
    expect(inClone.stdout).toContain('committed and pushed');
    expect(inClone.stdout).toContain("add '.maintenance-config.json'");
  });
});

describe('the real binary', () => {
  it('logs pino JSON on stderr only; stdout is the one --json document', async () => {
    const { args } = await agedFleetDir();
    const r = spawnSync(
      process.execPath,
      [BIN, 'run', '--no-sync', '--leader', '--json', '--log-format', 'json', '-vv', '--task', 'log-rotation', ...args],
      { encoding: 'utf8', env: await isolatedEnv() },
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).tasks[0].task).toBe('log-rotation');
    const logLines = r.stderr.trim().split('\n');
    expect(logLines.length).toBeGreaterThan(1);
    for (const line of logLines) expect(JSON.parse(line)).toHaveProperty('level');
  });

  it('on a terminal, stderr carries human lines only: an error printed once, warnings one line each, no JSON', async () => {
    const { args } = await agedFleetDir();
    const tty = Object.assign(new Capture(), { isTTY: true });
    const out = new Capture();
    const env = await isolatedEnv();
    const code = await main(['run', '--task', 'nope', '--no-sync', ...args], {
      stdout: out,
      stderr: tty,
      env,
      cwd: env.HOME!,
    });
    expect(code).toBe(2);
    expect(tty.text).not.toContain('{"');
    expect(tty.text.split('unknown task or group').length - 1).toBe(1);
    let lines = '';
    const sink = new Writable({
      write(c, _e, cb) {
        lines += String(c);
        cb();
      },
    });
    const log = createLogger('warn', humanLogStream(sink));
    log.info('not shown');
    log.warn({ file: 'maintenance/machines/x.json', token: 'abc' }, 'status file unreadable');
    log.error('push failed');
    expect(lines).toBe(
      'roosync-maint: warning: status file unreadable (file: maintenance/machines/x.json; token: [redacted])\n' +
        'roosync-maint: error: push failed\n',
    );
  });

  it('every run logs JSON to one rotated file in the local state folder; -q keeps stderr to errors, -v adds info', async () => {
    const { tree, args } = await agedFleetDir();
    const env = await isolatedEnv();
    const file = localLogFile(tree.sharedState, env);
    const verbose = await cli(['run', '--no-sync', '--leader', '--task', 'log-rotation', '-v', ...args]);
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toMatch(/^roosync-maint: info: /m);
    expect(verbose.stderr).not.toMatch(/^\{/m);
    const records = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.some((r) => r.level === 30)).toBe(true);
    // the schedule's stderr log, appended by a shell, is rotated by the next run that opens the run log
    const scheduleLog = path.join(path.dirname(file), 'schedule.log');
    await writeFile(scheduleLog, 'w'.repeat(LOG_FILE_MAX_BYTES));
    const quiet = await cli(['run', '--no-sync', '--leader', '--task', 'log-rotation', '-q', ...args]);
    expect(quiet.stderr).toBe('');
    expect(existsSync(`${scheduleLog}.1`)).toBe(true);
    expect(existsSync(scheduleLog)).toBe(false);
    // logrotate's size + rotate 3: the full file becomes .1, .1 becomes .2, and so on; .3 is the last kept
    await writeFile(file, 'x'.repeat(LOG_FILE_MAX_BYTES));
    for (const n of [1, 2, 3]) await writeFile(`${file}.${n}`, `generation ${n}`);
    expect(rotateLogFile(file)).toBe(true);
    expect(await readFile(`${file}.2`, 'utf8')).toBe('generation 1');
    expect(await readFile(`${file}.3`, 'utf8')).toBe('generation 2');
    expect(existsSync(file)).toBe(false);
    expect(rotateLogFile(`${file}.2`)).toBe(false); // small files stay
  });

  it('a read-only shared state: run stops with exit 2 in three lines, health fails its shared-state check', async () => {
    const { base, tree, args } = await agedFleetDir();
    const home = await tempDir('ro-home');
    // root writes anywhere whatever the mode says: the runs are made as nobody, as an operator's would be
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    for (const d of [base, home]) await chmod(d, 0o777);
    await chmod(tree.sharedState, 0o555);
    const env = { PATH: process.env.PATH, HOME: home, XDG_STATE_HOME: path.join(home, 'state') };
    const as = (a: string[]) => spawnSync(process.execPath, [BIN, ...a, ...args], { encoding: 'utf8', env, ...asUser });
    const run = as(['run', '--no-sync', '--leader', '--task', 'log-rotation']);
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain(`${tree.sharedState}: the shared state is not writable (EACCES)`);
    expect(run.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
    const health = as(['health', '--no-sync']);
    expect(health.status).toBe(1);
    expect(health.stdout).toMatch(/^FAIL {2}shared-state +.* is not writable \(EACCES\)$/m);
    expect(health.stdout).toContain('      fix: Give this user write access');
    await chmod(tree.sharedState, 0o755);
    const missing = spawnSync(process.execPath, [BIN, 'run', '--shared-state', path.join(base, 'nope')], {
      encoding: 'utf8',
      env,
    });
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
  });

  it('colour only on a terminal, only the marks, and never with NO_COLOR', async () => {
    const { tree, args } = await agedFleetDir();
    const config = { ...tree.config, health: { tokens: [{ name: 'old-pat', expiresAt: '2020-01-01' }] } };
    await writeFile(path.join(tree.sharedState, '.maintenance-config.json'), JSON.stringify(config));
    const env = await isolatedEnv();
    const health = async (extra: NodeJS.ProcessEnv) => {
      const out = Object.assign(new Capture(), { isTTY: true });
      await main(['health', '--log-level', 'silent', ...args], {
        stdout: out,
        stderr: new Capture(),
        env: { ...env, ...extra },
        cwd: env.HOME!,
      });
      return out.text;
    };
    const painted = await health({});
    expect(painted).toContain('\x1b[31mFAIL\x1b[0m  tokens');
    expect(painted).toMatch(/^\x1b\[32mok\x1b\[0m /m);
    expect(painted.replace(/^\x1b\[\d+m\w+\x1b\[0m/gm, '')).not.toContain('\x1b['); // nothing else painted
    expect(await health({ NO_COLOR: '1' })).not.toContain('\x1b[');
    expect((await cli(['health', ...args])).stdout).not.toContain('\x1b['); // not a terminal
  });

  it('invariant 7 (logs): secrets are redacted', () => {
    let out = '';
    const sink = new Writable({
      write(c, _e, cb) {
        out += String(c);
        cb();
      },
    });
    createLogger('info', sink).info(
      { server: { env: { GITHUB_TOKEN: 'ghp_secret' } }, token: 'abc', password: 'p' },
      'x',
    );
    expect(out).not.toMatch(/ghp_secret|"abc"|"p"/);
    expect(out).toContain('[redacted]');
  });

  it('invariant 4: a run killed mid-removal converges on the next run, with nothing set aside left', async () => {
    const base = await tempDir('kill');
    const root = path.join(base, 'shared');
    await mkdir(path.join(root, '.rollback'), { recursive: true });
    const now = Date.now();
    const total = 2000;
    for (let i = 0; i < total; i++) {
      const t = now - (i % 2 ? 30 : 1) * DAY;
      for (let f = 0; f < 4; f++)
        await writeAged(path.join(root, '.rollback', `d${i}_${isoDashed(t)}`, `f${f}.json`), '{}', t);
    }
    const args = [
      BIN,
      'run',
      '--no-sync',
      '--leader',
      '--task',
      'rollback-cleanup',
      '--shared-state',
      root,
      '--machine',
      'myia-ai-01',
      '--log-level',
      'silent',
    ];
    const env = await isolatedEnv();
    const killedMidway: number[] = [];
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, args, { stdio: 'ignore', env });
      const exited = new Promise((r) => child.on('exit', r));
      // kill as soon as removals are seen under way (fewer whole folders than at the start of this round)
      const start = (await readdir(path.join(root, '.rollback'))).filter((n) => !n.startsWith('.')).length;
      for (let polls = 0; polls < 2000 && child.exitCode === null; polls++) {
        const names = await readdir(path.join(root, '.rollback'));
        if (names.filter((n) => !n.startsWith('.')).length < start) break;
        await new Promise((r) => setTimeout(r, 2));
      }
      child.kill('SIGKILL');
      await exited;
      const remaining = (await readdir(path.join(root, '.rollback'))).filter((n) => !n.startsWith('.')).length;
      if (remaining > total / 2) killedMidway.push(remaining);
    }
    expect(killedMidway.length).toBeGreaterThan(0); // at least one kill really landed mid-removal
    const final = spawnSync(process.execPath, args, { encoding: 'utf8', env });
    expect(final.status).toBe(0);
    const left = await readdir(path.join(root, '.rollback'));
    expect(left.filter((n) => n.includes('roosync-maint-removing'))).toEqual([]);
    expect(left).toHaveLength(total / 2); // exactly the recent half, each whole
    for (const n of left.slice(0, 50)) expect(await readdir(path.join(root, '.rollback', n))).toHaveLength(4);
  });
});
