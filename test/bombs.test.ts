import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createGzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { makeMessage } from '../src/demo/messages.js';
import { MAX_BODY } from '../src/roosync/send.js';
import { BIN } from './fleet.js';
import { cli, fleetAliveAt, NOW, scaled, tempDir } from './helpers.js';

/**
 * Issue 26, amplification: a file another machine wrote must not make this one write, read or hold without
 * bound. A drift of 250,000 keys gives a bounded report and no crash; a purge bundle that unpacks to hundreds
 * of MB is refused with a reason, in bounded memory.
 */

describe('bombs from other machines (issue 26)', () => {
  it(
    'config drift over 250,000 differing keys: bounded output, one bounded alert, no crash',
    async () => {
      const shared = path.join(await tempDir('drift-bomb'), 'shared');
      const keys = 250_000;
      for (const [m, salt] of [
        ['myia-m1', 'a'],
        ['myia-m2', 'b'],
      ] as const) {
        const dir = path.join(shared, 'maintenance', 'configs', m, 'mcp_settings.json-00000000');
        mkdirSync(dir, { recursive: true });
        const body = Object.fromEntries(Array.from({ length: keys }, (_, i) => [`k${i}`, `${salt}${i}`]));
        writeFileSync(path.join(dir, '20261101T000000Z-0000000000000000.json'), JSON.stringify({ mcpServers: body }));
      }
      fleetAliveAt(shared, NOW, 'myia-m2');
      const args = ['run', '--no-sync', '--leader', '--json', '--task', 'config-drift', '--shared-state', shared];
      const r = await cli([...args, '--machine', 'myia-m1'], { now: NOW });
      expect(r.code, r.stderr).toBeLessThanOrEqual(1);
      const doc = JSON.parse(r.stdout);
      const task = doc.tasks[0];
      const check = task.checks[0];
      // one file is compared up to 200,000 values (drift.ts MAX_LEAVES); the rest is one summarised entry
      expect(check.data.total).toBeGreaterThanOrEqual(200_000);
      expect(check.summary).toMatch(/differs between machines .* at 2\d\d,?\d{3} key paths/);
      expect(check.data.drifts.length).toBe(200);
      expect(task.warnings.length).toBeLessThanOrEqual(202); // 200 listed, the rest counted, the summary
      expect(task.warnings.at(-1)).toMatch(/more differing key paths not listed/);
      expect(r.stdout.length).toBeLessThan(1024 * 1024); // was about 100 MB of alert and digest text
      const inbox = path.join(shared, 'messages', 'inbox');
      for (const f of readdirSync(inbox)) {
        const body = JSON.parse(readFileSync(path.join(inbox, f), 'utf8')).body as string;
        expect(body.length).toBeLessThanOrEqual(MAX_BODY);
      }
    },
    scaled(120_000),
  );

  it(
    'a 100 KB purge bundle that unpacks to 256 MB: refused with a reason, within bounded memory',
    async () => {
      const shared = path.join(await tempDir('bundle-bomb'), 'shared');
      const purged = path.join(shared, 'messages', 'purged');
      mkdirSync(purged, { recursive: true });
      const wanted = makeMessage(NOW, 200, { status: 'archived' });
      // a line that starts like an entry for the wanted message, then 256 MB of padding: zlib packs it ~1000:1
      const bomb = path.join(purged, '2026-11-01T00-00-00-000Z-myia-evil-x.jsonl.gz');
      await new Promise<void>((resolve, reject) => {
        const gz = createGzip({ level: 9 });
        gz.pipe(createWriteStream(bomb)).on('finish', resolve).on('error', reject);
        gz.write(`{"id":${JSON.stringify(wanted.id)},"folder":"archive","purgedAt":"x","by":"evil","text":"`);
        const chunk = Buffer.alloc(1024 * 1024, 0x61);
        for (let i = 0; i < 256; i++) gz.write(chunk);
        gz.end('"}\n');
      });
      expect(statSync(bomb).size).toBeLessThan(1024 * 1024);
      // the real CLI in its own process, its peak memory measured by the kernel (GNU time's %M, in KB)
      const out = (() => {
        try {
          return execFileSync(
            '/usr/bin/time',
            [
              '-f',
              'maxrss=%M',
              process.execPath,
              BIN,
              'restore',
              wanted.id,
              '--shared-state',
              shared,
              '--machine',
              'myia-m1',
            ],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
          );
        } catch (err) {
          const e = err as { status: number; stdout: string; stderr: string };
          return `${e.stdout}\n${e.stderr}\nexit=${e.status}`;
        }
      })();
      expect(out).toContain('exit=');
      expect(out).toMatch(/unpacks to more than 32 MB/);
      const rssKb = Number(/maxrss=(\d+)/.exec(out)?.[1]);
      // the cap is 32 MB unpacked; before it, restoring such a bundle took about 1.5 GB
      expect(rssKb).toBeGreaterThan(0);
      console.log(`bundle bomb: refused, peak RSS ${Math.round(rssKb / 1024)} MB`);
      expect(rssKb).toBeLessThan(400 * 1024);
    },
    scaled(120_000),
  );
});
