import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import { AVAILABLE_TASKS } from '../src/tasks/registry.js';
import { quietDeadlines, type QuietInputs } from '../src/coordinator/quietRecord.js';
import { earliest, tipsFromFiles } from '../src/coordinator/quiet.js';
import { statusWorthCommitting, type MachineStatus } from '../src/report/status.js';
import { createFleet, git } from '../src/demo/fleet.js';
import { cli, NOW, tempDir } from './helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

const status = (over: Partial<MachineStatus> = {}): MachineStatus => ({
  machine: 'myia-m1',
  version: '1.0.0',
  lastTickAt: new Date(NOW).toISOString(),
  heartbeatMinutes: 240,
  lastSuccessAt: new Date(NOW).toISOString(),
  offline: false,
  leader: { isLeader: false, term: 1, reason: 'held by myia-m2 (term 1)' },
  tasks: [{ task: 'inbox-hygiene', status: 'skipped', acted: 0 }],
  failed: [],
  health: null,
  ...over,
});

describe('a status is committed when it says something new, or when its heartbeat is due', () => {
  const beat = 240 * MIN;
  const later = (min: number, over: Partial<MachineStatus> = {}) =>
    status({ lastTickAt: new Date(NOW + min * MIN).toISOString(), ...over });
  it('the same status within the heartbeat: no commit', () => {
    expect(statusWorthCommitting(status(), later(15), NOW + 15 * MIN, beat)).toBe(false);
    expect(statusWorthCommitting(status(), later(239), NOW + 239 * MIN, beat)).toBe(false);
  });
  it('the heartbeat due, the first status, or one from the future: a commit', () => {
    expect(statusWorthCommitting(status(), later(240), NOW + 240 * MIN, beat)).toBe(true);
    expect(statusWorthCommitting(undefined, later(1), NOW + MIN, beat)).toBe(true);
    expect(statusWorthCommitting(later(60), later(15), NOW + 15 * MIN, beat)).toBe(true);
  });
  it('a change of role, term, health, failures or version; a task that acted or failed: a commit', () => {
    const changes: Partial<MachineStatus>[] = [
      { leader: { isLeader: true, term: 1, reason: 'x' } },
      { leader: { isLeader: false, term: 2, reason: 'x' } },
      { health: { failing: ['mcp github down'] } },
      { failed: ['health'] },
      { version: '1.0.1' },
      { offline: true },
      { tasks: [{ task: 'log-rotation', status: 'ok', acted: 3 }] },
      { tasks: [{ task: 'health', status: 'failed', acted: 0 }] },
    ];
    for (const c of changes) expect(statusWorthCommitting(status(), later(15, c), NOW + 15 * MIN, beat)).toBe(true);
    // the leader's reason is words, not a change
    const reworded = later(15, { leader: { isLeader: false, term: 1, reason: 'seen unchanged for 15 min' } });
    expect(statusWorthCommitting(status(), reworded, NOW + 15 * MIN, beat)).toBe(false);
  });
});

describe('until when a tick may be quiet (pure)', () => {
  const config = configSchema.parse({});
  const lease = (holder: string, renewedMinAgo: number) => ({
    kind: 'ok' as const,
    record: {
      holder,
      term: 1,
      acquiredAt: new Date(NOW - 10 * HOUR).toISOString(),
      renewedAt: new Date(NOW - renewedMinAgo * MIN).toISOString(),
      leaseSeconds: 7200,
      transitions: 1,
      released: false,
      renewals: 3,
    },
  });
  const ranAt = (at: number) =>
    Object.fromEntries(
      AVAILABLE_TASKS.map((t) => [t, { lastRunAt: at, ok: true }]),
    ) as QuietInputs['schedule']['tasks'];
  const inputs = (over: Partial<QuietInputs> = {}): QuietInputs => ({
    machineId: 'myia-m1',
    now: NOW,
    config,
    isLeader: false,
    tasks: AVAILABLE_TASKS,
    schedule: { tasks: ranAt(NOW - HOUR) },
    status: status({ lastTickAt: new Date(NOW - HOUR).toISOString() }),
    lease: lease('myia-m2', 30),
    observation: { key: `myia-m2|1|${new Date(NOW - 30 * MIN).toISOString()}|3`, since: NOW - 30 * MIN, maxTerm: 1 },
    fleet: undefined,
    digestLastSentAt: NOW - HOUR,
    ...over,
  });
  it('a follower: the heartbeat, the daily tasks, the digest, the moment the lease could be taken over', () => {
    const next = earliest(quietDeadlines(inputs()));
    // heartbeat: 4 h after the status of an hour ago; takeover: a full lease after it was first seen (90 min from now)
    expect(next).toEqual({ at: NOW + 90 * MIN, why: 'the lease may be taken over' });
  });
  it('the holder: renewal once half the lease is gone', () => {
    const next = earliest(quietDeadlines(inputs({ isLeader: true, lease: lease('myia-m1', 30) })));
    expect(next).toEqual({ at: NOW + 30 * MIN, why: 'lease renewal due' });
  });
  it('never quiet: a free lease, a task that never ran, a local task of every tick, no digest yet', () => {
    const now = (over: Partial<QuietInputs>) => earliest(quietDeadlines(inputs(over)))!.at;
    expect(now({ lease: { kind: 'missing' } })).toBe(NOW);
    expect(now({ schedule: { tasks: {} } })).toBe(NOW);
    expect(now({ config: configSchema.parse({ schedule: { tasks: { 'local-log-prune': '0m' } } }) })).toBe(NOW);
    expect(now({ digestLastSentAt: null })).toBe(NOW);
    expect(now({ rolloutActive: true })).toBe(NOW); // a soak may end at any tick
  });
});

