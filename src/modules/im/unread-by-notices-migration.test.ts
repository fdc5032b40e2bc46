import { CompiledQuery, sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { testConfig } from '../../../test/support/test-app.js';
import { openStorage, type Storage } from '../../adapters/storage/storage.js';
import type { Database } from '../../adapters/storage/schema.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import {
  ConversationRepository,
  UNREAD_PARTS_OF_ONE,
  unreadPartsQuery,
} from './conversation.repository.js';
import { ConversationService } from './conversation.service.js';
import { MessageType } from './im.entity.js';
import * as m0019 from './migrations/0019-im-unread-by-notices.js';

const NEW_MIGRATION = '0019-im-unread-by-notices';
/** Every migration before this one, as a database made before it has them. */
const BEFORE = Object.fromEntries(
  Object.entries(MIGRATIONS).filter(([name]) => name < NEW_MIGRATION),
);

const GROUP = 'g1';

const member = (userId: string, readSeq: number) => ({
  conversationId: GROUP,
  userId,
  chatType: 2,
  targetId: GROUP,
  readSeq,
  joinSeq: 0,
  isShow: 1,
  createdAt: 1_000,
  updatedAt: 2_000,
});

const message = (seq: number, sendId: string, mType: number = MessageType.text) => ({
  id: `m${seq}`,
  conversationId: GROUP,
  seq,
  chatType: 2,
  sendId,
  recvId: GROUP,
  sendTime: 3_000 + seq,
  mType,
  content: `#${seq}`,
  clientMsgId: null,
  editedAt: null,
  revokedBy: null,
  revokedAt: null,
  replyMsgId: null,
  replyTo: null,
  atUserIds: null,
  reactions: null,
});

/** The group's history: a's own messages at 1 and 3, a notice at 4, b's at 2 and 5, c's at 6. */
async function seed(db: Kysely<Database>) {
  await db
    .insertInto('conversations')
    .values({
      id: GROUP,
      chatType: 2,
      maxSeq: 6,
      lastMsgId: 'm6',
      createdAt: 1_000,
      updatedAt: 9_000,
    })
    .execute();
  await db
    .insertInto('messages')
    .values([
      message(1, 'a'),
      message(2, 'b'),
      message(3, 'a'),
      message(4, 'system', MessageType.notice),
      message(5, 'b'),
      message(6, 'c'),
    ])
    .execute();
  // Read positions written before sending marked read: a read up to 1 and sent 3 since;
  // b read up to 5; c never read, and sent 6; d read nothing and sent nothing.
  await db
    .insertInto('conversationMembers')
    .values([member('a', 1), member('b', 5), member('c', 0), member('d', 0)])
    .execute();
}

async function readSeqs(db: Kysely<Database>) {
  const rows = await db
    .selectFrom('conversationMembers')
    .select(['userId', 'readSeq'])
    .orderBy('userId')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.userId, Number(r.readSeq)]));
}

/** The plan the store makes for one of unreadPartsOf's queries, as one line. */
async function planOfUnreadParts(
  storage: Storage,
  dialect: string,
  query: { sql: string; parameters: readonly unknown[] },
): Promise<string> {
  const { sql: text, parameters } = query;
  if (dialect === 'sqlite') {
    const { rows } = await storage.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${text}`, [...parameters]),
    );
    return rows.map((r) => r.detail).join(' | ');
  }
  // Five rows favour a scan of the table whatever the indexes; asked to avoid one, the
  // planner shows which index the query can use.
  return storage.db.connection().execute(async (db) => {
    await sql`set enable_seqscan = off`.execute(db);
    try {
      const { rows } = await db.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`explain ${text}`, [...parameters]),
      );
      return rows.map((r) => r['QUERY PLAN']).join(' | ');
    } finally {
      await sql`reset enable_seqscan`.execute(db);
    }
  });
}

describe.each(STORAGES)('unread counts by notices (migration 0019) on %s', (dialect) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A database with every migration, and the group's history. */
  async function seeded(): Promise<Storage> {
    const made = testConfig({ storage: dialect });
    cleanups.push(made.cleanup);
    const storage = openStorage(made.config, MIGRATIONS);
    cleanups.push(() => storage.close());
    await storage.migrate();
    await seed(storage.db);
    return storage;
  }

  it('moves each read position up to its own last message, and the counts stay right', async () => {
    const made = testConfig({ storage: dialect });
    cleanups.push(made.cleanup);
    const before = openStorage(made.config, BEFORE);
    await before.migrate();
    await seed(before.db);
    await before.close();

    const storage = openStorage(made.config, MIGRATIONS);
    cleanups.push(() => storage.close());
    await storage.migrate();
    // a's own 3 passed its 1; c's own 6 passed its 0; b and d had nothing of theirs after.
    expect(await readSeqs(storage.db)).toEqual({ a: 3, b: 5, c: 6, d: 0 });

    const conversations = new ConversationRepository(storage.db);
    const service = new ConversationService({
      conversations,
    } as unknown as ConstructorParameters<typeof ConversationService>[0]);
    // a: 4 is a notice, 5 and 6 are the others'. b: 6. c: none. d: all but the notice.
    const totals = await service.unreadTotals(['a', 'b', 'c', 'd', 'nobody']);
    expect(Object.fromEntries(totals)).toEqual({ a: 2, b: 1, c: 0, d: 5, nobody: 0 });
    const [row] = await conversations.listForUser('d');
    expect(row).toMatchObject({ maxSeq: 6, readSeq: 0, noticesAfterRead: 1 });
  });

  it.runIf(dialect !== 'mysql')(
    'counts the notices through their own index, not through the unread messages',
    async () => {
      const storage = await seeded();
      // Many users' (built by Kysely), and one user's (written out, precompiled).
      const queries = [
        unreadPartsQuery(storage.db, ['a', 'b']).compile(),
        { sql: UNREAD_PARTS_OF_ONE.textFor(dialect), parameters: ['a'] },
      ];
      for (const query of queries) {
        const plan = await planOfUnreadParts(storage, dialect, query);
        expect(plan).toContain('messages_conversation_notice_idx');
        // Nothing walks the messages by (conversation, seq), where the unread ones are.
        expect(plan).not.toMatch(/messages_conversation_seq/);
      }
    },
  );

  it('goes back without the index; the read positions stay', async () => {
    const storage = await seeded();
    await m0019.down(storage.db as unknown as Kysely<unknown>, dialect);
    // The index is gone: making it again succeeds.
    await m0019.up(storage.db as unknown as Kysely<unknown>, dialect);
    expect(await readSeqs(storage.db)).toEqual({ a: 3, b: 5, c: 6, d: 0 });
  });
});
