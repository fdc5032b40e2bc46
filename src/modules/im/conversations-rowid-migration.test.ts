import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { testConfig } from '../../../test/support/test-app.js';
import { openStorage, type Storage } from '../../adapters/storage/storage.js';
import type { Database } from '../../adapters/storage/schema.js';
import { isUniqueViolation } from '../../adapters/storage/storage-errors.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import { ConversationRepository, SHOW_ALL_SQLITE_TEXT } from './conversation.repository.js';
import * as m0018 from './migrations/0018-im-conversations-without-rowid.js';

const NEW_MIGRATION = '0018-im-conversations-without-rowid';
const BEFORE = Object.fromEntries(
  Object.entries(MIGRATIONS).filter(([name]) => name !== NEW_MIGRATION),
);

const conversation = (id: string, chatType: number, maxSeq: number) => ({
  id,
  chatType,
  maxSeq,
  lastMsgId: `last-${id}`,
  createdAt: 1_000,
  updatedAt: 2_000 + maxSeq,
  maxModSeq: maxSeq - 1,
  membersVersion: maxSeq * 2,
});

const member = (conversationId: string, userId: string, targetId: string, n: number) => ({
  conversationId,
  userId,
  chatType: conversationId.startsWith('sg_') ? 2 : 1,
  targetId,
  readSeq: n,
  joinSeq: n - 1,
  isShow: n % 2,
  createdAt: 3_000 + n,
  updatedAt: 4_000 + n,
  pinned: n % 3 === 0 ? 1 : 0,
  muted: 1 - (n % 2),
  clearSeq: n - 2,
  mentionSeq: n + 1,
});

/** Every row of both tables, in key order, as the store gives them. */
async function dump(db: Kysely<Database>) {
  return {
    conversations: await db.selectFrom('conversations').selectAll().orderBy('id').execute(),
    members: await db
      .selectFrom('conversationMembers')
      .selectAll()
      .orderBy('conversationId')
      .orderBy('userId')
      .execute(),
  };
}

