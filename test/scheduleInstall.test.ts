import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scheduleName } from '../src/setup/osSchedule.js';
import { localStateDir } from '../src/sharedState/localState.js';
import { XMLValidator } from 'fast-xml-parser';
import { cli, isolatedEnv, tempDir } from './helpers.js';

/**
 * Real processes standing in for the OS schedulers: `crontab` keeps its table in a file, `systemctl` and
 * `schtasks` record their calls (and schtasks remembers what was registered), all found first on PATH.
 */
async function fakeSchedulers() {
  const base = await tempDir('sched');
  const bin = path.join(base, 'bin');
  await mkdir(bin);
  const table = path.join(base, 'crontab.txt');
  const calls = path.join(base, 'calls.log');
  const tasks = path.join(base, 'tasks');
  const scripts: Record<string, string> = {
    crontab: `if [ "$1" = "-l" ]; then [ -f '${table}' ] && exec cat '${table}'; echo "no crontab for op" >&2; exit 1; fi
cp "$1" '${table}'`,
    // the timer's state is what the test wrote in timer-state (enabled unless told otherwise)
    systemctl: `echo "systemctl $*" >> '${calls}'; [ "$2" = "is-enabled" ] && { cat '${base}/timer-state' 2>/dev/null || echo enabled; }; exit 0`,
    schtasks: `echo "schtasks $*" >> '${calls}'
case "$1" in
  /Create) mkdir -p '${tasks}'; touch '${tasks}/'"$3" ;;
  /Query) [ -f '${tasks}/'"$3" ] || { echo "ERROR: The system cannot find the file specified." >&2; exit 1; } ;;
  /Delete) rm -f '${tasks}/'"$3" ;;
esac`,
  };
  for (const [name, body] of Object.entries(scripts)) {
    await writeFile(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    await chmod(path.join(bin, name), 0o755);
  }
  const shared = path.join(base, 'shared');
  await mkdir(shared);
  const env = { PATH: `${bin}:${process.env.PATH}`, XDG_CONFIG_HOME: path.join(base, 'config') };
  const args = ['--shared-state', shared, '--machine', 'myia-ai-01'];
  const calls_ = async () => (existsSync(calls) ? await readFile(calls, 'utf8') : '');
  return { base, table, shared, env, args, calls: calls_ };
}

describe('schedule install / uninstall / status', () => {
  it('cron: one marked block, idempotent, other lines kept; uninstall removes only ours', async () => {
    const f = await fakeSchedulers();
    await writeFile(f.table, 'MAILTO=op\n0 3 * * * /usr/local/bin/backup\n');
    const run = (...a: string[]) => cli(['schedule', ...a, '--for', 'cron', ...f.args], { env: f.env });
    expect((await run('status')).stdout).toContain('not installed');
    const first = await run('install');
    expect(first.code, first.stderr).toBe(0);
    const once = await readFile(f.table, 'utf8');
    expect((await run('install')).stdout).toContain('crontab entry up to date');
    expect(await readFile(f.table, 'utf8')).toBe(once); // idempotent: the same table, one block
    expect(once.split(`# ${scheduleName(f.shared)} begin`).length - 1).toBe(1);
    expect(once.startsWith('MAILTO=op\n0 3 * * * /usr/local/bin/backup\n')).toBe(true);
    expect(once).toMatch(/run --no-sync --log-level warn >\/dev\/null 2>>'.*schedule\.log'/); // a plain folder
    expect((await run('status')).stdout).toContain('installed, up to date');
    const dry = await run('uninstall', '--dry-run');
    expect(dry.stdout).toContain('would: removed');
    expect(await readFile(f.table, 'utf8')).toBe(once);
    await run('uninstall');
    expect(await readFile(f.table, 'utf8')).toBe('MAILTO=op\n0 3 * * * /usr/local/bin/backup\n');
    expect((await run('uninstall')).stdout).toContain('no crontab entry to remove');
  });

  it('cron: an empty crontab ("no crontab for user") is a fresh table; a stale entry reads out of date', async () => {
    const f = await fakeSchedulers();
    const run = (...a: string[]) => cli(['schedule', ...a, '--for', 'cron', ...f.args], { env: f.env });
    await run('install');
    const text = await readFile(f.table, 'utf8');
    await writeFile(f.table, text.replace('--log-level warn', '--log-level info'));
    const status = await run('status');
    expect(status.stdout).toContain('installed, out of date');
    expect(status.stdout).toContain('fix: roosync-maint schedule install --for cron');
    await run('install');
    expect(await readFile(f.table, 'utf8')).toBe(text);
  });

  it('systemd: two unit files, enabled with systemctl --user; uninstall disables and removes them', async () => {
    const f = await fakeSchedulers();
    const run = (...a: string[]) => cli(['schedule', ...a, '--for', 'systemd', ...f.args], { env: f.env });
    const r = await run('install');
    expect(r.code, r.stderr).toBe(0);
    const name = scheduleName(f.shared);
    const dir = path.join(f.env.XDG_CONFIG_HOME, 'systemd', 'user');
    const service = await readFile(path.join(dir, `${name}.service`), 'utf8');
    const timer = await readFile(path.join(dir, `${name}.timer`), 'utf8');
    expect(service).toMatch(/^\[Unit\]/);
    expect(service).toContain('Type=oneshot');
    expect(service).not.toContain('[Timer]');
    expect(timer).toContain('[Timer]');
    expect(timer).not.toContain('[Service]');
    expect(await f.calls()).toContain(`systemctl --user enable --now ${name}.timer`);
    expect((await run('status')).stdout).toContain('installed, up to date');
    // someone disables the timer: status fails and says how to switch it back on
    await writeFile(path.join(f.base, 'timer-state'), 'disabled\n');
    const off = await run('status');
    expect(off.code).toBe(1);
    expect(off.stdout).toContain('installed, but the timer is disabled: it never fires');
    expect(off.stdout).toContain(`fix: systemctl --user enable --now ${name}.timer`);
    await writeFile(path.join(f.base, 'timer-state'), 'enabled\n');
    await run('uninstall');
    expect(existsSync(path.join(dir, `${name}.service`))).toBe(false);
    expect(await f.calls()).toContain(`systemctl --user disable --now ${name}.timer`);
  });

  it('windows: a well-formed XML file in UTF-16LE with a BOM, its declaration first, registered with schtasks', async () => {
    const f = await fakeSchedulers();
    const run = (...a: string[]) => cli(['schedule', ...a, '--for', 'windows', ...f.args], { env: f.env });
    const r = await run('install');
    expect(r.code, r.stderr).toBe(0);
    const name = scheduleName(f.shared);
    const file = path.join(localStateDir(f.shared, undefined, await isolatedEnv()), `${name}.xml`);
    const bytes = await readFile(file);
    expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xfe]); // the UTF-16LE byte order mark
    const text = bytes.subarray(2).toString('utf16le');
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-16"?>')).toBe(true);
    expect(wellFormed(text)).toBe(true);
    expect(wellFormed('<Task><Exec>a & b</Exec></Task>')).not.toBe(true); // the validator does catch a bad one
    expect(await f.calls()).toContain(`schtasks /Create /TN ${name} /XML ${file} /F`);
    expect((await run('status')).stdout).toContain('installed, up to date');
    await run('uninstall');
    expect(await f.calls()).toContain(`schtasks /Delete /TN ${name} /F`);
    expect((await run('status')).stdout).toContain('not installed');
  });

  it('asks the scheduler before this machine has a local state folder (doctor, --dry-run make none)', async () => {
    const f = await fakeSchedulers();
    const fresh = { ...f.env, XDG_STATE_HOME: path.join(f.base, 'never-made') };
    const r = await cli(['schedule', 'status', '--for', 'cron', '--dry-run', ...f.args], { env: fresh });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('not installed');
    expect(existsSync(path.join(f.base, 'never-made'))).toBe(false);
  });

  it('no crontab on this machine: exit 1, said plainly, with another way', async () => {
    const f = await fakeSchedulers();
    const r = await cli(['schedule', 'status', '--for', 'cron', ...f.args], {
      env: { PATH: path.join(f.base, 'none') },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('crontab -l: crontab is not installed');
    expect(r.stderr).toContain('or use --for systemd');
  });

  it('a scheduler that refuses is exit 1 with what to do instead', async () => {
    const f = await fakeSchedulers();
    await writeFile(path.join(f.base, 'bin', 'systemctl'), '#!/bin/sh\necho "Failed to connect to bus" >&2; exit 1\n');
    const r = await cli(['schedule', 'install', '--for', 'systemd', ...f.args], { env: f.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Failed to connect to bus');
    expect(r.stderr).toContain('enable them yourself: systemctl --user daemon-reload');
  });
});

/** fast-xml-parser's validator: tags closed in order, attributes quoted, entities escaped, one root. */
function wellFormed(xml: string): true | string {
  // the validator lets "--" inside a comment pass; XML 1.0 §2.5 (and Task Scheduler, and xmllint) do not
  for (const c of xml.matchAll(/<!--([\s\S]*?)-->/g))
    if (c[1]!.includes('--') || c[1]!.endsWith('-')) return `a comment holds "--": ${c[0].slice(0, 60)}`;
  const r = XMLValidator.validate(xml);
  return r === true ? true : `${r.err.msg} (line ${r.err.line}, column ${r.err.col})`;
}
