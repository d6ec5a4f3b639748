import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMessage } from '../src/demo/messages.js';
import { readBundle } from '../src/roosync/purgeBundle.js';
import { DAY, NOW, cli, tempDir } from './helpers.js';

/**
 * Issue 24: a full disk fails a write, never a message. A real tmpfs (the tests run as root in CI) is filled
 * until a few KB are left, then the real CLI purges, archives, writes its status and restores on it. Every
 * message must be in the inbox, the archive or a readable bundle afterwards, and the run says it failed.
 */
const isRoot = process.getuid?.() === 0;
let mount: string | undefined;
let skipWhy: string | undefined;

beforeAll(async () => {
  if (!isRoot) {
    skipWhy = 'needs root to mount a tmpfs (CI runs as root)';
    return;
  }
  mount = path.join(await tempDir('diskfull'), 'fs');
  mkdirSync(mount);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mount], { stdio: 'pipe' });
  } catch (err) {
    skipWhy = `cannot mount a tmpfs here: ${String(err).split('\n')[0]}`;
    mount = undefined;
  }
});

afterAll(() => {
  if (mount) execFileSync('umount', ['-l', mount]);
});

/** Fills the file system until `leaveBytes` are free (the filler is removed by `free()`). */
function fill(dir: string, leaveBytes: number): { free: () => void } {
  const filler = path.join(dir, 'filler');
  const s = statfsSync(dir);
  const avail = s.bavail * s.bsize;
  writeFileSync(filler, Buffer.alloc(Math.max(0, avail - leaveBytes)));
  return { free: () => rmSync(filler, { force: true }) };
}

function sharedIn(name: string) {
  const shared = path.join(mount!, name);
  const dirs = {
    inbox: path.join(shared, 'messages', 'inbox'),
    archive: path.join(shared, 'messages', 'archive'),
    purged: path.join(shared, 'messages', 'purged'),
  };
  for (const d of [dirs.inbox, dirs.archive]) mkdirSync(d, { recursive: true });
  // the fleet's clock: another machine's fresh message
  const fresh = makeMessage(NOW, 0, { from: 'myia-po-2026:roo' });
  writeFileSync(path.join(dirs.inbox, `${fresh.id}.json`), JSON.stringify(fresh, null, 2));
  return {
    shared,
    dirs,
    args: ['--no-sync', '--leader', '--json', '--shared-state', shared, '--machine', 'myia-ai-01'],
  };
}

const wholeIn = (dir: string, id: string) => {
  try {
    return JSON.parse(readFileSync(path.join(dir, `${id}.json`), 'utf8')).id === id;
  } catch {
    return false;
  }
};

const bundled = (dir: string): Map<string, string> => {
  const out = new Map<string, string>();
  for (const n of (() => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  })()) {
    const b = readBundle(path.join(dir, n));
    if ('entries' in b) for (const e of b.entries) out.set(e.id, e.text);
  }
  return out;
};

