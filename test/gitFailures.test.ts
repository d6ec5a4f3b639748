import { utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMessage } from '../src/demo/messages.js';
import { GitFailure } from '../src/git/classify.js';
import { GitRepo } from '../src/git/repo.js';
import { T0, git, makeFleet, tick } from './fleet.js';

/** Issue 25: every git failure is a failure, with git's words; a killed git's index.lock is named, then healed. */
describe('git failures are never read as success', () => {
  it('a git command that fails without a word is a GitFailure with its exit code', async () => {
    const fleet = await makeFleet(1);
    const repo = (await GitRepo.open(fleet.dir('myia-m1'), { timeoutMs: 30_000, machineId: 'myia-m1' }))!;
    // the adapter's own private call: the only git command that fails without printing a word
    const raw = (repo as unknown as { raw(args: string[]): Promise<string> }).raw.bind(repo);
    const err = await raw(['rev-parse', '-q', '--verify', 'refs/heads/no-such-branch']).catch((e) => e);
    expect(err).toBeInstanceOf(GitFailure);
    expect(String(err.message)).toContain('exited with code 1');
  });

  it('a killed git’s index.lock: the run fails naming it and what to do, then heals once the lock is old', async () => {
    const fleet = await makeFleet(1);
    const dir = fleet.dir('myia-m1');
    expect((await tick(fleet, 'myia-m1', T0, { tasks: ['local-log-prune'] })).code).toBe(0);
    // RooSync wrote a message; git was killed holding the index lock
    const m = makeMessage(T0, 0, { from: 'myia-po-2026:roo' });
    writeFileSync(path.join(dir, 'messages', 'inbox', `${m.id}.json`), JSON.stringify(m, null, 2));
    const lock = path.join(dir, '.git', 'index.lock');
    writeFileSync(lock, '');
    const failed = await tick(fleet, 'myia-m1', T0 + 60_000, { tasks: ['local-log-prune'] });
    expect(failed.code).not.toBe(0);
    const said = failed.stderr + JSON.stringify(failed.doc ?? {});
    expect(said).toContain('index.lock');
    expect(said).toContain('10 minutes old');
    // no success was reported and nothing was pushed
    expect(git(fleet.remote, 'ls-tree', '-r', '--name-only', 'main', 'messages/inbox/')).not.toContain(m.id);
    // the lock grows old (nothing holds it): the next run removes it and goes on
    utimesSync(lock, 0, 0); // 1970: long past the 10 minutes, whatever the time now
    const healed = await tick(fleet, 'myia-m1', T0 + 120_000, { tasks: ['local-log-prune'] });
    expect(healed.code, healed.stderr).toBe(0);
    expect(healed.doc!.notes.join(' ')).toContain('removed a stale .git/index.lock');
    expect(git(fleet.remote, 'ls-tree', '-r', '--name-only', 'main', 'messages/inbox/')).toContain(m.id);
  });
});