describe('the quiet tick (real clones, in-process CLI)', () => {
  it('answers a scheduled run with nothing due and nothing changed; anything new runs the full tick', async () => {
    const fleet = await createFleet(await tempDir('quiet'), 2);
    const [a, b] = fleet.machines as [string, string];
    const run = (now: number, ...extra: string[]) =>
      cli(['run', '--json', '--shared-state', fleet.dir(a), '--machine', a, ...extra], {
        now,
        env: fleet.localEnv(a),
      }).then((r) => ({ ...r, doc: JSON.parse(r.stdout) }));
    const first = await run(NOW);
    expect(first.code, first.stdout).toBe(0);
    const record = path.join(fleet.dir(a), '.git', 'roosync-maint', 'quiet.json');
    expect(existsSync(record)).toBe(true);
    const quiet = await run(NOW + 15 * MIN);
    expect(quiet.doc).toMatchObject({ quiet: true, ok: true, committed: false, pushed: false, tasks: [] });
    expect(quiet.doc.leader).toMatchObject({ isLeader: true, term: 1 });
    // the run log: one summary line per tick, full or quiet, with ISO times
    const log = readFileSync(path.join(fleet.dir(a), '.git', 'roosync-maint', 'roosync-maint.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const ticks = log.filter((l) => l.tick);
    expect(ticks.map((l) => l.msg)).toEqual([
      expect.stringMatching(
        new RegExp(`^tick ${a}: leader \\(term 1\\), \\d+ tasks ran, 0 failed, acted on \\d+, committed, pushed$`),
      ),
      expect.stringMatching(new RegExp(`^tick ${a}: quiet, nothing due until `)),
    ]);
    expect(ticks.map((l) => l.tick.at)).toEqual([new Date(NOW).toISOString(), new Date(NOW + 15 * MIN).toISOString()]);
    for (const l of log) expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // another machine pushed: full tick
    const other = await cli(['run', '--json', '--shared-state', fleet.dir(b), '--machine', b], {
      now: NOW + 16 * MIN,
      env: fleet.localEnv(b),
    });
    expect(other.code).toBe(0);
    expect((await run(NOW + 17 * MIN)).doc.quiet).toBeUndefined();
    expect((await run(NOW + 18 * MIN)).doc.quiet).toBe(true);
    // a change in the work tree: full tick (while it lasts)
    const note = path.join(fleet.dir(a), 'note.txt');
    writeFileSync(note, 'x');
    expect((await run(NOW + 19 * MIN)).doc.quiet).toBeUndefined();
    expect((await run(NOW + 20 * MIN)).doc.quiet).toBeUndefined();
    rmSync(note);
    expect((await run(NOW + 21 * MIN)).doc.quiet).toBe(true);
    // a named task, a dry run: never quiet; a run of named tasks leaves no record, so the next tick is full
    expect((await run(NOW + 22 * MIN, '--dry-run')).doc.quiet).toBeUndefined();
    expect((await run(NOW + 23 * MIN)).doc.quiet).toBe(true);
    expect((await run(NOW + 24 * MIN, '--task', 'log-rotation')).doc.quiet).toBeUndefined();
    expect((await run(NOW + 25 * MIN)).doc.quiet).toBeUndefined();
    expect((await run(NOW + 26 * MIN)).doc.quiet).toBe(true);
    // past the record's deadline (here the lease renewal, at half of the fleet's 60 min lease): full
    expect((await run(NOW + 2 * HOUR)).doc.quiet).toBeUndefined();
    // a config outside the shared state (--config) edited: full tick
    const config = path.join(fleet.base, 'outside.json');
    const text = git(fleet.dir(a), 'show', 'HEAD:.maintenance-config.json');
    writeFileSync(config, text.replace('{', '{ "logs": { "retentionDays": 8 },'));
    expect((await run(NOW + 2 * HOUR + MIN, '--config', config)).doc.quiet).toBeUndefined();
    expect((await run(NOW + 2 * HOUR + 2 * MIN, '--config', config)).doc.quiet).toBe(true);
    writeFileSync(config, text.replace('{', '{ "logs": { "retentionDays": 9 },'));
    expect((await run(NOW + 2 * HOUR + 3 * MIN, '--config', config)).doc.quiet).toBeUndefined();
  });
});

describe("HEAD and the upstream from the clone's files (one git process fewer per quiet tick)", () => {
  it('agree with git rev-parse, loose and packed; anything unusual is left to git', async () => {
    const fleet = await createFleet(await tempDir('tips'), 1);
    const dir = fleet.dir(fleet.machines[0]!);
    const byGit = () => {
      const [gitDir, head, upstream] = git(dir, 'rev-parse', '--absolute-git-dir', 'HEAD', '@{u}').trim().split('\n');
      return { head, upstream, gitDir };
    };
    const env = {};
    const loose = tipsFromFiles(dir, env)!;
    expect({ head: loose.head, upstream: loose.upstream }).toEqual({ head: byGit().head, upstream: byGit().upstream });
    git(dir, 'pack-refs', '--all', '--prune');
    const packed = tipsFromFiles(dir, env)!;
    expect({ head: packed.head, upstream: packed.upstream }).toEqual({
      head: byGit().head,
      upstream: byGit().upstream,
    });
    expect(path.resolve(packed.gitDir)).toBe(path.resolve(byGit().gitDir!));
    // a detached HEAD, GIT_DIR set: git is asked
    expect(tipsFromFiles(dir, { GIT_DIR: path.join(dir, '.git') })).toBeUndefined();
    git(dir, 'checkout', '-q', '--detach');
    expect(tipsFromFiles(dir, env)).toBeUndefined();
  });
});