describe('a full disk (real tmpfs): writes fail whole, nothing is lost, the run says so', () => {
  it('purge: the bundle cannot be written, so nothing is removed; an earlier bundle stays whole (exit 1)', async (t) => {
    if (skipWhy) return t.skip(skipWhy);
    const { dirs, args } = sharedIn('purge');
    const ids: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const m = makeMessage(NOW, 100 + (i % 14), { status: 'archived', read_by: ['myia-po-2023'] });
      m.body = randomBytes(200).toString('base64'); // real bodies: a bundle of 3,000 is far over the room left
      writeFileSync(path.join(dirs.archive, `${m.id}.json`), JSON.stringify(m, null, 2));
      ids.push(m.id);
    }
    // an earlier purge's bundle, written while there was room
    const early = makeMessage(NOW, 200, { status: 'archived', read_by: ['myia-po-2023'] });
    writeFileSync(path.join(dirs.archive, `${early.id}.json`), JSON.stringify(early, null, 2));
    const first = await cli(['run', ...args, '--task', 'messages-purge'], { now: NOW - 25 * DAY });
    expect(first.code, first.stderr).toBe(0);
    expect(bundled(dirs.purged).has(early.id)).toBe(true);
    const disk = fill(mount!, 8 * 1024);
    const r = await cli(['run', ...args, '--task', 'messages-purge'], { now: NOW });
    disk.free();
    expect(r.code, r.stdout).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.tasks[0].status).toBe('failed');
    expect(JSON.stringify(doc.tasks[0].errors)).toMatch(/ENOSPC|disk full/);
    const inBundle = bundled(dirs.purged);
    const missing = ids.filter((id) => !wholeIn(dirs.archive, id) && !inBundle.has(id));
    expect(missing).toEqual([]);
    expect(ids.filter((id) => wholeIn(dirs.archive, id))).toHaveLength(3000);
    expect(inBundle.has(early.id)).toBe(true); // the month's earlier purge is intact
    // with room again, the next run purges, and every purged message is in a readable bundle
    const again = await cli(['run', ...args, '--task', 'messages-purge'], { now: NOW });
    expect(again.code, again.stderr).toBe(0);
    const after = bundled(dirs.purged);
    expect(ids.filter((id) => !wholeIn(dirs.archive, id) && !after.has(id))).toEqual([]);
  });

  it('archive: copies that do not fit fail, their messages stay in the inbox; the next run finishes (exit 1, then 0)', async (t) => {
    if (skipWhy) return t.skip(skipWhy);
    const { dirs, args } = sharedIn('archive');
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) {
      const m = makeMessage(NOW, 40 + (i % 20), { status: 'read', read_by: ['myia-ai-01'] });
      writeFileSync(path.join(dirs.inbox, `${m.id}.json`), JSON.stringify(m, null, 2));
      ids.push(m.id);
    }
    const disk = fill(mount!, 64 * 1024);
    const r = await cli(['run', ...args, '--task', 'messages-archive'], { now: NOW });
    disk.free();
    expect(r.code).toBe(1);
    expect(ids.filter((id) => !wholeIn(dirs.inbox, id) && !wholeIn(dirs.archive, id))).toEqual([]);
    const again = await cli(['run', ...args, '--task', 'messages-archive'], { now: NOW });
    expect(again.code, again.stderr).toBe(0);
    expect(ids.filter((id) => !wholeIn(dirs.archive, id))).toEqual([]);
  });

  it('status file and restore: the old file stays whole, the run fails with the reason (exit 1)', async (t) => {
    if (skipWhy) return t.skip(skipWhy);
    const { shared, dirs, args } = sharedIn('status');
    const ok = await cli(['run', ...args, '--task', 'log-rotation'], { now: NOW });
    expect(ok.code, ok.stderr).toBe(0);
    const statusFile = path.join(shared, 'maintenance', 'machines', 'myia-ai-01.json');
    // a purged message to restore later
    const old = makeMessage(NOW, 200, { status: 'archived', read_by: ['myia-po-2023'] });
    writeFileSync(path.join(dirs.archive, `${old.id}.json`), JSON.stringify(old, null, 2));
    expect((await cli(['run', ...args, '--task', 'messages-purge'], { now: NOW })).code).toBe(0);
    const before = readFileSync(statusFile, 'utf8');
    const disk = fill(mount!, 0);
    const r = await cli(['run', ...args, '--task', 'log-rotation'], { now: NOW + DAY });
    expect(r.code).toBe(1);
    expect(JSON.parse(readFileSync(statusFile, 'utf8'))).toEqual(JSON.parse(before));
    const restore = await cli(['restore', old.id, ...args.filter((a) => a !== '--leader')], { now: NOW + DAY });
    expect(restore.code).toBe(1);
    expect(restore.stdout + restore.stderr).toMatch(/ENOSPC|disk full/);
    expect(wholeIn(dirs.archive, old.id) || !readdirSync(dirs.archive).includes(`${old.id}.json`)).toBe(true);
    expect(bundled(dirs.purged).has(old.id)).toBe(true);
    disk.free();
    expect((await cli(['restore', old.id, ...args.filter((a) => a !== '--leader')], { now: NOW + DAY })).code).toBe(0);
    expect(wholeIn(dirs.archive, old.id)).toBe(true);
  });
});
