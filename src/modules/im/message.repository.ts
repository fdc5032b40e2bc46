import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import { isPostgres } from '../../adapters/storage/portable.js';
import { columnsAsFields, directOn, Precompiled } from '../../adapters/storage/precompiled.js';
import type { Database, MessagesTable } from '../../adapters/storage/schema.js';
import { MessageType, type ChatType, type Message, type ReplySnapshot } from './im.entity.js';

type MessageRow = Selectable<MessagesTable>;

export interface MessageRange {
  conversationId: string;
  /** Only messages with seq above this (a member's joinSeq, a client's lastSeq). */
  afterSeq: number;
  startSeq?: number;
  endSeq?: number;
  startSendTime?: number;
  endSendTime?: number;
  limit: number;
  order: 'asc' | 'desc';
  /** Leave out the messages this user deleted for themselves. */
  viewer?: string;
}

/** Messages up to a client's seq that changed after its modSeq (sync). */
export interface ChangeRange {
  conversationId: string;
  /** The reader's floor (joinSeq / clearSeq): older messages are not theirs to see. */
  afterSeq: number;
  upToSeq: number;
  afterModSeq: number;
  limit: number;
  viewer: string;
}

/** The stored fields a change may set (with the modSeq it took). */
export type MessagePatch = Partial<
  Pick<MessagesTable, 'content' | 'editedAt' | 'revokedBy' | 'revokedAt' | 'replyTo'>
> & { reactions?: Record<string, string[]> | null; modSeq: number };

