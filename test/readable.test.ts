import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createFleet } from '../src/demo/fleet.js';
import { agedFleetDir, cli, tempDir, until } from './helpers.js';

const BIN = path.resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

async function agedFolder() {
  const { args } = await agedFleetDir('readable');
  return [...args, '--no-sync', '--leader'];
}

describe('readable by default (what a person sees of a run)', () => {
  it('a dry run prints one summary line per task; -v lists each file with its reason', async () => {
    const args = await agedFolder();
    const plain = await cli(['run', '--task', 'cleanup', '--dry-run', ...args]);
    expect(plain.code, plain.stderr).toBe(0);
    const summaries = plain.stdout.split('\n').filter((l) => /^[a-z-]+ \((fleet|local)\) /.test(l));
    expect(summaries.length).toBeGreaterThan(2);
    expect(plain.stdout).not.toMatch(/^ {4}(remove|keep|archive) /m); // no file lines
    const verbose = await cli(['run', '--task', 'cleanup', '--dry-run', '-v', ...args]);
    expect(verbose.stdout).toMatch(/^ {4}remove +\S+.* — .+ \[/m); // each file, with its reason and size
    expect(verbose.stdout.split('\n').length).toBeGreaterThan(plain.stdout.split('\n').length);
    expect(plain.stdout.split('\n').length).toBeLessThan(40);
  });

  it('-q prints nothing on success, and only the errors on failure', async () => {
    const args = await agedFolder();
    const ok = await cli(['run', '--task', 'rollback-cleanup', '-q', ...args]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('');
    expect(ok.stderr).toBe('');
    const shared = args[1]!;
    const config = { health: { tokens: [{ name: 'old-pat', expiresAt: '2020-01-01' }] } };
    await writeFile(path.join(shared, '.maintenance-config.json'), JSON.stringify(config));
    const failed = await cli(['run', '--task', 'health', '--task', 'rollback-cleanup', '-q', ...args]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^health \(local\) failed/m);
    expect(failed.stdout).toContain('old-pat expired on 2020-01-01');
    expect(failed.stdout).not.toContain('rollback-cleanup');
  });

  it('-v shows each phase of a synced tick with its time, each task, and no JSON', async () => {
    const fleet = await createFleet(await tempDir('phases'), 1);
    const [m] = fleet.machines as [string];
    const r = await cli(['run', '-v', '--task', 'rollback-cleanup', '--shared-state', fleet.dir(m), '--machine', m], {
      env: fleet.localEnv(m),
    });
    expect(r.code, r.stderr).toBe(0);
    for (const p of ['sync', 'election', 'tasks', 'commit', 'push'])
      expect(r.stderr).toMatch(new RegExp(`^roosync-maint: info: phase ${p}: \\d+ ms$`, 'm'));
    expect(r.stderr).toMatch(/^roosync-maint: info: task rollback-cleanup: ok, acted on \d+, \d+ ms$/m);
    expect(r.stderr).toMatch(/^roosync-maint: info: tick myia-m1: leader \(term 1\), 1 tasks ran/m);
    expect(r.stderr).not.toContain('{"');
  });

  it('busy: a second run names the holder — its pid, since when, its command', async () => {
    const fleet = await createFleet(await tempDir('busy'), 1);
    const [m] = fleet.machines as [string];
    const stateDir = path.join(fleet.dir(m), '.git', 'roosync-maint');
    // another process holds this machine's run lock, as a run in flight does
    const script = path.join(fleet.base, 'hold.mjs');
    const lock = pathToFileURL(path.resolve(BIN, '..', '..', 'coordinator', 'lock.js')).href;
    await writeFile(
      script,
      `const { acquireRunLock } = await import(${JSON.stringify(lock)});\n` +
        `await acquireRunLock(process.argv[4], { wait: false, staleMs: 60000 });\n` +
        `process.stdout.write('held\\n');\nsetInterval(() => {}, 1000);\n`,
    );
    const holder = spawn(process.execPath, [script, 'run', '--task', stateDir]);
    let out = '';
    holder.stdout.on('data', (d) => (out += d));
    try {
      expect(await until(() => out.includes('held'))).toBe(true);
      const busy = await cli(['run', '--shared-state', fleet.dir(m), '--machine', m], { env: fleet.localEnv(m) });
      expect(busy.code).toBe(3);
      expect(busy.stderr).toContain(`held by pid ${holder.pid} (run --task) since `);
      expect(busy.stderr).toMatch(/since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
