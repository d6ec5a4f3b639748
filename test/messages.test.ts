import { defaultExpandContext } from '../src/config/paths.js';
import { mkdir, readFile, readdir, rename, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { readBundle } from '../src/roosync/purgeBundle.js';
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildMessageStore, makeMessage, writeMessage, type MessageStore } from '../src/demo/messages.js';
import { loadResolvedConfig } from '../src/config/load.js';
import { runTasks } from '../src/coordinator/runTasks.js';
import { silentLogger } from '../src/log.js';
import { noProgress } from '../src/tasks/types.js';
import type { TaskName } from '../src/config/taskCatalogue.js';
import { dateFromId, newMessageId, parseMessage, serializeMessage } from '../src/roosync/message.js';
import { archiveMessage, fileSignature } from '../src/roosync/archive.js';
import { messageDirs } from '../src/roosync/layout.js';
import { DAY, NOW, cli, exists, fleetAliveAt, snapshotTree, tempDir } from './helpers.js';

describe('the RooSync message model', () => {
  it('generates RooSync ids and dates them without opening the file', () => {
    const id = newMessageId(Date.UTC(2026, 7, 22, 2, 1, 33));
    expect(id).toMatch(/^msg-\d{8}T\d{6}-[a-z0-9]{6}$/);
    expect(id.startsWith('msg-20260822T020133-')).toBe(true);
    expect(dateFromId(id)).toBe(Date.UTC(2026, 7, 22, 2, 1, 33));
    expect(dateFromId('msg-20260226T080000-po2026-status')).toBe(Date.UTC(2026, 1, 26, 8));
    expect(dateFromId('msg-po2026-status')).toBeUndefined();
  });

  it('serialises as RooSync does: 2-space JSON, no BOM, no trailing newline, unknown fields kept', () => {
    const m = makeMessage(NOW, 1, { custom: { x: 1 } });
    const text = serializeMessage(m);
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
    expect(text.endsWith('}')).toBe(true);
    expect(text).toContain('\n  "id": ');
    const back = parseMessage(text, `${m.id}.json`, NOW);
    expect(back.ok && back.message.custom).toEqual({ x: 1 });
  });
});

let shared: string;
let store: MessageStore;
beforeEach(async () => {
  shared = path.join(await tempDir('msgs'), 'shared');
  store = await buildMessageStore(shared, NOW);
  fleetAliveAt(shared, NOW);
});

async function run(
  task: TaskName,
  opts: { dryRun?: boolean; env?: NodeJS.ProcessEnv; stateDir?: string; now?: number } = {},
) {
  const config = await loadResolvedConfig(path.join(shared, 'none.json'), shared, defaultExpandContext({}));
  const [r] = await runTasks(
    [task],
    {
      sharedState: shared,
      env: opts.env ?? {},
      machineId: 'myia-ai-01',
      config,
      now: opts.now ?? NOW,
      stateDir: opts.stateDir ?? path.join(shared, '..', 'state'),
      dryRun: opts.dryRun ?? false,
      log: silentLogger,
      progress: noProgress,
    },
    { isLeader: true, notLeaderReason: '' },
  );
  return r!;
}
const ids = async (folder: string) =>
  (await readdir(path.join(shared, 'messages', folder)).catch(() => []))
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -5));

