import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildMessageStore, makeMessage, malformedInboxFiles, writeMessage, type MessageStore } from '../src/demo/messages.js';
import { loadResolvedConfig } from '../src/config/load.js';
import { runTasks } from '../src/coordinator/runTasks.js';
import { silentLogger } from '../src/log.js';
import { noProgress } from '../src/tasks/types.js';
import type { TaskName } from '../src/tasks/names.js';
import { dateFromId, newMessageId, parseMessage, serializeMessage } from '../src/roosync/message.js';
import { archiveMessage, fileSignature } from '../src/roosync/archive.js';
import { messageDirs } from '../src/roosync/layout.js';
import { DAY, NOW, exists, snapshotTree, tempDir } from './helpers.js';

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
    const back = parseMessage(text, `${m.id}.json`);
    expect(back.ok && back.message.custom).toEqual({ x: 1 });
  });

  it('names each malformed kind precisely', () => {
    const defects = Object.entries(malformedInboxFiles(NOW)).map(([name, content]) => {
      const p = parseMessage(String(content), name);
      return p.ok ? 'ok' : p.defect;
    });
    expect(defects).toEqual(['empty', 'bom', 'not-json', 'not-object', 'not-object', 'missing-id', 'missing-body', 'missing-body', 'bad-priority', 'bad-status', 'name-mismatch']);
  });
});

let shared: string;
let store: MessageStore;
beforeEach(async () => {
  shared = path.join(await tempDir('msgs'), 'shared');
  store = await buildMessageStore(shared, NOW);
});

async function run(task: TaskName, opts: { dryRun?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const config = await loadResolvedConfig(path.join(shared, 'none.json'), shared);
  const [r] = await runTasks([task], { sharedState: shared, env: opts.env ?? {}, machineId: 'myia-ai-01', config, now: NOW, dryRun: opts.dryRun ?? false, log: silentLogger, progress: noProgress }, { isLeader: true, notLeaderReason: '' });
  return r!;
}
const ids = async (folder: string) => (await readdir(path.join(shared, 'messages', folder)).catch(() => [])).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5));

describe('messages-archive', () => {
  it('archives due messages RooSync’s way and leaves the rest', async () => {
    const inboxBefore = new Map(await Promise.all((await ids('inbox')).map(async (id) => [id, await readFile(path.join(shared, 'messages', 'inbox', `${id}.json`), 'utf8')] as const)));
    const r = await run('messages-archive');
    expect(r.status).toBe('ok');
    const inbox = await ids('inbox');
    const archive = await ids('archive');
    for (const id of store.expect.archive) {
      expect(inbox).not.toContain(id);
      expect(archive).toContain(id);
      const archived = JSON.parse(await readFile(path.join(shared, 'messages', 'archive', `${id}.json`), 'utf8'));
      // nothing but the status changes; key order and unknown fields survive
      expect(serializeMessage(archived)).toBe(serializeMessage({ ...JSON.parse(inboxBefore.get(id)!), status: 'archived' }));
    }
    for (const id of [...store.expect.stayInInbox, ...store.expect.pending]) expect(inbox).toContain(id);
    // the sent copy of an archived message is overwritten with the archived object
    for (const id of await ids('sent')) {
      if (!store.expect.archive.includes(id)) continue;
      expect(JSON.parse(await readFile(path.join(shared, 'messages', 'sent', `${id}.json`), 'utf8')).status).toBe('archived');
    }
    const report = r.rules.find((x) => x.rule === 'messages-archive')!;
    expect(report.actions.find((a) => a.rel.includes(store.expect.pending[0]!))).toMatchObject({ verdict: 'skip', reason: 'pending auto-destruct: left for RooSync' });
    expect(report.actions.filter((a) => a.reason.startsWith('malformed'))).toHaveLength(store.malformed.length - 1); // the BOM one is recent by its id
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
    expect(await archiveMessage(dirs, ma, sigA, false)).toBe('already-gone');
    // RooSync marks `b` read in between
    const mb = await read(b!);
    const sigB = fileSignature(path.join(dirs.inbox, `${b}.json`));
    await writeFile(path.join(dirs.inbox, `${b}.json`), serializeMessage({ ...mb, status: 'read', read_by: ['myia-po-2026', 'myia-ai-01'] }));
    expect(await archiveMessage(dirs, mb, sigB, false)).toBe('changed-and-rearchived');
    expect(JSON.parse(await readFile(path.join(dirs.archive, `${b}.json`), 'utf8')).read_by).toEqual(['myia-po-2026', 'myia-ai-01']);
  });

  it('warns when this machine reads messages from PostgreSQL', async () => {
    const r = await run('messages-archive', { dryRun: true, env: { UNIFIED_STORE_CHANNEL_READ_PG: '1' } });
    expect(r.warnings[0]).toContain('PostgreSQL');
  });
});

