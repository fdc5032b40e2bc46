import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../../../adapters/storage/dialect.js';

/**
 * An unread count without a scan of the unread messages (issue 14; docs/performance-log.md,
 * "Sends to an offline recipient").
 *
 * A conversation's unread count is `max_seq − read_seq` less what never counts after
 * `read_seq`: the member's own messages and group notices. Since 0015 dropped the
 * (conversation, sender, seq) index, both were counted by walking every message after
 * `read_seq`, so the count cost grew with the unread: a push to an offline recipient
 * computes its badge over all its conversations, and with 20,000 unread in one a
 * send cost 2.5 ms of CPU instead of 1.
 *
 * The own messages need no count: sending marks read (docs/api.md), so in the same
 * transaction that stores a message its sender's `read_seq` moves to it, and a member
 * never has an own message after its read position. Rows written before that rule
 * (4d3be1d) may: here each member's `read_seq` moves to its last own message where it is
 * below it, which is what sending would have done since. Nothing else changes and no
 * event is recorded (a client's next list shows the count).
 *
 * The notices get an index of their own, so their count walks only the notices after
 * `read_seq`: on SQLite and PostgreSQL a partial index of notices alone, which an
 * ordinary message never touches; MySQL has no partial indexes, so there the index
 * holds every message by (conversation, m_type, seq).
 *
 * Both steps read the whole messages table once (a grouped scan, and the index's
 * build), at the upgrade: on a large database the first start after it takes that long.
 */
const NOTICE = 10;

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const lastOwn = sql`(select conversation_id, send_id, max(seq) as last_seq
    from messages group by conversation_id, send_id)`;
  if (dialect === 'mysql') {
    await sql`update conversation_members cm join ${lastOwn} own
        on own.conversation_id = cm.conversation_id and own.send_id = cm.user_id
      set cm.read_seq = own.last_seq
      where own.last_seq > cm.read_seq`.execute(db);
    await db.schema
      .createIndex('messages_conversation_notice_idx')
      .on('messages')
      .columns(['conversation_id', 'm_type', 'seq'])
      .execute();
    return;
  }
  await sql`update conversation_members set read_seq = own.last_seq
    from ${lastOwn} as own
    where own.conversation_id = conversation_members.conversation_id
      and own.send_id = conversation_members.user_id
      and own.last_seq > conversation_members.read_seq`.execute(db);
  await db.schema
    .createIndex('messages_conversation_notice_idx')
    .on('messages')
    .columns(['conversation_id', 'seq'])
    .where(sql.raw<boolean>(`m_type = ${NOTICE}`))
    .execute();
}

/** The index goes; read positions stay where they moved (each is one sending would make). */
export async function down(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const drop = db.schema.dropIndex('messages_conversation_notice_idx');
  await (dialect === 'mysql' ? drop.on('messages') : drop).execute();
}