/** The statements every send runs, precompiled (Precompiled). */
const INSERT = new Precompiled(
  `insert into messages (id, conversation_id, seq, chat_type, send_id, recv_id, send_time,
     m_type, content, client_msg_id, reply_msg_id, reply_to, at_user_ids, at_all)
   values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
);
/** Read for every push to an offline recipient (is it still there, not recalled). */
const BY_ID = new Precompiled<MessageRow>('select * from messages where id = ?');
const BY_CLIENT_MSG_ID = new Precompiled<MessageRow>(
  'select * from messages where send_id = ? and client_msg_id = ?',
);

/**
 * Every column of `messages`, as MessageRow names it: a field missing here (a column
 * added to MessagesTable) fails to compile.
 */
const MESSAGE_FIELDS = Object.keys({
  id: true,
  conversationId: true,
  seq: true,
  chatType: true,
  sendId: true,
  recvId: true,
  sendTime: true,
  mType: true,
  content: true,
  clientMsgId: true,
  modSeq: true,
  editedAt: true,
  revokedBy: true,
  revokedAt: true,
  replyMsgId: true,
  replyTo: true,
  atUserIds: true,
  atAll: true,
  reactions: true,
} satisfies Record<keyof MessageRow, true>);

/** `conversation_id as "conversationId", …`: each column named as its field. */
const MESSAGE_COLUMNS_AS_FIELDS = columnsAsFields(MESSAGE_FIELDS);

/**
 * A history page or a sync page by seq alone (the common reads): precompiled for both
 * orders. The reader's own deletions are left out by the `not exists` probe. Its
 * columns are named as MessageRow's fields, so its rows skip Kysely's camel-casing
 * (Precompiled's `fieldNames`): 50 rows a page.
 */
const pageBySeq = (order: 'asc' | 'desc') =>
  new Precompiled<MessageRow>(
    `select ${MESSAGE_COLUMNS_AS_FIELDS} from messages
     where conversation_id = ? and seq > ? and seq <= ?
       and not exists (select 1 from message_deletions d
         where d.user_id = ? and d.conversation_id = ? and d.msg_id = messages.id)
     order by seq ${order} limit ?`,
    { fieldNames: true },
  );
const PAGE_BY_SEQ = { asc: pageBySeq('asc'), desc: pageBySeq('desc') };

/**
 * One unread check (hasUnreadOf) on SQLite and MySQL: a message of someone else, not a
 * notice, strictly between two seqs. Every answer in a chat runs it (its sender's read
 * position passes the message answered), so it is written once in SQL rather than
 * built and compiled by Kysely per call.
 */
const UNREAD_OF_ONE = new Precompiled<{ seq: number }>(
  `select seq from messages
   where conversation_id = ? and seq > ? and seq < ? and send_id != ? and m_type != ?
   limit 1`,
);

/**
 * PostgreSQL: the unread checks (hasUnreadOf) of a turn of the event loop, in one
 * statement: the ordinal of each check that found a message.
 *
 * Each check is a lateral subquery with `limit 1`, not `where exists`: the planner
 * cannot hash a lateral join, so every check stays a range read of
 * (conversation_id, seq). With `exists` it estimated ~50 messages per check (it cannot
 * know that the seq range holds one or two), and from a few dozen checks on (under 58
 * at 10,000 messages stored, under 200 at 43,000) it chose a hash semi-join over a
 * sequential scan of the whole table instead: at a backlog, when batches and so the
 * checks per turn grow, every turn read every message stored (docs/performance-log.md,
 * "The unread check's plan").
 * Exported for the plan's test.
 */
export const UNREAD_OF_MANY = new Precompiled<{ i: number }>(
  `select c.i from unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[])
     with ordinality as c(conversation_id, user_id, after_seq, before_seq, i)
   cross join lateral (
     select 1 from messages m
     where m.conversation_id = c.conversation_id and m.seq > c.after_seq
       and m.seq < c.before_seq and m.send_id <> c.user_id and m.m_type <> ?
     limit 1) found`,
);

/** The most checks in one UNREAD_OF_MANY. */
const UNREAD_CHECKS_PER_STATEMENT = 500;

interface UnreadCheck {
  conversationId: string;
  userId: string;
  afterSeq: number;
  beforeSeq: number;
  resolve: (found: boolean) => void;
  reject: (err: unknown) => void;
}

/** Messages in SQL; every read is by (conversation, seq) or an id. */
export class MessageRepository {
  /**
   * PostgreSQL: the unread checks waiting for the next turn of the event loop (see
   * hasUnreadOf); undefined on the other engines, which check one at a time.
   */
  private unreadChecks: UnreadCheck[] | undefined;
  private readonly coalesceUnreadChecks: boolean;

  constructor(private readonly db: Kysely<Database>) {
    this.coalesceUnreadChecks = isPostgres(db);
  }

  async insert(trx: Kysely<Database>, m: Message): Promise<void> {
    await INSERT.execute(trx, messageColumns(m, [m.msgId, m.conversationId, m.seq]));
  }

  /** insert, synchronously, in a transaction where runsDirect (SQLite). */
  insertNow(trx: Kysely<Database>, m: Message): void {
    directOn(INSERT, trx).write(messageColumns(m, [m.msgId, m.conversationId, m.seq]));
  }

  async findById(id: string): Promise<Message | undefined> {
    const row = await BY_ID.first(this.db, [id]);
    return row && toMessage(row);
  }

  async findByIds(ids: string[]): Promise<Message[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('messages').selectAll().where('id', 'in', ids).execute();
    return rows.map(toMessage);
  }

  async findByClientMsgId(sendId: string, clientMsgId: string): Promise<Message | undefined> {
    const row = await BY_CLIENT_MSG_ID.first(this.db, [sendId, clientMsgId]);
    return row && toMessage(row);
  }

  async range(range: MessageRange): Promise<Message[]> {
    const bySeqOnly = range.startSendTime === undefined && range.endSendTime === undefined;
    if (bySeqOnly && range.viewer !== undefined) {
      // startSeq ≤ seq ≤ endSeq, above afterSeq: one lower and one upper bound.
      const above = Math.max(range.afterSeq, (range.startSeq ?? 0) - 1);
      const upTo = range.endSeq ?? Number.MAX_SAFE_INTEGER;
      const { rows } = await PAGE_BY_SEQ[range.order].execute(this.db, [
        range.conversationId,
        above,
        upTo,
        range.viewer,
        range.conversationId,
        range.limit,
      ]);
      return rows.map(toMessage);
    }
    let q: SelectQueryBuilder<Database, 'messages', MessageRow> = this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversationId', '=', range.conversationId)
      .where('seq', '>', range.afterSeq);
    if (range.viewer !== undefined) q = notDeletedFor(q, range.viewer, range.conversationId);
    if (range.startSeq !== undefined) q = q.where('seq', '>=', range.startSeq);
    if (range.endSeq !== undefined) q = q.where('seq', '<=', range.endSeq);
    if (range.startSendTime !== undefined) q = q.where('sendTime', '>=', range.startSendTime);
    if (range.endSendTime !== undefined) q = q.where('sendTime', '<=', range.endSendTime);
    const rows = await q.orderBy('seq', range.order).limit(range.limit).execute();
    return rows.map(toMessage);
  }

  /**
   * Whether someone other than `userId` posted a message that counts as unread
   * (not a group notice) with a seq strictly between the two.
   */
  async hasUnreadOf(
    conversationId: string,
    userId: string,
    between: { afterSeq: number; beforeSeq: number },
  ): Promise<boolean> {
    if (this.coalesceUnreadChecks) {
      // Every send that moves its sender's read position past others' messages asks
      // this (the read receipt), right after its batch committed: one query each would
      // be a pool connection and a round trip each, competing with the sends' own
      // batches for the pool (docs/performance-log.md, "The PostgreSQL tail taken apart").
      // The checks of a turn go in one statement instead.
      return new Promise<boolean>((resolve, reject) => {
        if (!this.unreadChecks) {
          this.unreadChecks = [];
          setImmediate(() => void this.checkUnread());
        }
        this.unreadChecks.push({ conversationId, userId, ...between, resolve, reject });
      });
    }
    const row = await UNREAD_OF_ONE.first(this.db, [
      conversationId,
      between.afterSeq,
      between.beforeSeq,
      userId,
      MessageType.notice,
    ]);
    return row !== undefined;
  }

  /** Runs the unread checks queued (hasUnreadOf on PostgreSQL), a statement per 500. */
  private async checkUnread(): Promise<void> {
    const checks = this.unreadChecks ?? [];
    this.unreadChecks = undefined;
    for (let from = 0; from < checks.length; from += UNREAD_CHECKS_PER_STATEMENT) {
      const part = checks.slice(from, from + UNREAD_CHECKS_PER_STATEMENT);
      try {
        const { rows } = await UNREAD_OF_MANY.execute(this.db, [
          part.map((c) => c.conversationId),
          part.map((c) => c.userId),
          part.map((c) => c.afterSeq),
          part.map((c) => c.beforeSeq),
          MessageType.notice,
        ]);
        const found = new Set(rows.map((r) => Number(r.i)));
        part.forEach((check, i) => check.resolve(found.has(i + 1)));
      } catch (err) {
        for (const check of part) check.reject(err);
      }
    }
  }

  /** Current state of messages changed after `afterModSeq`, oldest change first. */
  async changes(range: ChangeRange): Promise<Message[]> {
    const q = this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversationId', '=', range.conversationId)
      // Implied by the cursor (never below 0); said as a literal so the partial index
      // (mod_seq > 0) serves it under any plan, generic or not.
      .where(sql<boolean>`mod_seq > 0`)
      .where('modSeq', '>', range.afterModSeq)
      .where('seq', '>', range.afterSeq)
      .where('seq', '<=', range.upToSeq);
    const rows = await notDeletedFor(q, range.viewer, range.conversationId)
      .orderBy('modSeq', 'asc')
      .limit(range.limit)
      .execute();
    return rows.map(toMessage);
  }

  /** A message as stored inside the caller's transaction (after its modSeq lock). */
  async findIn(trx: Kysely<Database>, id: string): Promise<Message | undefined> {
    const row = await trx
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toMessage(row);
  }

  /** Messages of one conversation quoting `msgId` (their snapshots follow its recall). */
  async quoting(trx: Kysely<Database>, conversationId: string, msgId: string): Promise<Message[]> {
    const rows = await trx
      .selectFrom('messages')
      .selectAll()
      .where('replyMsgId', '=', msgId)
      .where('conversationId', '=', conversationId)
      .execute();
    return rows.map(toMessage);
  }

  async update(trx: Kysely<Database>, msgId: string, patch: MessagePatch): Promise<void> {
    const { reactions } = patch;
    await trx
      .updateTable('messages')
      .set({
        modSeq: patch.modSeq,
        content: patch.content,
        editedAt: patch.editedAt,
        revokedBy: patch.revokedBy,
        revokedAt: patch.revokedAt,
        replyTo: patch.replyTo,
        // Kysely leaves out undefined values: only what the patch names is written.
        reactions:
          reactions === undefined
            ? undefined
            : reactions && Object.keys(reactions).length > 0
              ? JSON.stringify(reactions)
              : null,
      })
      .where('id', '=', msgId)
      .execute();
  }

  /** Keeps the text a message had before an edit (audit only). */
  async keepVersion(
    trx: Kysely<Database>,
    version: { id: string; msgId: string; content: string; editedBy: string; replacedAt: number },
  ): Promise<void> {
    await trx
      .insertInto('messageVersions')
      .values({
        id: version.id,
        msgId: version.msgId,
        content: version.content,
        editedBy: version.editedBy,
        replacedAt: version.replacedAt,
      })
      .execute();
  }

  /** Erases the audit copies of a recalled message: its content is kept nowhere. */
  async eraseVersions(trx: Kysely<Database>, msgId: string): Promise<void> {
    await trx.deleteFrom('messageVersions').where('msgId', '=', msgId).execute();
  }

  async versions(msgId: string) {
    return this.db
      .selectFrom('messageVersions')
      .select(['content', 'editedBy', 'replacedAt'])
      .where('msgId', '=', msgId)
      .orderBy('replacedAt', 'asc')
      .orderBy('id', 'asc')
      .execute();
  }

  /** Hides messages from one user only; already hidden ones stay as they are. */
  async deleteFor(
    trx: Kysely<Database>,
    userId: string,
    conversationId: string,
    msgIds: string[],
    now: number,
  ): Promise<void> {
    const existing = await trx
      .selectFrom('messageDeletions')
      .select('msgId')
      .where('userId', '=', userId)
      .where('conversationId', '=', conversationId)
      .where('msgId', 'in', msgIds)
      .execute();
    const done = new Set(existing.map((r) => r.msgId));
    const fresh = msgIds.filter((id) => !done.has(id));
    if (fresh.length === 0) return;
    await trx
      .insertInto('messageDeletions')
      .values(fresh.map((msgId) => ({ userId, conversationId, msgId, deletedAt: now })))
      .execute();
  }
}

/** Leaves out what the viewer deleted for themselves. */
function notDeletedFor<O>(
  q: SelectQueryBuilder<Database, 'messages', O>,
  viewer: string,
  conversationId: string,
): SelectQueryBuilder<Database, 'messages', O> {
  return q.where((eb) =>
    eb.not(
      eb.exists(
        eb
          .selectFrom('messageDeletions as d')
          .select('d.msgId')
          .where('d.userId', '=', viewer)
          .where('d.conversationId', '=', conversationId)
          .whereRef('d.msgId', '=', 'messages.id'),
      ),
    ),
  );
}

/**
 * A message's columns after (id, conversation_id, seq), in the order of the INSERT:
 * chat_type, send_id, recv_id, send_time, m_type, content, client_msg_id,
 * reply_msg_id, reply_to, at_user_ids, at_all. Pushed onto `before` (the values that
 * come before them), so an INSERT's parameters are one array, not a spread copy.
 */
export function messageColumns(m: Omit<Message, 'seq'>, before: unknown[] = []): unknown[] {
  before.push(
    m.chatType,
    m.sendId,
    m.recvId,
    m.sendTime,
    m.mType,
    m.content,
    m.clientMsgId,
    m.replyTo?.msgId ?? null,
    m.replyTo ? JSON.stringify(m.replyTo) : null,
    m.atUserIds?.length ? JSON.stringify(m.atUserIds) : null,
    m.atAll ? 1 : 0,
  );
  return before;
}

/** A stored row as clients see it: optional fields only when set. */
export function toMessage(row: MessageRow): Message {
  const message: Message = {
    msgId: row.id,
    conversationId: row.conversationId,
    chatType: row.chatType as ChatType,
    sendId: row.sendId,
    recvId: row.recvId,
    seq: row.seq,
    sendTime: row.sendTime,
    mType: row.mType,
    content: row.content,
    clientMsgId: row.clientMsgId,
    modSeq: Number(row.modSeq ?? 0),
  };
  if (row.editedAt !== null && row.editedAt !== undefined) message.editedAt = Number(row.editedAt);
  if (row.revokedBy) message.revoked = { by: row.revokedBy, at: Number(row.revokedAt) };
  if (row.replyTo) message.replyTo = JSON.parse(row.replyTo) as ReplySnapshot;
  if (row.atUserIds) message.atUserIds = JSON.parse(row.atUserIds) as string[];
  if (row.atAll) message.atAll = true;
  if (row.reactions) message.reactions = JSON.parse(row.reactions) as Record<string, string[]>;
  return message;
}
