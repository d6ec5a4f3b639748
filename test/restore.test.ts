import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMessage } from '../src/demo/messages.js';
import { git, makeFleet, remoteFile, tick } from './fleet.js';
import { cli, scaled } from './helpers.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

describe('restore', () => {
  it(
    'brings back a purged message to archive/ and a removed folder where it was, committed and pushed',
    async () => {
      const old = makeMessage(T0, 200, { status: 'archived', subject: 'old news', read_by: ['myia-ai-01'] });
      const fleet = await makeFleet(1, (seed) => {
        mkdirSync(path.join(seed, 'messages', 'archive'), { recursive: true });
        writeFileSync(path.join(seed, 'messages', 'archive', `${old.id}.json`), JSON.stringify(old, null, 2));
        mkdirSync(path.join(seed, '.rollback', 'dec_2026-01-01T00-00-00Z'), { recursive: true });
        writeFileSync(
          path.join(seed, '.rollback', 'dec_2026-01-01T00-00-00Z', 'metadata.json'),
          '{"decisionId":"dec"}',
        );
      });
      const [m] = fleet.machines as [string];
      // a file RooSync wrote and nobody committed yet: the tick commits it before any task, so history holds it
      const uncommitted = makeMessage(T0, 200, { status: 'archived', read_by: ['myia-ai-01'] });
      const rel = `messages/archive/${uncommitted.id}.json`;
      writeFileSync(path.join(fleet.dir(m), rel), JSON.stringify(uncommitted, null, 2));
      const purged = await tick(fleet, m, T0, { tasks: ['messages-purge', 'rollback-cleanup'] });
      expect(purged.code, purged.stderr).toBe(0);
      expect(remoteFile(fleet, rel)).toBeUndefined();
      expect(git(fleet.remote, 'log', '--format=%s', '--diff-filter=A', 'main', '--', rel)).toContain(
        "commits RooSync's message changes",
      );
      expect(existsSync(path.join(fleet.dir(m), 'messages', 'purged'))).toBe(false); // git mode: history, no bundle
      expect(remoteFile(fleet, `messages/archive/${old.id}.json`)).toBeUndefined();
      expect(remoteFile(fleet, '.rollback/dec_2026-01-01T00-00-00Z/metadata.json')).toBeUndefined();

      const args = ['--shared-state', fleet.dir(m), '--machine', m];
      const dry = await cli(['restore', old.id, '--dry-run', ...args]);
      expect(dry.stdout).toContain(`would restore messages/archive/${old.id}.json`);
      const r = await cli(['restore', old.id, '--json', ...args]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ pushed: true, restored: [`messages/archive/${old.id}.json`] });
      expect(remoteFile(fleet, `messages/archive/${old.id}.json`)).toBe(JSON.stringify(old, null, 2)); // byte for byte

      const folder = await cli(['restore', '.rollback/dec_2026-01-01T00-00-00Z', ...args]);
      expect(folder.code, folder.stderr).toBe(0);
      expect(remoteFile(fleet, '.rollback/dec_2026-01-01T00-00-00Z/metadata.json')).toBe('{"decisionId":"dec"}');
      expect((await cli(['restore', 'msg-20200101T000000-nope00', ...args])).code).toBe(2);
      expect((await cli(['restore', '../../etc/passwd', ...args])).code).toBe(2);
    },
    scaled(60_000),
  );
});
