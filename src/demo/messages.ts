import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DAY_MS } from '../config/durations.js';
import { messageDirs } from '../roosync/layout.js';
import { newMessageId, serializeMessage, type RooSyncMessage } from '../roosync/message.js';

let counter = 0;
/** A deterministic stand-in for randomBytes, so fixtures are reproducible. */
const seq = () => Buffer.from(String(++counter).padStart(6, '0').split('').map((c) => c.charCodeAt(0)));

/** A valid RooSync message created `ageDays` before `now` (id and timestamp agree). */
export function makeMessage(now: number, ageDays: number, over: Partial<RooSyncMessage> = {}): RooSyncMessage {
  const created = now - ageDays * DAY_MS;
  return {
    id: newMessageId(created, seq),
    from: 'myia-po-2023:roo-extensions',
    to: 'all',
    subject: `Status after ${ageDays} days`,
    body: `## Report\n\nAll good (${ageDays} days ago).`,
    priority: 'MEDIUM',
    timestamp: new Date(created).toISOString(),
    status: 'unread',
    tags: ['status'],
    ...over,
  };
}

export async function writeMessage(dir: string, m: RooSyncMessage): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `${m.id}.json`), serializeMessage(m));
}

/** The malformed inbox files of roosync-format §3, by name and content. */
export function malformedInboxFiles(now: number): Record<string, string | Buffer> {
  const valid = makeMessage(now, 1);
  return {
    'msg-20260101T000000-empty0.json': '',
    [`${valid.id.replace(/.{6}$/, 'bom000')}.json`]: `\uFEFF${serializeMessage({ ...valid, id: valid.id.replace(/.{6}$/, 'bom000') })}`,
    'msg-20260101T000000-nojson.json': '{"id": "msg-20260101T000000-nojson", "body": ',
    'msg-20260101T000000-null00.json': 'null',
    'msg-20260101T000000-array0.json': '[1, 2]',
    'msg-20260101T000000-noid00.json': JSON.stringify({ ...valid, id: undefined }),
    'msg-20260101T000000-nobody.json': JSON.stringify({ ...valid, id: 'msg-20260101T000000-nobody', body: undefined }),
    'msg-20260101T000000-bodnum.json': JSON.stringify({ ...valid, id: 'msg-20260101T000000-bodnum', body: 42 }),
    'msg-20260101T000000-badpri.json': JSON.stringify({ ...valid, id: 'msg-20260101T000000-badpri', priority: 'high' }),
    'msg-20260101T000000-badsta.json': JSON.stringify({ ...valid, id: 'msg-20260101T000000-badsta', status: 'deleted' }),
    'phantom-copy.json': serializeMessage(valid),
  };
}

export interface MessageStore {
  /** Ids by what should become of them under the default policy (30-day archive, 90-day purge). */
  expect: { archive: string[]; stayInInbox: string[]; purge: string[]; stayInArchive: string[]; pending: string[] };
  malformed: string[];
  attachments: { live: string[]; orphanOld: string[]; orphanNew: string[]; interruptedOld: string[]; interruptedNew: string[] };
}

