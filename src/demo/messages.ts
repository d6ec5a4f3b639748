import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HOUR_MS, DAY_MS } from '../util/time.js';
import { messageDirs } from '../roosync/layout.js';
import { idPrefixAt, newMessageId, serializeMessage, type RooSyncMessage } from '../roosync/message.js';
import type { BreakDefect, Oddity, ReadPath, SkipDefect } from '../roosync/readPaths.js';

let counter = 0;
/** A deterministic stand-in for randomBytes, so fixtures are reproducible. */
const seq = () =>
  Buffer.from(
    String(++counter)
      .padStart(6, '0')
      .split('')
      .map((c) => c.charCodeAt(0)),
  );

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

/** What RooSync does with one inbox file (readPaths.ts), as the table's cases expect it. */
export type InboxCaseExpect =
  | { kind: 'listed'; oddities: Oddity[] }
  | { kind: 'skipped'; defect: SkipDefect }
  | { kind: 'breaking'; defect: BreakDefect; paths: ReadPath[] };

export interface InboxCase {
  /** One line of the table: what the file is. */
  what: string;
  name: string;
  content: string | Buffer;
  expect: InboxCaseExpect;
}

const ALL: ReadPath[] = ['listing', 'count', 'stats', 'auto-archive', 'auto-destruct'];
const RECIPIENT: ReadPath[] = ['listing', 'count', 'stats'];
const TO_STRING_TRAP = { toString: 1 };

/**
 * The test table of RooSync's read paths: one inbox file a line, each with what RooSync does with it
 * (lists it, skips it, or breaks on it, and where). Used by the tests, the demo, and the check of this
 * table against RooSync's own MessageManager.
 */
export function inboxCases(now: number): InboxCase[] {
  const cases: InboxCase[] = [];
  const prefix = idPrefixAt(now - DAY_MS);
  const add = (what: string, tag: string, over: Record<string, unknown>, expect: InboxCaseExpect) => {
    const id = `${prefix}${tag}`;
    const m: Record<string, unknown> = { ...makeMessage(now, 1), id, subject: what, ...over };
    for (const [k, v] of Object.entries(over)) if (v === undefined) delete m[k];
    cases.push({ what, name: `${id}.json`, content: JSON.stringify(m, null, 2), expect });
  };
  const raw = (what: string, tag: string, content: string | Buffer, expect: InboxCaseExpect) =>
    cases.push({ what, name: `${prefix}${tag}.json`, content, expect });
  const breaks = (defect: BreakDefect, paths = ALL): InboxCaseExpect => ({ kind: 'breaking', defect, paths });
  const skipped = (defect: SkipDefect): InboxCaseExpect => ({ kind: 'skipped', defect });
  const listed = (...oddities: Oddity[]): InboxCaseExpect => ({ kind: 'listed', oddities });
  const future = new Date(now + HOUR_MS).toISOString();

  raw('null', 'null00', 'null', breaks('null'));
  add('body missing', 'nobody', { body: undefined }, breaks('bad-body'));
  add('body a number', 'bodnum', { body: 42 }, breaks('bad-body'));
  add('body null', 'bodnul', { body: null }, breaks('bad-body'));
  add('to missing', 'tomiss', { to: undefined }, breaks('bad-to', RECIPIENT));
  add('to null', 'tonull', { to: null }, breaks('bad-to', RECIPIENT));
  add('to a number', 'tonum0', { to: 7 }, breaks('bad-to', RECIPIENT));
  add('to an object', 'toobj0', { to: { machine: 'myia-ai-01' } }, breaks('bad-to', RECIPIENT));
  add('to an array holding ":"', 'toarrc', { to: [':'] }, breaks('bad-to', RECIPIENT));
  add('from missing', 'frmiss', { from: undefined }, breaks('bad-from', ['stats']));
  add('from null', 'frnull', { from: null }, breaks('bad-from', ['stats']));
  add('from a number', 'frnum0', { from: 3 }, breaks('bad-from', ['stats']));
  add('broadcast, read_by a number', 'rbnum0', { read_by: 5 }, breaks('bad-read-by', RECIPIENT));
  add('broadcast, read_by an object', 'rbobj0', { read_by: { 'myia-ai-01': true } }, breaks('bad-read-by', RECIPIENT));
  add('timestamp that cannot become a date', 'tstrap', { timestamp: TO_STRING_TRAP }, breaks('bad-timestamp'));
  add('priority that cannot be a key', 'prtrap', { priority: TO_STRING_TRAP }, breaks('bad-priority', ['stats']));
  add('id that cannot be a name', 'idtrap', { id: TO_STRING_TRAP }, breaks('bad-id'));
  const ttl = { auto_destruct: true, destruct_after: '1d' };
  add(
    'auto-destruct, expires_at not a date',
    'exptrp',
    { ...ttl, expires_at: TO_STRING_TRAP },
    breaks('bad-expiry', ['auto-destruct']),
  );
  add(
    'auto-destruct, destruct_after a number',
    'dafnum',
    { ...ttl, expires_at: future, destruct_after: 5 },
    breaks('bad-expiry', ['auto-destruct']),
  );

  raw('0 bytes', 'empty0', '', skipped('empty'));
  const bom = makeMessage(now, 1, { id: `${prefix}bom000` });
  raw('UTF-8 BOM', 'bom000', `\uFEFF${serializeMessage(bom)}`, skipped('bom'));
  raw('truncated JSON', 'nojson', `{"id": "${prefix}nojson", "body": `, skipped('not-json'));
  const utf16 = makeMessage(now, 1, { id: `${prefix}utf16a` });
  raw(
    'UTF-16',
    'utf16a',
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(serializeMessage(utf16), 'utf16le')]),
    skipped('not-json'),
  );
  raw('an array', 'array0', '[1, 2]', skipped('not-object'));
  raw('a string', 'string', '"hello"', skipped('not-object'));
  raw('a number', 'number', '42', skipped('not-object'));
  add('id missing', 'noid00', { id: undefined }, skipped('name-mismatch'));
  const phantom = makeMessage(now, 1, { id: `${prefix}realid` });
  raw('name ≠ id (a phantom copy)', 'phanto', serializeMessage(phantom), skipped('name-mismatch'));

  add('priority lower-case', 'prilow', { priority: 'high' }, listed('priority'));
  add('priority missing', 'primis', { priority: undefined }, listed('priority'));
  add('status "deleted"', 'stadel', { status: 'deleted' }, listed('status'));
  add('status missing', 'stamis', { status: undefined }, listed('status'));
  add('tags a string', 'tagstr', { tags: 'ops' }, listed('tags'));
  add('tags a number', 'tagnum', { tags: 5 }, listed('tags'));
  add('timestamp not a date', 'tsword', { timestamp: 'yesterday' }, listed('timestamp'));
  add('to an array', 'toarr0', { to: ['myia-ai-01'] }, listed('addressed-to-nobody'));
  add('broadcast, read_by a string', 'rbstr0', { read_by: 'myia-po-2023' }, listed('mark-read-fails'));
  add('acknowledged_at a string', 'ackstr', { acknowledged_at: 'yes' }, listed('mark-read-fails'));
  add('targeted, read_by a number', 'rbtgt0', { to: 'myia-ai-01', read_by: 5 }, listed('mark-read-fails'));
  add('subject missing', 'nosubj', { subject: undefined }, listed());
  add('unknown fields', 'extras', { x_custom: { nested: [1, 2] } }, listed());
  cases.push({
    what: 'a number id in a file named after it',
    name: '5.json',
    content: JSON.stringify({ ...makeMessage(now, 1), id: 5 }),
    expect: listed('id-type'),
  });
  return cases;
}

