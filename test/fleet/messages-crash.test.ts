import { spawn, spawnSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMessage, writeMessage } from '../../src/demo/messages.js';
import { messageDirs } from '../../src/roosync/layout.js';
import { parseMessage } from '../../src/roosync/message.js';
import { bundleFiles, readBundle } from '../../src/roosync/purgeBundle.js';
import { isolatedEnv, tempDir } from '../helpers.js';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

async function jsonFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
}

/** Starts the real CLI and SIGKILLs it once `progressed()` says its work is under way; true if it was still running. */
async function killMidway(args: string[], progressed: () => Promise<boolean>): Promise<boolean> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore', env: await isolatedEnv() });
  const exited = new Promise((r) => child.on('exit', r));
  for (let i = 0; i < 3000 && child.exitCode === null; i++) {
    if (await progressed()) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const wasRunning = child.exitCode === null;
  child.kill('SIGKILL');
  await exited;
  return wasRunning;
}

describe('invariant 4 on messages: SIGKILL at any point, then run again', () => {
  it('archive and purge lose no message, duplicate none, and leave nothing half-written', async () => {
    const shared = path.join(await tempDir('msgcrash'), 'shared');
    const dirs = messageDirs(shared);
    const now = Date.now();
    const due = new Set<string>();
    const recent = new Set<string>();
    const old = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const m = makeMessage(now, 40 + (i % 20), { status: 'read' });
      await writeMessage(dirs.inbox, m);
      if (i % 3 === 0) await writeMessage(dirs.sent, m);
      due.add(m.id);
    }
    for (let i = 0; i < 500; i++) {
      const m = makeMessage(now, i % 20);
      await writeMessage(dirs.inbox, m);
      recent.add(m.id);
    }
    for (let i = 0; i < 2000; i++) {
      const m = makeMessage(now, 100 + i, { status: 'archived', read_by: ['myia-po-2023'] });
      await writeMessage(dirs.archive, m);
      old.add(m.id);
    }
    const base = [
      'run',
      '--no-sync',
      '--leader',
      '--shared-state',
      shared,
      '--machine',
      'myia-ai-01',
      '--log-level',
      'silent',
    ];
    const archiveStart = (await jsonFiles(dirs.archive)).length;
    const interrupted: boolean[] = [];
    for (let round = 0; round < 4; round++) {
      const seen = (await jsonFiles(dirs.inbox)).length;
      interrupted.push(
        await killMidway(
          [...base, '--task', 'messages-archive'],
          async () => (await jsonFiles(dirs.inbox)).length < seen - 50 * (round + 1),
        ),
      );
      interrupted.push(
        await killMidway(
          [...base, '--task', 'messages-purge'],
          async () => (await jsonFiles(dirs.archive)).length < archiveStart - 100 * (round + 1),
        ),
      );
    }
    expect(interrupted.filter(Boolean).length).toBeGreaterThan(2); // the kills really landed mid-run
    const final = spawnSync(
      process.execPath,
      [BIN, ...base, '--task', 'messages-archive', '--task', 'messages-purge'],
      { encoding: 'utf8', env: await isolatedEnv() },
    );
    expect(final.status).toBe(0);

    // the runs' own digests (from <machine>:maintenance) are not part of the original store
    const ours = async (n: string) =>
      (JSON.parse(await readFile(path.join(dirs.inbox, n), 'utf8')) as { from: string }).from.endsWith(':maintenance');
    const inboxFiles = [];
    for (const n of await jsonFiles(dirs.inbox)) if (!(await ours(n))) inboxFiles.push(n);
    const inbox = new Set(inboxFiles.map((n) => n.slice(0, -5)));
    const archive = new Set((await jsonFiles(dirs.archive)).map((n) => n.slice(0, -5)));
    expect([...inbox].sort()).toEqual([...recent].sort());
    for (const id of due) expect(archive.has(id) && !inbox.has(id)).toBe(true); // exactly once, in archive
    for (const id of old) expect(archive.has(id)).toBe(false); // purged (and listed in the run reports)
    const bundled = new Set<string>();
    for (const file of bundleFiles(shared)) {
      const b = readBundle(file);
      if ('entries' in b) for (const e of b.entries) bundled.add(e.id);
    }
    for (const id of old) expect(bundled.has(id)).toBe(true); // and every one of them can be restored
    for (const dir of [dirs.inbox, dirs.archive, dirs.sent]) {
      const all = await readdir(dir);
      expect(all.filter((n) => !n.endsWith('.json'))).toEqual([]); // no *.tmp left
      for (const n of all) {
        const parsed = parseMessage(await readFile(path.join(dir, n), 'utf8'), n, Date.UTC(2026, 11, 1));
        expect(parsed.ok).toBe(true);
        if (dir !== dirs.inbox && parsed.ok && !parsed.message.from.endsWith(':maintenance'))
          expect(parsed.message.status).toBe('archived');
      }
    }
  });
});