/** A fleet's message store as RooSync leaves it, with what the default policy should do to each part. */
export async function buildMessageStore(sharedState: string, now: number): Promise<MessageStore> {
  const dirs = messageDirs(sharedState);
  const store: MessageStore = { expect: { archive: [], stayInInbox: [], purge: [], stayInArchive: [], pending: [] }, malformed: [], attachments: { live: [], orphanOld: [], orphanNew: [], interruptedOld: [], interruptedNew: [] } };
  const inbox = async (m: RooSyncMessage, sentToo = false) => {
    await writeMessage(dirs.inbox, m);
    if (sentToo) await writeMessage(dirs.sent, m);
    return m;
  };
  // broadcast and targeted, read and unread, at every age
  for (const age of [2, 10, 29, 31, 45, 120]) {
    const list = age > 30 ? store.expect.archive : store.expect.stayInInbox;
    list.push((await inbox(makeMessage(now, age, { status: 'unread' }))).id);
    list.push((await inbox(makeMessage(now, age, { to: 'myia-ai-01', status: 'read', read_by: ['myia-ai-01'], acknowledged_at: { 'myia-ai-01': new Date(now).toISOString() } }), true)).id);
    list.push((await inbox(makeMessage(now, age, { to: 'myia-po-2026:D:\\roo-extensions', priority: 'HIGH', custom_field: { kept: true } }))).id);
  }
  // a thread: the question is old, the reply recent
  const question = await inbox(makeMessage(now, 40, { subject: 'Question', thread_id: 'thread-1' }), true);
  const reply = await inbox(makeMessage(now, 3, { subject: 'Re: Question', thread_id: 'thread-1', reply_to: question.id }));
  store.expect.archive.push(question.id);
  store.expect.stayInInbox.push(reply.id);
  // an id that cannot be dated: its timestamp decides
  const handMade = await inbox({ ...makeMessage(now, 50), id: 'msg-po2026-status' });
  store.expect.archive.push(handMade.id);
  // auto-destruct: pending (old) stays for RooSync; destroyed tombstone is archived like any other
  store.expect.pending.push((await inbox(makeMessage(now, 60, { auto_destruct: true, destruct_after: '1d' }))).id);
  store.expect.archive.push((await inbox(makeMessage(now, 60, { auto_destruct: true, destroyed_at: new Date(now - 59 * DAY_MS).toISOString(), destroyed_reason: 'ttl_expired', body: '[DESTROYED]' }))).id);
  // archive/ and sent/ history
  for (const age of [40, 80, 95, 200]) {
    const m = makeMessage(now, age, { status: 'archived' });
    await writeMessage(dirs.archive, m);
    (age > 90 ? store.expect.purge : store.expect.stayInArchive).push(m.id);
  }
  const pendingArchived = makeMessage(now, 300, { status: 'archived', auto_destruct: true });
  await writeMessage(dirs.archive, pendingArchived);
  store.expect.stayInArchive.push(pendingArchived.id);
  // attachments
  const withAttachment = await inbox(makeMessage(now, 5, { attachments: [{ uuid: '11111111-1111-4111-8111-111111111111', filename: 'report.md', sizeBytes: 5 }] }));
  store.expect.stayInInbox.push(withAttachment.id);
  const attachment = async (uuid: string, ageDays: number, meta: Record<string, unknown> | undefined) => {
    const dir = path.join(sharedState, 'attachments', uuid);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'report.md'), 'hello');
    if (meta) await writeFile(path.join(dir, 'metadata.json'), JSON.stringify(meta));
    const t = (now - ageDays * DAY_MS) / 1000;
    const { utimes } = await import('node:fs/promises');
    await utimes(path.join(dir, 'report.md'), t, t);
    if (meta) await utimes(path.join(dir, 'metadata.json'), t, t);
    return uuid;
  };
  store.attachments.live.push(await attachment('11111111-1111-4111-8111-111111111111', 30, { uuid: '11111111-1111-4111-8111-111111111111', filename: 'report.md' }));
  store.attachments.live.push(await attachment('22222222-2222-4222-8222-222222222222', 30, { messageId: question.id, filename: 'report.md' }));
  store.attachments.orphanOld.push(await attachment('33333333-3333-4333-8333-333333333333', 30, { messageId: 'msg-20250101T000000-gone00' }));
  store.attachments.orphanNew.push(await attachment('44444444-4444-4444-8444-444444444444', 2, { messageId: 'msg-20250101T000000-gone01' }));
  store.attachments.interruptedOld.push(await attachment('55555555-5555-4555-8555-555555555555', 3, undefined));
  store.attachments.interruptedNew.push(await attachment('66666666-6666-4666-8666-666666666666', 0.1, undefined));
  // malformed inbox files
  for (const [name, content] of Object.entries(malformedInboxFiles(now))) {
    await writeFile(path.join(dirs.inbox, name), content);
    store.malformed.push(name);
  }
  return store;
}
