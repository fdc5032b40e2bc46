/**
 * A history page's two statements (the reader's member row, then the page) name their
 * columns as the rows' fields, so their rows skip Kysely's CamelCasePlugin: these tests
 * check, on each store, that the rows are exactly those Kysely's own `select *` maps
 * (every field, nulls, JSON columns), that the reader's deletions stay hidden, and that
 * the plugin does not run for them.
 */
import { CamelCasePlugin } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { testConfig } from '../../../test/support/test-app.js';
import { openStorage, type Storage } from '../../adapters/storage/storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import { ConversationRepository } from './conversation.repository.js';
import { MessageRepository, toMessage } from './message.repository.js';

const plain = (seq: number) => ({
  id: `m${seq}`,
  conversationId: 'a_b',
  seq,
  chatType: 1,
  sendId: seq % 2 ? 'a' : 'b',
  recvId: seq % 2 ? 'b' : 'a',
  sendTime: 1_000 + seq,
  mType: 1,
  content: `hello ${seq}`,
  clientMsgId: `c${seq}`,
});

/** Every column set: edited, recalled, a reply, mentions, reactions. */
const full = (seq: number) => ({
  ...plain(seq),
  clientMsgId: null,
  modSeq: 7,
  editedAt: 2_000,
  revokedBy: 'a',
  revokedAt: 3_000,
  replyMsgId: 'm1',
  replyTo: JSON.stringify({ msgId: 'm1', sendId: 'a', mType: 1, excerpt: 'hello 1' }),
  atUserIds: JSON.stringify(['b']),
  atAll: 1,
  reactions: JSON.stringify({ '👍': ['a', 'b'] }),
});

describe.each(STORAGES)("a history page's rows on %s", (kind) => {
  let storage: Storage | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await storage?.close();
    await cleanup?.();
  });

  async function open(): Promise<Storage> {
    const made = testConfig({ storage: kind });
    cleanup = made.cleanup;
    storage = openStorage(made.config, MIGRATIONS);
    await storage.migrate();
    // Rows of different columns apart: SQLite has no DEFAULT in a multi-row VALUES.
    await storage.db
      .insertInto('messages')
      .values([plain(1), plain(3), plain(4)])
      .execute();
    await storage.db.insertInto('messages').values(full(2)).execute();
    await storage.db
      .insertInto('messageDeletions')
      .values({ userId: 'b', conversationId: 'a_b', msgId: 'm3', deletedAt: 1 })
      .execute();
    await storage.db
      .insertInto('conversationMembers')
      .values({
        conversationId: 'a_b',
        userId: 'b',
        chatType: 1,
        targetId: 'a',
        readSeq: 2,
        joinSeq: 0,
        isShow: 1,
        clearSeq: 1,
        mentionSeq: 2,
        createdAt: 1,
        updatedAt: 1,
      })
      .execute();
    return storage;
  }

  it("answers the page as Kysely's select * maps it, without the reader's deletions, and without camel-casing", async () => {
    const s = await open();
    const expected = (
      await s.db.selectFrom('messages').selectAll().orderBy('seq', 'desc').execute()
    )
      .filter((row) => row.id !== 'm3')
      .map(toMessage);
    expect(expected.find((m) => m.seq === 2)).toMatchObject({
      editedAt: 2_000,
      revoked: { by: 'a', at: 3_000 },
      atAll: true,
      reactions: { '👍': ['a', 'b'] },
    });
    const camelCasing = vi.spyOn(CamelCasePlugin.prototype, 'transformResult');
    const page = await new MessageRepository(s.db).range({
      conversationId: 'a_b',
      afterSeq: 0,
      viewer: 'b',
      endSeq: 4,
      limit: 50,
      order: 'desc',
    });
    expect(camelCasing).not.toHaveBeenCalled();
    // Equal field by field, and no field more (a column left out of the select list,
    // or one more, would show here).
    expect(page).toStrictEqual(expected);
  });

  it("answers the reader's member row as Kysely maps it, without camel-casing", async () => {
    const s = await open();
    const expected = await s.db
      .selectFrom('conversationMembers')
      .select([
        'conversationId',
        'userId',
        'chatType',
        'targetId',
        'readSeq',
        'joinSeq',
        'isShow',
        'pinned',
        'muted',
        'clearSeq',
        'mentionSeq',
      ])
      .executeTakeFirstOrThrow();
    const camelCasing = vi.spyOn(CamelCasePlugin.prototype, 'transformResult');
    const member = await new ConversationRepository(s.db).member('a_b', 'b');
    expect(camelCasing).not.toHaveBeenCalled();
    expect(member).toStrictEqual(expected);
  });
});