describe('messages-purge', () => {
  it('removes archive entries past 90 days, never a pending auto-destruct one, and lists the ids', async () => {
    const r = await run('messages-purge');
    const archive = await ids('archive');
    for (const id of store.expect.purge) expect(archive).not.toContain(id);
    for (const id of store.expect.stayInArchive) expect(archive).toContain(id);
    const purged = r.rules.flatMap((x) => x.actions.filter((a) => a.verdict === 'remove').map((a) => a.rel));
    expect(purged.sort()).toEqual(store.expect.purge.map((id) => `archive/${id}.json`).sort());
  });

  it('keeps a sent copy while its message is still in the inbox', async () => {
    const dirs = messageDirs(shared);
    const old = makeMessage(NOW, 200);
    await writeMessage(dirs.inbox, old);
    await writeMessage(dirs.sent, old);
    await run('messages-purge');
    expect(await exists(path.join(dirs.sent, `${old.id}.json`))).toBe(true);
  });
});

describe('inbox-hygiene', () => {
  it('moves every malformed kind to quarantine with a note of why, deleting nothing', async () => {
    const countBefore = (await readdir(path.join(shared, 'messages', 'inbox'))).length;
    const r = await run('inbox-hygiene');
    expect(r.counts.acted).toBe(store.malformed.length);
    const quarantine = await readdir(path.join(shared, 'messages', 'quarantine'));
    for (const name of store.malformed) {
      expect(quarantine).toContain(name);
      const note = JSON.parse(await readFile(path.join(shared, 'messages', 'quarantine', `${name}.why.json`), 'utf8'));
      expect(note).toMatchObject({ file: `messages/inbox/${name}`, by: 'myia-ai-01:maintenance' });
      expect(note.reason.length).toBeGreaterThan(5);
    }
    const inboxAfter = await readdir(path.join(shared, 'messages', 'inbox'));
    expect(inboxAfter.length + store.malformed.length).toBe(countBefore);
    for (const name of inboxAfter) expect(parseMessage(await readFile(path.join(shared, 'messages', 'inbox', name), 'utf8'), name).ok).toBe(true);
  });

  it('never overwrites an earlier quarantined file of the same name', async () => {
    await run('inbox-hygiene');
    await writeFile(path.join(shared, 'messages', 'inbox', 'msg-20260101T000000-null00.json'), 'null');
    await run('inbox-hygiene');
    const q = await readdir(path.join(shared, 'messages', 'quarantine'));
    expect(q).toContain('msg-20260101T000000-null00.json.2');
  });
});

describe('attachments-cleanup', () => {
  it('removes old orphans and old interrupted uploads; keeps live, recent and referenced ones', async () => {
    await run('attachments-cleanup');
    const left = await readdir(path.join(shared, 'attachments'));
    const a = store.attachments;
    expect(left.sort()).toEqual([...a.live, ...a.orphanNew, ...a.interruptedNew].sort());
  });
});

describe('sending', () => {
  it('writes the inbox and sent copies RooSync can read, with a RooSync id and no temp file left', async () => {
    const { sendMessage } = await import('../src/roosync/send.js');
    const dirs = messageDirs(shared);
    const m = sendMessage(dirs, { from: 'myia-ai-01:maintenance', to: 'all', subject: '[ALERT][HIGH] test', body: '## Alert', priority: 'HIGH', tags: ['maintenance'] }, NOW);
    expect(m.id).toMatch(/^msg-20261123T120000-[a-z0-9]{6}$/);
    for (const dir of [dirs.inbox, dirs.sent]) {
      const text = await readFile(path.join(dir, `${m.id}.json`), 'utf8');
      expect(text).toBe(JSON.stringify(m, null, 2));
      const parsed = parseMessage(text, `${m.id}.json`);
      expect(parsed.ok && parsed.message).toMatchObject({ status: 'unread', timestamp: '2026-11-23T12:00:00.000Z', priority: 'HIGH' });
      expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    }
  });
});
