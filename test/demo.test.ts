import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN } from './fleet.js';
import { isolatedEnv, scaled, tempDir } from './helpers.js';

describe('npm run demo', () => {
  // the demo's clock is injected: the same story at 02:00 and at 14:00 UTC (day counts never depend on the hour)
  it.each([Date.UTC(2026, 10, 23, 2), Date.UTC(2026, 10, 23, 14)])(
    'tells the whole story: leader, archived messages, failover, fencing, a health round, the alerts as RooSync lists them (clock %i)',
    async (now) => {
      const tmp = await tempDir('demo-tmp');
      const env = await isolatedEnv({ TMPDIR: tmp, ROOSYNC_MAINT_NOW: String(now) });
      const r = spawnSync(process.execPath, [BIN, 'demo'], { encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(0);
      const out = r.stdout;
      expect(out).toContain('myia-ai-01: LEADER, term 1 — pushed');
      expect(out).toMatch(/^ {8}msg-\S+ — .* older than \d+ days/m); // archived messages by name, with the reason
      expect(out).toMatch(/myia-po-2023: LEADER, term 2/);
      expect(out).toContain('myia-ai-01 comes back: follower — fenced');
      expect(out).toMatch(/round 3: health failed — 2 checks failing: MCP github is down \(exited-early\)/);
      expect(out).toMatch(/^ {2}all +URGENT +\[ALERT\]\[HIGH\] myia-po-2026: MCP github is down/m);
      expect(out).toMatch(/^ {2}all +HIGH +\[ALERT\]\[MEDIUM\] myia-po-2026: github-pat expires in 3 days/m);
      // one fleet digest from the leader, in one language; no machine's own digest
      expect(out).toMatch(/^ {2}all +(LOW|MEDIUM) +\[DIGEST\] flotte : \d+ machines?, leader myia-ai-01 — /m);
      expect(out).toContain('myia-po-2026: MCP github is down'); // status names each failing check with its reason
      expect(out).not.toMatch(/\(0 B\)/); // true sizes: archives and quarantines count what they moved
      expect(r.stderr).not.toContain('{"'); // no JSON log line for a person
      expect(readdirSync(tmp).filter((n) => n.startsWith('roosync-maint-demo-'))).toEqual([]);
    },
    scaled(120_000),
  );
});