export interface MessageStore {
  /** Ids by what should become of them under the default policy (read 30 / unread 90 days to archive, 90-day purge of read ones). */
  expect: { archive: string[]; stayInInbox: string[]; purge: string[]; stayInArchive: string[]; pending: string[] };
  /** Inbox files inbox-hygiene must move (they break RooSync, or RooSync skips them). */
  malformed: string[];
  /** Inbox files RooSync lists although they are odd: they must stay. */
  oddButListed: string[];
  attachments: {
    live: string[];
    orphanOld: string[];
    orphanNew: string[];
    interruptedOld: string[];
    interruptedNew: string[];
  };
}

const readBy = (machine: string, now: number) => ({
  read_by: [machine],
  acknowledged_at: { [machine]: new Date(now).toISOString() },
});

/** A fleet's message store as RooSync leaves it, with what the default policy should do to each part. */
export async function buildMessageStore(sharedState: string, now: number): Promise<MessageStore> {
  const dirs = messageDirs(sharedState);
  const store: MessageStore = {
    expect: { archive: [], stayInInbox: [], purge: [], stayInArchive: [], pending: [] },
    malformed: [],
    oddButListed: [],
    attachments: { live: [], orphanOld: [], orphanNew: [], interruptedOld: [], interruptedNew: [] },
  };
  const inbox = async (m: RooSyncMessage, sentToo = false) => {
    await writeMessage(dirs.inbox, m);
    if (sentToo) await writeMessage(dirs.sent, m);
    return m;
  };
  const expectInbox = (m: RooSyncMessage, archiveAfter: number, age: number) =>
    (age > archiveAfter ? store.expect.archive : store.expect.stayInInbox).push(m.id);
  // broadcast and targeted, read and unread, at every age: read ones go after 30 days, unread after 90
  for (const age of [2, 10, 29, 31, 45, 95, 120]) {
    expectInbox(await inbox(makeMessage(now, age, { status: 'unread' })), 90, age);
    expectInbox(
      await inbox(makeMessage(now, age, { to: 'myia-ai-01', status: 'read', ...readBy('myia-ai-01', now) }), true),
      30,
      age,
    );
    expectInbox(
      await inbox(
        makeMessage(now, age, {
          to: 'myia-po-2026:D:\\roo-extensions',
          priority: 'HIGH',
          custom_field: { kept: true },
        }),
      ),
      90,
      age,
    );
  }
  // a thread: the question is old and read, the reply recent
  const question = await inbox(
    makeMessage(now, 40, { subject: 'Question', thread_id: 'thread-1', to: 'myia-ai-01', status: 'read' }),
    true,
  );
  const reply = await inbox(
    makeMessage(now, 3, { subject: 'Re: Question', thread_id: 'thread-1', reply_to: question.id }),
  );
  store.expect.archive.push(question.id);
  store.expect.stayInInbox.push(reply.id);
  // an id that cannot be dated: its timestamp decides
  const handMade = await inbox({ ...makeMessage(now, 50, { status: 'read' }), id: 'msg-po2026-status' });
  store.expect.archive.push(handMade.id);
  // auto-destruct: pending (old) stays for RooSync; a destroyed tombstone is archived like any other unread one
  store.expect.pending.push((await inbox(makeMessage(now, 60, { auto_destruct: true, destruct_after: '1d' }))).id);
  const destroyedAt = new Date(now - 99 * DAY_MS).toISOString();
  const tombstone = {
    auto_destruct: true,
    destroyed_at: destroyedAt,
    destroyed_reason: 'ttl_expired',
    body: '[DESTROYED]',
  };
  store.expect.archive.push((await inbox(makeMessage(now, 100, tombstone))).id);
  // archive/ history: only what someone read and is past 90 days may be purged
  for (const age of [40, 80, 95, 200]) {
    const read = makeMessage(now, age, { status: 'archived', ...readBy('myia-ai-01', now) });
    await writeMessage(dirs.archive, read);
    (age > 90 ? store.expect.purge : store.expect.stayInArchive).push(read.id);
    const unread = makeMessage(now, age, { status: 'archived' });
    await writeMessage(dirs.archive, unread);
    store.expect.stayInArchive.push(unread.id);
  }
  const pendingArchived = makeMessage(now, 300, {
    status: 'archived',
    auto_destruct: true,
    ...readBy('myia-ai-01', now),
  });
  await writeMessage(dirs.archive, pendingArchived);
  store.expect.stayInArchive.push(pendingArchived.id);
  // attachments
  const withAttachment = await inbox(
    makeMessage(now, 5, {
      attachments: [{ uuid: '11111111-1111-4111-8111-111111111111', filename: 'report.md', sizeBytes: 5 }],
    }),
  );
  store.expect.stayInInbox.push(withAttachment.id);
  const attachment = async (uuid: string, ageDays: number, meta: Record<string, unknown> | undefined) => {
    const dir = path.join(sharedState, 'attachments', uuid);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'report.md'), 'hello');
    if (meta) await writeFile(path.join(dir, 'metadata.json'), JSON.stringify(meta));
    const t = (now - ageDays * DAY_MS) / 1000;
    await utimes(path.join(dir, 'report.md'), t, t);
    if (meta) await utimes(path.join(dir, 'metadata.json'), t, t);
    return uuid;
  };
  store.attachments.live.push(
    await attachment('11111111-1111-4111-8111-111111111111', 30, {
      uuid: '11111111-1111-4111-8111-111111111111',
      filename: 'report.md',
    }),
  );
  store.attachments.live.push(
    await attachment('22222222-2222-4222-8222-222222222222', 30, { messageId: question.id, filename: 'report.md' }),
  );
  store.attachments.orphanOld.push(
    await attachment('33333333-3333-4333-8333-333333333333', 30, { messageId: 'msg-20250101T000000-gone00' }),
  );
  store.attachments.orphanNew.push(
    await attachment('44444444-4444-4444-8444-444444444444', 2, { messageId: 'msg-20250101T000000-gone01' }),
  );
  store.attachments.interruptedOld.push(await attachment('55555555-5555-4555-8555-555555555555', 3, undefined));
  store.attachments.interruptedNew.push(await attachment('66666666-6666-4666-8666-666666666666', 0.1, undefined));
  // the read-path table: what RooSync breaks on or skips leaves the inbox, what it lists stays
  // written a day ago: inbox-hygiene leaves a file alone while RooSync may still be writing it (its first minute)
  const dayAgo = (Math.min(now, Date.now()) - 86_400_000) / 1000;
  for (const c of inboxCases(now)) {
    await writeFile(path.join(dirs.inbox, c.name), c.content);
    await utimes(path.join(dirs.inbox, c.name), dayAgo, dayAgo);
    (c.expect.kind === 'listed' ? store.oddButListed : store.malformed).push(c.name);
  }
  return store;
}
