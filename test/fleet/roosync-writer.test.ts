import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMessage } from '../../src/demo/messages.js';
import { ARCHIVE_TASKS, T0, git, makeFleet, tick, type Fleet } from '../fleet.js';
import { tempDir } from '../helpers.js';

/**
 * Issue 24's adversary: a RooSync-like writer creates messages and marks them read in the leader's inbox
 * (in place, two chunks, no temp file, every few ms) while the leader ticks in a loop, in git mode and
 * on a plain folder. Afterwards every message the writer created is in inbox/ or archive/ exactly once,
 * not in quarantine, and carries every reader the writer added (the last write of each survives).
 */
const WRITER = path.resolve(import.meta.dirname, '..', 'fixtures', 'roosyncWriter.mjs');
const OPS = Number(process.env.ROOSYNC_TEST_WRITER_OPS ?? 12_000);

function startWriter(inbox: string, log: string) {
  const child = spawn(process.execPath, [WRITER, inbox, log, String(OPS), String(T0)], { stdio: 'ignore' });
  const done = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, done, running: () => child.exitCode === null && child.signalCode === null };
}

interface Ledger {
  created: string[];
  readers: Map<string, string[]>;
}

function readLedger(log: string): Ledger {
  const ledger: Ledger = { created: [], readers: new Map() };
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [op, id, reader] = line.split(' ');
    if (op === 'create') ledger.created.push(id!);
    if (op === 'mark') ledger.readers.set(id!, [...(ledger.readers.get(id!) ?? []), reader!]);
  }
  return ledger;
}

/** Where each message is in a shared state's folders, and what its copy says. */
function copiesIn(dir: string): Map<string, { folders: string[]; readBy: string[] }> {
  const out = new Map<string, { folders: string[]; readBy: string[] }>();
  for (const folder of ['inbox', 'archive', 'quarantine']) {
    const d = path.join(dir, 'messages', folder);
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      const m = /^(msg-.*)\.json$/.exec(name);
      if (!m) continue;
      const id = m[1]!;
      const entry = out.get(id) ?? { folders: [], readBy: [] };
      entry.folders.push(folder);
      try {
        const msg = JSON.parse(readFileSync(path.join(d, name), 'utf8')) as { read_by?: string[] };
        entry.readBy.push(...(msg.read_by ?? []));
      } catch {
        entry.readBy.push('<unreadable>');
      }
      out.set(id, entry);
    }
  }
  return out;
}

async function writerAgainstTicks(fleet: Fleet, dir: string, args: string[]) {
  const log = path.join(fleet.base, 'writer.log');
  // another machine's fresh message: the fleet's clock is T0 (the writer backdates its messages so that
  // the leader archives them at once; without this, the leader would rightly judge its clock ahead)
  const fresh = makeMessage(T0, 0, { from: 'myia-m2:roo-extensions' });
  writeFileSync(path.join(dir, 'messages', 'inbox', `${fresh.id}.json`), JSON.stringify(fresh, null, 2));
  const writer = startWriter(path.join(dir, 'messages', 'inbox'), log);
  // each tick that did not exit 0, with what it said
  const codes: string[] = [];
  let ticks = 0;
  const once = async () => {
    const run = await tick(fleet, 'myia-m1', T0, { tasks: ARCHIVE_TASKS, args, sharedState: dir });
    if (run.code !== 0) codes.push(`exit ${run.code}: ${JSON.stringify(run.doc?.tasks ?? run.doc ?? run.stderr)}`);
    ticks++;
  };
  while (writer.running()) await once();
  expect(await writer.done).toBe(0);
  // the writer has stopped: two more ticks take what it wrote last
  await once();
  await once();
  return { ledger: readLedger(log), codes, ticks };
}

function expectNothingLost(dir: string, ledger: Ledger) {
  expect(ledger.created.length).toBeGreaterThan(100);
  const copies = copiesIn(dir);
  const lost = ledger.created.filter((id) => !copies.has(id));
  const quarantined = ledger.created.filter((id) => copies.get(id)?.folders.includes('quarantine'));
  const duplicated = ledger.created.filter((id) => (copies.get(id)?.folders.length ?? 0) > 1);
  const editsLost = [...ledger.readers].flatMap(([id, readers]) =>
    readers.filter((r) => !copies.get(id)?.readBy.includes(r)).map((r) => `${id} ${r}`),
  );
  expect({ lost, quarantined, duplicated, editsLost }).toEqual({
    lost: [],
    quarantined: [],
    duplicated: [],
    editsLost: [],
  });
  // the ticks really archived while the writer wrote
  expect(readdirSync(path.join(dir, 'messages', 'archive')).length).toBeGreaterThan(0);
}

describe('RooSync writes in place while the leader ticks (issue 24): nothing lost', () => {
  it('git mode: no message or edit lost, none quarantined, the clone clean and pushed', async () => {
    const fleet = await makeFleet(1);
    const dir = fleet.dir('myia-m1');
    const { ledger, codes, ticks } = await writerAgainstTicks(fleet, dir, []);
    expect(ticks).toBeGreaterThan(3);
    expect(codes).toEqual([]);
    expectNothingLost(dir, ledger);
    expect(git(dir, 'status', '--porcelain').trim()).toBe('');
    git(dir, 'fetch', '-q');
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(git(dir, 'rev-parse', 'origin/main'));
    // what the remote holds is what the clone holds: every message reached the fleet
    const onRemote = git(fleet.remote, 'ls-tree', '-r', '--name-only', 'main', 'messages/').split('\n');
    for (const id of ledger.created)
      expect(
        onRemote.filter((p) => p.endsWith(`/${id}.json`)),
        id,
      ).toHaveLength(1);
  });

  it('plain folder: no message or edit lost, none quarantined', async () => {
    const fleet = await makeFleet(1);
    const dir = path.join(await tempDir('plain-writer'), 'shared');
    mkdirSync(path.join(dir, 'messages', 'inbox'), { recursive: true });
    const { ledger, codes } = await writerAgainstTicks(fleet, dir, ['--no-sync', '--leader']);
    expect(codes).toEqual([]);
    expectNothingLost(dir, ledger);
  });
});