describe('messages-archive', () => {
  it('archives due messages RooSync’s way and leaves the rest', async () => {
    const inboxBefore = new Map(
      await Promise.all(
        (await ids('inbox')).map(
          async (id) => [id, await readFile(path.join(shared, 'messages', 'inbox', `${id}.json`), 'utf8')] as const,
        ),
      ),
    );
    const r = await run('messages-archive');
    expect(r.status).toBe('ok');
    const inbox = await ids('inbox');
    const archive = await ids('archive');
    for (const id of store.expect.archive) {
      expect(inbox).not.toContain(id);
      expect(archive).toContain(id);
      const archived = JSON.parse(await readFile(path.join(shared, 'messages', 'archive', `${id}.json`), 'utf8'));
      // nothing but the status changes; key order and unknown fields survive
      expect(serializeMessage(archived)).toBe(
        serializeMessage({ ...JSON.parse(inboxBefore.get(id)!), status: 'archived' }),
      );
    }
    for (const id of [...store.expect.stayInInbox, ...store.expect.pending]) expect(inbox).toContain(id);
    // the sent copy of an archived message is overwritten with the archived object
    for (const id of await ids('sent')) {
      if (!store.expect.archive.includes(id)) continue;
      expect(JSON.parse(await readFile(path.join(shared, 'messages', 'sent', `${id}.json`), 'utf8')).status).toBe(
        'archived',
      );
    }
    const report = r.rules.find((x) => x.rule === 'messages-archive')!;
    expect(report.actions.find((a) => a.rel.includes(store.expect.pending[0]!))).toMatchObject({
      verdict: 'skip',
      reason: 'pending auto-destruct: left for RooSync',
    });
    for (const name of [...store.malformed, ...store.oddButListed]) expect(archive).not.toContain(name.slice(0, -5));
    // sizes are the real sizes
    for (const a of report.actions.filter((x) => x.verdict === 'archive')) expect(a.bytes).toBeGreaterThan(100);
  });

  it('follows RooSync’s rule: read messages after 30 days, unread ones only after 90', async () => {
    const dirs = messageDirs(shared);
    const unread45 = makeMessage(NOW, 45, { to: 'myia-ai-01', status: 'unread' });
    const read45 = makeMessage(NOW, 45, { to: 'myia-ai-01', status: 'read' });
    const odd45 = makeMessage(NOW, 45, { to: 'myia-ai-01', status: 'deleted' as never });
    const broadcastReadByOne = makeMessage(NOW, 45, { status: 'unread', read_by: ['myia-po-2023'] });
    const unread91 = makeMessage(NOW, 91, { status: 'unread' });
    for (const m of [unread45, read45, odd45, broadcastReadByOne, unread91]) await writeMessage(dirs.inbox, m);
    const r = await run('messages-archive');
    const archive = await ids('archive');
    expect(archive).toContain(read45.id);
    expect(archive).toContain(odd45.id); // RooSync: any status but "unread" counts as read
    expect(archive).toContain(unread91.id);
    expect(archive).not.toContain(unread45.id);
    expect(archive).not.toContain(broadcastReadByOne.id); // "unread" is the global status, as in RooSync
    const reason = r.rules[1]!.actions.find((a) => a.rel.includes(unread45.id))!.reason;
    expect(reason).toMatch(/^unread, newer than 90 days/);
  });

  it('opens only the files due by their id, plus those whose id cannot be dated', async () => {
    const r = await run('messages-archive', { dryRun: true });
    const report = r.rules.find((x) => x.rule === 'messages-archive')!;
    const opened = report.actions.length;
    const inbox = await ids('inbox');
    const dueOrUndatable = inbox.filter((id) => {
      const d = dateFromId(id);
      return d === undefined || d < NOW - 30 * DAY;
    });
    expect(opened).toBe(dueOrUndatable.length);
    expect(Object.values(report.untouched!).reduce((a, b) => a + b, 0)).toBe(inbox.length - opened);
  });

  it('is idempotent, and a dry run changes nothing', async () => {
    const before = await snapshotTree(shared);
    const dry = await run('messages-archive', { dryRun: true });
    expect(await snapshotTree(shared)).toEqual(before);
    const first = await run('messages-archive');
    expect(first.counts.acted).toBe(dry.counts.acted);
    expect(first.counts.acted).toBe(store.expect.archive.length);
    expect((await run('messages-archive')).counts.acted).toBe(0);
  });

  it('tolerates RooSync archiving the same message first, and keeps an update RooSync made meanwhile', async () => {
    const dirs = messageDirs(shared);
    const [a, b] = store.expect.archive;
    const read = async (id: string) => JSON.parse(await readFile(path.join(dirs.inbox, `${id}.json`), 'utf8'));
    const ma = await read(a!);
    const sigA = fileSignature(path.join(dirs.inbox, `${a}.json`));
    // RooSync archives `a` in between: copy, then delete
    await writeMessage(dirs.archive, { ...ma, status: 'archived' });
    await import('node:fs/promises').then((fs) => fs.unlink(path.join(dirs.inbox, `${a}.json`)));
    expect(await archiveMessage(dirs, ma, sigA, false, NOW)).toBe('already-gone');
    // RooSync marks `b` read in between
    const mb = await read(b!);
    const sigB = fileSignature(path.join(dirs.inbox, `${b}.json`));
    await writeFile(
      path.join(dirs.inbox, `${b}.json`),
      serializeMessage({ ...mb, status: 'read', read_by: ['myia-po-2026', 'myia-ai-01'] }),
    );
    expect(await archiveMessage(dirs, mb, sigB, false, NOW)).toBe('changed-and-rearchived');
    expect(JSON.parse(await readFile(path.join(dirs.archive, `${b}.json`), 'utf8')).read_by).toEqual([
      'myia-po-2026',
      'myia-ai-01',
    ]);
  });

  it('warns when this machine reads messages from PostgreSQL', async () => {
    const r = await run('messages-archive', { dryRun: true, env: { UNIFIED_STORE_CHANNEL_READ_PG: '1' } });
    expect(r.warnings[0]).toContain('PostgreSQL');
  });
});

