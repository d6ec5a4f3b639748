import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN } from './fleet.js';
import { isolatedEnv, scaled } from './helpers.js';

describe('npm run demo', () => {
  it(
    'builds a fleet, fails over after the leader is killed, fences it, and cleans up after itself',
    async () => {
      const env = await isolatedEnv({ TMPDIR: (await isolatedEnv()).HOME });
      const r = spawnSync(process.execPath, [BIN, 'demo', '--json'], { encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.failover).toMatchObject({ m: 'myia-po-2023', term: 2 });
      expect(doc.status.leader).toMatchObject({ holder: 'myia-po-2023', term: 2 });
      expect(doc.status.machines).toHaveLength(3);
      expect(doc.dir).toBeNull();
    },
    scaled(120_000),
  );
});
