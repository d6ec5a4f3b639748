import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMessage } from '../../src/demo/messages.js';
import { bundleFiles, readBundle } from '../../src/roosync/purgeBundle.js';
import { makeFleet, startTick, T0, writeFleetClock } from '../fleet.js';
import { scaled, tempDir } from '../helpers.js';

/**
 * Issue 28: a lease on a synced folder can be split for a while, so every fleet task must be safe with two
 * leaders at once. Two machines are forced to lead (`--no-sync --leader`) at the same instant on one folder of
 * archived messages due for purge and inbox messages due for archive, several times.
 */
const TRIALS = Number(process.env.ROOSYNC_TEST_TWO_LEADER_TRIALS ?? 4);

describe('two leaders at the same instant on one plain folder', () => {
  it(
    'every purged file is in a readable bundle with its exact text, no inbox message lost or duplicated, no run fails',
    async () => {
      const fleet = await makeFleet(2);
      const [a, b] = fleet.machines as [string, string];
      for (let trial = 0; trial < TRIALS; trial++) {
        const folder = path.join(await tempDir(`two-leaders-${trial}`), 'shared');
        const dir = (f: string) => path.join(folder, 'messages', f);
        for (const f of ['inbox', 'archive']) mkdirSync(dir(f), { recursive: true });
        const purged = new Map<string, string>();
        for (let i = 0; i < 1500; i++) {
          const m = makeMessage(T0, 120 + (i % 60), { status: 'archived', read_by: [a] });
          const text = JSON.stringify(m, null, 2);
          writeFileSync(path.join(dir('archive'), `${m.id}.json`), text);
          purged.set(m.id, text);
        }
        const archivable = Array.from({ length: 500 }, (_, i) =>
          makeMessage(T0, 40 + (i % 20), { status: 'read', to: a }),
        );
        for (const m of archivable) writeFileSync(path.join(dir('inbox'), `${m.id}.json`), JSON.stringify(m, null, 2));
        writeFleetClock(folder, T0);
        const tasks = ['inbox-hygiene', 'messages-archive', 'messages-purge'];
        const opts = (m: string) => ({
          sharedState: folder,
          tasks,
          args: ['--no-sync', '--leader'],
          env: { XDG_STATE_HOME: path.join(fleet.local(m), `state-${trial}`) },
        });
        const [ra, rb] = await Promise.all([
          startTick(fleet, a, T0, opts(a)).done,
          startTick(fleet, b, T0, opts(b)).done,
        ]);
        for (const r of [ra, rb]) {
          expect(r.code, r.stderr).toBe(0);
          for (const t of r.doc?.tasks ?? []) expect(t.status, JSON.stringify(t)).toBe('ok');
        }
        // every purged message is in a readable bundle, byte for byte
        const bundled = new Map<string, string>();
        for (const file of bundleFiles(folder)) {
          const read = readBundle(file);
          expect('corrupt' in read ? read.corrupt : '').toBe('');
          if ('entries' in read) for (const e of read.entries) bundled.set(e.id, e.text);
        }
        const stillThere = new Set(readdirSync(dir('archive')).map((n) => n.replace(/\.json$/, '')));
        // the runs did the work (a test that purged nothing would prove nothing)
        expect([...purged.keys()].filter((id) => stillThere.has(id))).toEqual([]);
        expect(archivable.every((m) => stillThere.has(m.id))).toBe(true);
        for (const [id, text] of purged) {
          if (stillThere.has(id)) continue;
          expect(bundled.get(id), `${id} purged and in no bundle`).toBe(text);
        }
        // each archivable message exactly once, in inbox or archive, never quarantined
        for (const m of archivable) {
          const places = ['inbox', 'archive'].filter((f) => existsSync(path.join(dir(f), `${m.id}.json`)));
          expect(places, m.id).toHaveLength(1);
        }
        const quarantine = dir('quarantine');
        expect(existsSync(quarantine) ? readdirSync(quarantine).filter((n) => n.endsWith('.json')) : []).toEqual([]);
      }
    },
    scaled(600_000),
  );
});