/** The SQL that SQLite keeps for the two tables and their indexes (autoindexes left out). */
async function schemaOf(storage: Storage): Promise<Record<string, string>> {
  const { rows } = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master
    where tbl_name in ('conversations', 'conversation_members') and sql is not null`.execute(
    storage.db,
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.sql]));
}

async function planOf(storage: Storage, text: string): Promise<string> {
  const { rows } = await sql<{ detail: string }>`explain query plan ${sql.raw(text)}`.execute(
    storage.db,
  );
  return rows.map((r) => r.detail).join(' | ');
}

describe.each(STORAGES)('conversations migration 0018 on %s', (dialect) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('keeps every conversation and member row and their constraints; SQLite stores both by key', async () => {
    const made = testConfig({ storage: dialect });
    cleanups.push(made.cleanup);
    const before = openStorage(made.config, BEFORE);
    await before.migrate();
    await before.db
      .insertInto('conversations')
      .values([conversation('si_a_b', 1, 7), conversation('sg_g1', 2, 40)])
      .execute();
    await before.db
      .insertInto('conversationMembers')
      .values([
        member('si_a_b', 'a', 'b', 5),
        member('si_a_b', 'b', 'a', 6),
        member('sg_g1', 'a', 'g1', 10),
        member('sg_g1', 'c', 'g1', 11),
        member('sg_g1', 'd', 'g1', 12),
      ])
      .execute();
    const rows = await dump(before.db);
    const sqliteBefore = dialect === 'sqlite' ? await schemaOf(before) : {};
    await before.close();

    const storage = openStorage(made.config, MIGRATIONS);
    cleanups.push(() => storage.close());
    await storage.migrate();
    expect(await dump(storage.db)).toEqual(rows);

    const conversations = new ConversationRepository(storage.db);
    expect(await conversations.member('sg_g1', 'c')).toMatchObject({ readSeq: 11, isShow: 1 });
    expect((await conversations.listForUser('a')).map((c) => c.conversationId).sort()).toEqual([
      'sg_g1',
      'si_a_b',
    ]);
    expect((await conversations.allMembers('sg_g1')).map((m) => m.userId).sort()).toEqual([
      'a',
      'c',
      'd',
    ]);

    // Keys still unique, columns still required.
    await expect(
      storage.db
        .insertInto('conversations')
        .values(conversation('si_a_b', 1, 1))
        .execute(),
    ).rejects.toSatisfy(isUniqueViolation);
    await expect(
      storage.db
        .insertInto('conversationMembers')
        .values(member('sg_g1', 'c', 'g1', 1))
        .execute(),
    ).rejects.toSatisfy(isUniqueViolation);
    await expect(
      storage.db
        .insertInto('conversationMembers')
        .values({ ...member('sg_g1', 'e', 'g1', 1), targetId: null as unknown as string })
        .execute(),
    ).rejects.toThrow(/null/i);

    // A new message shows the conversation to the members who had hidden it (a, d),
    // and only in that conversation (b still hides si_a_b).
    await storage.db.transaction().execute((trx) => conversations.showAll(trx, 'sg_g1', 9_000));
    const shown = await conversations.members('sg_g1');
    expect(shown.map((m) => [m.userId, m.isShow])).toEqual([
      ['a', 1],
      ['c', 1],
      ['d', 1],
    ]);
    expect((await conversations.member('si_a_b', 'b'))?.isShow).toBe(0);

    if (dialect !== 'sqlite') return;
    const after = await schemaOf(storage);
    expect(after['conversations']).toMatch(/without rowid$/);
    expect(after['conversation_members']).toMatch(/without rowid$/);
    // The same indexes as before, on the same columns.
    const indexes = (schema: Record<string, string>) =>
      Object.entries(schema)
        .filter(([name]) => name.endsWith('_idx'))
        .map(([name, text]) => [name, text.replace(/\s+/g, ' ')]);
    expect(indexes(after)).toEqual(indexes(sqliteBefore));
    await expect(sql`select rowid from conversations`.execute(storage.db)).rejects.toThrow(/rowid/);

    // Lookups by key seek the table's own tree; showAll keeps to the hidden rows' index.
    expect(
      await planOf(
        storage,
        "select read_seq from conversation_members where conversation_id = 'x' and user_id = 'y'",
      ),
    ).toContain('PRIMARY KEY');
    expect(await planOf(storage, "select max_seq from conversations where id = 'x'")).toContain(
      'PRIMARY KEY',
    );
    expect(await planOf(storage, SHOW_ALL_SQLITE_TEXT.replace(/\?/g, "'x'"))).toContain(
      'conversation_members_hidden_idx',
    );
  });

  it.runIf(dialect === 'sqlite')('goes back to rowid tables with the rows kept', async () => {
    const made = testConfig({ storage: dialect });
    cleanups.push(made.cleanup);
    const storage = openStorage(made.config, MIGRATIONS);
    cleanups.push(() => storage.close());
    await storage.migrate();
    await storage.db
      .insertInto('conversations')
      .values(conversation('si_a_b', 1, 3))
      .execute();
    await storage.db
      .insertInto('conversationMembers')
      .values([member('si_a_b', 'a', 'b', 1), member('si_a_b', 'b', 'a', 2)])
      .execute();
    const rows = await dump(storage.db);

    await m0018.down(storage.db as unknown as Kysely<unknown>, 'sqlite');
    expect(await dump(storage.db)).toEqual(rows);
    const schema = await schemaOf(storage);
    expect(schema['conversation_members']).not.toMatch(/without rowid/);
    expect(Object.keys(schema).sort()).toEqual([
      'conversation_members',
      'conversation_members_hidden_idx',
      'conversation_members_user_idx',
      'conversations',
    ]);
    await sql`select rowid from conversations`.execute(storage.db);
  });
});