describe('messages-purge', () => {
  const ctxWith = async (cfg: object) => {
    await writeFile(path.join(shared, 'cfg.json'), JSON.stringify(cfg));
    const config = await loadResolvedConfig(path.join(shared, 'cfg.json'), shared, defaultExpandContext({}));
    return {
      sharedState: shared,
      env: {},
      machineId: 'myia-ai-01',
      stateDir: path.join(shared, '..', 'state'),
      config,
      now: NOW,
      dryRun: false,
      log: silentLogger,
      progress: noProgress,
    };
  };
  const args = () => ['--shared-state', shared, '--machine', 'myia-ai-01'];

  it('removes read archive entries past 90 days; never one nobody read, never a pending auto-destruct one', async () => {
    const r = await run('messages-purge');
    const archive = await ids('archive');
    for (const id of store.expect.purge) expect(archive).not.toContain(id);
    for (const id of store.expect.stayInArchive) expect(archive).toContain(id);
    const purged = r.rules.flatMap((x) => x.actions.filter((a) => a.verdict === 'remove').map((a) => a.rel));
    expect(purged.sort()).toEqual(store.expect.purge.map((id) => `archive/${id}.json`).sort());
    const kept = r.rules.flatMap((x) => x.actions).filter((a) => a.reason.startsWith('nobody read it'));
    expect(kept.length).toBeGreaterThan(0);
    expect(r.rules[1]!.policy).toMatch(/messages\/purged\/2026-11-23T12-00-00-000Z-myia-ai-01-[0-9a-z]+\.jsonl\.gz/);
  });

  it('purges what nobody read only past an explicit messages.purgeUnreadAfterDays', async () => {
    await runTasks(['messages-purge'], await ctxWith({ messages: { purgeUnreadAfterDays: 150 } }), {
      isLeader: true,
      notLeaderReason: '',
    });
    const archive = await ids('archive');
    const gone = store.expect.stayInArchive.filter((id) => !archive.includes(id));
    expect(gone).toHaveLength(1); // the 200-day one nobody read; the 95-day one stays
  });

  it('never removes a message in the run that archived it', async () => {
    const old = makeMessage(NOW, 200, { to: 'myia-ai-01', status: 'read', read_by: ['myia-ai-01'] });
    await writeMessage(messageDirs(shared).inbox, old);
    const [archived, purged] = await runTasks(['messages-archive', 'messages-purge'], await ctxWith({}), {
      isLeader: true,
      notLeaderReason: '',
    });
    expect(archived!.counts.acted).toBeGreaterThan(0);
    expect(await ids('archive')).toContain(old.id);
    const action = purged!.rules.flatMap((x) => x.actions).find((a) => a.rel === `archive/${old.id}.json`)!;
    expect(action).toMatchObject({
      verdict: 'keep',
      reason: 'archived in this run: purged at the earliest by the next one',
    });
    await run('messages-purge');
    expect(await ids('archive')).not.toContain(old.id);
  });

  it('keeps a sent copy while its message is still in the inbox', async () => {
    const dirs = messageDirs(shared);
    const old = makeMessage(NOW, 200, { read_by: ['myia-ai-01'] });
    await writeMessage(dirs.inbox, old);
    await writeMessage(dirs.sent, old);
    await run('messages-purge');
    expect(await exists(path.join(dirs.sent, `${old.id}.json`))).toBe(true);
  });

  it('plain folder: every removal goes into a purge bundle, and restore brings it back byte for byte', async () => {
    const dirs = messageDirs(shared);
    const sentOld = makeMessage(NOW, 120, { status: 'archived', read_by: ['myia-po-2023'] });
    await writeMessage(dirs.sent, sentOld);
    const texts = new Map<string, string>();
    for (const id of store.expect.purge) texts.set(id, await readFile(path.join(dirs.archive, `${id}.json`), 'utf8'));
    const sentText = await readFile(path.join(dirs.sent, `${sentOld.id}.json`), 'utf8');
    await run('messages-purge');
    const bundles = await readdir(path.join(shared, 'messages', 'purged'));
    expect(bundles).toHaveLength(1);
    expect(bundles[0]).toMatch(/^2026-11-23T12-00-00-000Z-myia-ai-01-[0-9a-z]+\.jsonl\.gz$/);
    for (const [id, text] of texts) {
      const r = await cli(['restore', id, ...args()]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`restored messages/archive/${id}.json from purge bundle`);
      expect(await readFile(path.join(dirs.archive, `${id}.json`), 'utf8')).toBe(text);
    }
    expect((await cli(['restore', sentOld.id, ...args()])).code).toBe(0);
    expect(await readFile(path.join(dirs.sent, `${sentOld.id}.json`), 'utf8')).toBe(sentText);
    expect((await cli(['restore', sentOld.id, ...args()])).stdout).toContain('already there');
    // purging again: the first bundle is never rewritten, the second holds what this run removed
    const first = await readFile(path.join(shared, 'messages', 'purged', bundles[0]!));
    await run('messages-purge');
    const bundle = readBundle(path.join(shared, 'messages', 'purged', bundles[0]!));
    expect('entries' in bundle && bundle.entries.length).toBe(texts.size + 1);
    expect(await readFile(path.join(shared, 'messages', 'purged', bundles[0]!))).toEqual(first);
    expect((await cli(['restore', 'msg-20200101T000000-nope00', ...args()])).code).toBe(2);
  });

  it('a corrupt bundle: restore names it (exit 1), purge writes a new one beside it', async () => {
    const purgedDir = path.join(shared, 'messages', 'purged');
    await mkdir(purgedDir, { recursive: true });
    await writeFile(path.join(purgedDir, '2026-11.jsonl.gz'), 'not gzip at all');
    await run('messages-purge');
    expect(await readdir(purgedDir)).toHaveLength(2);
    expect(await readFile(path.join(purgedDir, '2026-11.jsonl.gz'), 'utf8')).toBe('not gzip at all');
    expect((await cli(['restore', store.expect.purge[0]!, ...args()])).code).toBe(0);
    const missing = await cli(['restore', 'msg-20200101T000000-nope00', ...args()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('messages/purged/2026-11.jsonl.gz');
    expect(missing.stderr).toContain('msg-20200101T000000-nope00');
  });
});

describe('removing an inbox copy while RooSync writes in place (issue 24)', () => {
  it('a write that lands in the removed file after the last check is put back in the inbox, not lost', async () => {
    const { RemovalTrash, fileSignature } = await import('../src/roosync/archive.js');
    const inbox = messageDirs(shared).inbox;
    const m = makeMessage(NOW, 40, { status: 'read' });
    const file = path.join(inbox, `${m.id}.json`);
    await writeFile(file, JSON.stringify(m, null, 2));
    const signature = fileSignature(file);
    // RooSync opened the file (truncating it) just after our last check, and writes once we have unlinked it
    const fd = openSync(file, 'r+');
    const trash = new RemovalTrash(path.join(shared, 'messages', '.roosync-maint-trash'), inbox);
    expect(trash.keep(file, m.id, signature)).toBe(true);
    expect(await exists(file)).toBe(false);
    const edited = JSON.stringify({ ...m, read_by: ['myia-po-2026'] }, null, 2);
    ftruncateSync(fd, 0);
    writeSync(fd, edited, 0);
    closeSync(fd);
    expect(trash.settle()).toEqual([m.id]);
    expect(await readFile(file, 'utf8')).toBe(edited); // back, with the edit
    // one nobody wrote into is simply gone
    const n = makeMessage(NOW, 40, { status: 'read' });
    const other = path.join(inbox, `${n.id}.json`);
    await writeFile(other, JSON.stringify(n, null, 2));
    expect(trash.keep(other, n.id, fileSignature(other))).toBe(true);
    expect(trash.settle()).toEqual([]);
    expect(await exists(other)).toBe(false);
    expect(await readdir(path.join(shared, 'messages', '.roosync-maint-trash'))).toEqual([]);
  });
});

describe('temp files (issue 24): only ours, only once old', () => {
  it('removes our marked temp left by a killed run; never another program’s, nor a write in flight', async () => {
    const inbox = messageDirs(shared).inbox;
    const name = (n: string) => path.join(inbox, n);
    const ours = 'msg-20261101T000000-aaaaaa.json.1a2-0.roosync-maint.tmp';
    const oursInFlight = 'msg-20261101T000000-bbbbbb.json.1a3-0.roosync-maint.tmp';
    const foreign = ['msg-20261101T000000-cccccc.json.tmp', '.syncthing.msg-20261101T000000-dddddd.json.tmp'];
    for (const n of [ours, oursInFlight, ...foreign]) await writeFile(name(n), '{"half":');
    const hourAgo = NOW / 1000 - 3600;
    for (const n of [ours, ...foreign]) await utimes(name(n), hourAgo, hourAgo);
    await run('messages-archive');
    expect(await exists(name(ours))).toBe(false);
    for (const n of [oursInFlight, ...foreign]) expect(await exists(name(n)), n).toBe(true);
  });
});

describe('inbox-hygiene', () => {
  const quarantined = async (name: string) =>
    JSON.parse(await readFile(path.join(shared, 'messages', 'quarantine', `${name}.why.json`), 'utf8'));

  it('moves exactly what breaks or is skipped by RooSync, with a note of why; what RooSync lists stays', async () => {
    const r = await run('inbox-hygiene');
    expect(r.counts.acted).toBe(store.malformed.length);
    const quarantine = await readdir(path.join(shared, 'messages', 'quarantine'));
    for (const name of store.malformed) {
      expect(quarantine).toContain(name);
      const note = await quarantined(name);
      expect(note).toMatchObject({ file: `messages/inbox/${name}`, by: 'myia-ai-01:maintenance' });
      expect(note.reason.length).toBeGreaterThan(5);
    }
    const inboxAfter = await readdir(path.join(shared, 'messages', 'inbox'));
    for (const name of store.oddButListed) expect(inboxAfter).toContain(name);
    for (const name of inboxAfter)
      expect(parseMessage(await readFile(path.join(shared, 'messages', 'inbox', name), 'utf8'), name, NOW).ok).toBe(
        true,
      );
    expect(r.warnings).toContain('2 messages with a non-standard priority; RooSync shows them, so they stay');
    const arrayNote = await quarantined(store.malformed.find((n) => n.endsWith('array0.json'))!);
    expect(arrayNote.reason).toBe('an array, not a message object: RooSync skips it');
  });

  it('never overwrites an earlier quarantined file of the same name', async () => {
    await run('inbox-hygiene');
    const name = store.malformed.find((n) => n.endsWith('null00.json'))!;
    await writeFile(path.join(shared, 'messages', 'inbox', name), 'null');
    await utimes(path.join(shared, 'messages', 'inbox', name), NOW / 1000 - 3600, NOW / 1000 - 3600);
    await run('inbox-hygiene');
    const q = await readdir(path.join(shared, 'messages', 'quarantine'));
    expect(q).toContain(`${name}.2`);
  });

  it('a broken file written in the last minute is left (RooSync may be writing it); one rewritten after the plan stays', async () => {
    const inbox = path.join(shared, 'messages', 'inbox');
    const young = 'msg-20261101T000000-young0.json';
    await writeFile(path.join(inbox, young), '{"id": "msg-20261101T000000-young0", "bo');
    const r = await run('inbox-hygiene');
    const action = r.rules[0]!.actions.find((a) => a.rel === `inbox/${young}`);
    expect(action).toMatchObject({ verdict: 'skip' });
    expect(action!.reason).toContain('written less than a minute ago');
    expect(await exists(path.join(inbox, young))).toBe(true);
  });

  it('a Google Drive conflict copy `<id> (1).json`: its newer acknowledgement reaches the original, then it is quarantined', async () => {
    const inbox = messageDirs(shared).inbox;
    const m = makeMessage(NOW, 2, { status: 'read', read_by: ['myia-ai-01'], acknowledged_at: { 'myia-ai-01': 'x' } });
    const copy = {
      ...m,
      read_by: ['myia-ai-01', 'myia-po-2026'],
      acknowledged_at: { 'myia-ai-01': 'x', 'myia-po-2026': 'y' },
    };
    await writeFile(path.join(inbox, `${m.id}.json`), JSON.stringify(m, null, 2));
    await writeFile(path.join(inbox, `${m.id} (1).json`), JSON.stringify(copy, null, 2));
    const hourAgo = NOW / 1000 - 3600;
    await utimes(path.join(inbox, `${m.id} (1).json`), hourAgo, hourAgo);
    const r = await run('inbox-hygiene');
    const action = r.rules[0]!.actions.find((a) => a.rel === `inbox/${m.id} (1).json`)!;
    expect(action.reason).toContain(`a Google Drive conflict copy of ${m.id}`);
    const merged = JSON.parse(await readFile(path.join(inbox, `${m.id}.json`), 'utf8'));
    expect(merged.read_by.sort()).toEqual(['myia-ai-01', 'myia-po-2026']);
    expect(merged.acknowledged_at).toEqual({ 'myia-ai-01': 'x', 'myia-po-2026': 'y' });
    expect(await exists(path.join(inbox, `${m.id} (1).json`))).toBe(false);
    expect(await exists(path.join(shared, 'messages', 'quarantine', `${m.id} (1).json`))).toBe(true);
    const note = await quarantined(`${m.id} (1).json`);
    expect(note.reason).toContain('merged into the original');
  });

  it('a link is moved without being read, a folder or a huge file is reported and left', async () => {
    const inbox = path.join(shared, 'messages', 'inbox');
    const outside = path.join(path.dirname(shared), 'secret.json');
    await writeFile(outside, 'null');
    await symlink(outside, path.join(inbox, 'msg-20261101T000000-link00.json'));
    await mkdir(path.join(inbox, 'msg-20261101T000000-dir000.json'));
    await writeFile(path.join(inbox, 'msg-20261101T000000-huge00.json'), '');
    await truncate(path.join(inbox, 'msg-20261101T000000-huge00.json'), 60 * 1024 * 1024);
    const r = await run('inbox-hygiene');
    const actions = r.rules[0]!.actions;
    expect(actions.find((a) => a.rel.endsWith('link00.json'))).toMatchObject({ verdict: 'quarantine' });
    expect(actions.find((a) => a.rel.endsWith('dir000.json'))).toMatchObject({ verdict: 'skip' });
    const huge = actions.find((a) => a.rel.endsWith('huge00.json'));
    expect(huge).toMatchObject({ verdict: 'skip', reason: 'too large to inspect (60 MB): reported, left in place' });
    expect(await readFile(outside, 'utf8')).toBe('null'); // the target is untouched, the link itself moved
    expect(await exists(path.join(shared, 'messages', 'quarantine', 'msg-20261101T000000-link00.json'))).toBe(true);
    expect(await exists(path.join(inbox, 'msg-20261101T000000-huge00.json'))).toBe(true);
  });
});

describe('symlinked message folders (invariant 1)', () => {
  it.each(['archive', 'sent', 'inbox', 'quarantine'] as const)(
    'messages/%s as a link outside: the tasks refuse, nothing out there changes',
    async (folder) => {
      const outside = path.join(path.dirname(shared), `outside-${folder}`);
      const real = path.join(shared, 'messages', folder);
      if (await exists(real)) await rename(real, outside);
      else await mkdir(outside);
      await writeMessage(outside, makeMessage(NOW, 300, { read_by: ['myia-ai-01'] }));
      await writeFile(path.join(outside, 'msg-20200101T000000-null00.json'), 'null');
      await symlink(outside, real);
      const before = await snapshotTree(outside);
      let refused = 0;
      for (const task of ['inbox-hygiene', 'messages-archive', 'messages-purge'] as const) {
        const r = await run(task);
        if (r.status === 'failed') {
          expect(r.errors[0]).toContain(`messages/${folder} is a symbolic link`);
          refused++;
        }
      }
      expect(refused).toBeGreaterThan(0);
      expect(await snapshotTree(outside)).toEqual(before);
    },
  );
});

describe('attachments-cleanup', () => {
  it('removes old orphans and old interrupted uploads; keeps live, recent and referenced ones', async () => {
    // this machine has known every folder for a year: its first-seen grace is over
    const stateDir = path.join(shared, '..', 'state');
    const names = await readdir(path.join(shared, 'attachments'));
    await mkdir(stateDir, { recursive: true });
    const seen = Object.fromEntries(names.map((n) => [n, NOW - 365 * 86_400_000]));
    await writeFile(path.join(stateDir, 'attachments-seen.json'), JSON.stringify(seen));
    await run('attachments-cleanup', { stateDir });
    const left = await readdir(path.join(shared, 'attachments'));
    const a = store.attachments;
    expect(left.sort()).toEqual([...a.live, ...a.orphanNew, ...a.interruptedNew].sort());
  });

  it('with local state: an orphan is dated by when this machine first saw it, not by its sender’s mtime', async () => {
    const stateDir = await tempDir('seen');
    const a = store.attachments;
    // first look: every folder is new here, so none is old enough, whatever its mtime says
    const first = await run('attachments-cleanup', { stateDir });
    expect(first.counts.acted).toBe(0);
    const left = (await readdir(path.join(shared, 'attachments'))).sort();
    expect(left).toEqual([...a.live, ...a.orphanOld, ...a.orphanNew, ...a.interruptedOld, ...a.interruptedNew].sort());
    // a month on (by this machine's clock and the fleet's), the same orphans and interrupted uploads are old
    fleetAliveAt(shared, NOW + 30 * DAY);
    await run('attachments-cleanup', { stateDir, now: NOW + 30 * DAY });
    const after = await readdir(path.join(shared, 'attachments'));
    for (const gone of [...a.orphanOld, ...a.orphanNew, ...a.interruptedOld, ...a.interruptedNew])
      expect(after).not.toContain(gone);
    for (const kept of a.live) expect(after).toContain(kept);
  });
});

describe('sending', () => {
  it('writes the inbox and sent copies RooSync can read, with a RooSync id and no temp file left', async () => {
    const { sendMessage } = await import('../src/roosync/send.js');
    const dirs = messageDirs(shared);
    const m = sendMessage(
      dirs,
      {
        from: 'myia-ai-01:maintenance',
        to: 'all',
        subject: '[ALERT][HIGH] test',
        body: '## Alert',
        priority: 'HIGH',
        tags: ['maintenance'],
      },
      NOW,
    );
    expect(Object.keys(m)).toEqual(['id', 'from', 'to', 'subject', 'body', 'priority', 'timestamp', 'status', 'tags']);
    expect(m.id).toMatch(/^msg-20261123T120000-[a-z0-9]{6}$/);
    for (const dir of [dirs.inbox, dirs.sent]) {
      const text = await readFile(path.join(dir, `${m.id}.json`), 'utf8');
      expect(text).toBe(JSON.stringify(m, null, 2));
      const parsed = parseMessage(text, `${m.id}.json`, NOW);
      expect(parsed.ok && parsed.message).toMatchObject({
        status: 'unread',
        timestamp: '2026-11-23T12:00:00.000Z',
        priority: 'HIGH',
      });
      expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    }
  });
});
