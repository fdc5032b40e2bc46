import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import { isMysql, skipExisting } from '../../adapters/storage/portable.js';
import { columnsAsFields, directOn, Precompiled } from '../../adapters/storage/precompiled.js';
import type { ConversationMembersTable, Database } from '../../adapters/storage/schema.js';
import { ChatType, MessageType } from './im.entity.js';

export interface MemberRow extends Pick<
  ConversationMembersTable,
  'conversationId' | 'userId' | 'chatType' | 'targetId' | 'readSeq' | 'joinSeq' | 'isShow'
> {
  pinned: number;
  muted: number;
  clearSeq: number;
  mentionSeq: number;
}

/** What a single chat's send read of its parties' rows as they were (takeNextSeqWithPairNow). */
export interface PairBefore {
  seq: number;
  /**
   * The sender's read position; undefined: the sender has no row. Whether that row
   * shows the conversation comes back from its read position's move (advanceReadNow),
   * or from senderShownNow where the position does not move.
   */
  senderReadSeq: number | undefined;
  /** The recipient's row exists and shows the conversation. */
  recipientShown: boolean;
}

/** The columns of MemberRow, for selects. */
const MEMBER_COLUMNS = [
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
] as const;

/** MEMBER_COLUMNS in SQL, each named as its field (`read_seq as "readSeq"`). */
const MEMBER_SQL_COLUMNS = columnsAsFields(MEMBER_COLUMNS);

/** A conversation's next seq taken (the conversation created on its first message). */
const TAKE_NEXT_SEQ = `insert into conversations (id, chat_type, max_seq, last_msg_id, created_at, updated_at)
   values (?, ?, 1, ?, ?, ?)
   on conflict (id) do update set max_seq = conversations.max_seq + 1,
     last_msg_id = excluded.last_msg_id, updated_at = excluded.updated_at`;

/** The statements every send runs, precompiled (Precompiled). */
const NEXT_SEQ = new Precompiled<{ maxSeq: number }>(`${TAKE_NEXT_SEQ}
   returning max_seq`);
/**
 * NEXT_SEQ on SQLite, also reading what a single chat's send needs of both parties'
 * rows as they were: one statement where the send ran two (docs/performance-log.md, "SQLite:
 * a send's SQL inside the server"). Only two numbers, each a scalar subquery on the
 * primary key in RETURNING (SQLite allows it; the statement writes only `conversations`,
 * so they see the members' rows as they were): the sender's read_seq (null without a
 * row) and the recipient's is_show. Whole rows as JSON, parsed in JavaScript, cost the
 * statement twice as long and a send a few objects more (docs/performance-log.md, eleventh
 * session). What else the send needs of the sender's row (whether it shows the
 * conversation, and what its `conversation.updated` shows) comes back from its read
 * position's move (ADVANCE_READ_NOW), which a new message always makes: a read
 * position never passes the conversation's max_seq, which the new seq is above. Where
 * it does not move (a position set ahead), shownNow reads the row.
 */
const NEXT_SEQ_AND_PAIR = new Precompiled<{
  maxSeq: number;
  senderReadSeq: number | null;
  recipientShow: number | null;
}>(`${TAKE_NEXT_SEQ}
   returning max_seq,
     (select read_seq from conversation_members where conversation_id = ? and user_id = ?)
       as sender_read_seq,
     (select is_show from conversation_members where conversation_id = ? and user_id = ?)
       as recipient_show`);
// Their rows come back named as MemberRow's fields: no camel-casing (Precompiled).
const MEMBER = new Precompiled<MemberRow>(
  `select ${MEMBER_SQL_COLUMNS}
   from conversation_members where conversation_id = ? and user_id = ?`,
  { fieldNames: true },
);
const PAIR = new Precompiled<MemberRow>(
  `select ${MEMBER_SQL_COLUMNS}
   from conversation_members where conversation_id = ? and user_id in (?, ?)`,
  { fieldNames: true },
);
const ADVANCE_READ = new Precompiled(
  `update conversation_members set read_seq = ?, updated_at = ?
   where conversation_id = ? and user_id = ? and read_seq < ?`,
);
/**
 * ADVANCE_READ on SQLite, returning the settings the move leaves as they are: with the
 * read position before it (NEXT_SEQ_AND_PAIR), the sender's row as the
 * `conversation.updated` of its other devices shows it, and whether it shows the
 * conversation (the send shows it again if not).
 */
const ADVANCE_READ_NOW = new Precompiled<
  Pick<MemberRow, 'pinned' | 'muted' | 'clearSeq' | 'isShow'>
>(
  `update conversation_members set read_seq = ?, updated_at = ?
   where conversation_id = ? and user_id = ? and read_seq < ?
   returning pinned, muted, clear_seq, is_show`,
);
const SHOW_ALL = new Precompiled(
  `update conversation_members set is_show = 1, updated_at = ?
   where conversation_id = ? and is_show = 0`,
);
/**
 * SHOW_ALL on SQLite, held to the index of hidden rows. Without statistics SQLite's
 * planner prefers the primary key of a WITHOUT ROWID table (migration 0018) for
 * `conversation_id = ?`, which reads every member of the conversation: a whole group
 * per group message, where the partial index holds only the hidden rows (usually none).
 */
export const SHOW_ALL_SQLITE_TEXT = `update conversation_members
   indexed by conversation_members_hidden_idx set is_show = 1, updated_at = ?
   where conversation_id = ? and is_show = 0`;
const SHOW_ALL_SQLITE = new Precompiled(SHOW_ALL_SQLITE_TEXT);

/** Who is in a conversation: read whole when an in-memory audience is (re)filled. */
const MEMBERS_VERSION = new Precompiled<{ membersVersion: number | string }>(
  'select members_version from conversations where id = ?',
);
const BUMP_MEMBERS_VERSION = new Precompiled(
  'update conversations set members_version = members_version + 1 where id = ?',
);
/**
 * unreadPartsQuery for one user, written out: the usual push (a single chat's offline
 * recipient) asks for one, and building and compiling the query took 33 µs a call, a
 * twentieth of such a send on SQLite. Keep the two alike (the plan test reads both).
 */
export const UNREAD_PARTS_OF_ONE = new Precompiled<UnreadPartRow>(
  `select cm.user_id, cm.conversation_id, cm.muted, cm.mention_seq, cm.read_seq, c.max_seq,
     (select count(*) from messages m
      where m.conversation_id = cm.conversation_id and m.m_type = ${MessageType.notice}
        and m.seq > cm.read_seq) as notices_after_read
   from conversation_members cm
   inner join conversations c on c.id = cm.conversation_id
   where cm.user_id = ?`,
);
const ALL_MEMBERS = new Precompiled<{ userId: string; joinSeq: number | string }>(
  'select user_id, join_seq from conversation_members where conversation_id = ?',
);

/** A user's own settings of a conversation. */
export interface MemberSettings {
  pinned?: boolean;
  muted?: boolean;
  isShow?: boolean;
}

export interface ConversationListRow extends MemberRow {
  maxSeq: number;
  /** Group notices after my readSeq (they never count as unread). */
  noticesAfterRead: number;
  lastMsgId: string | null;
}

/**
 * Conversations and each participant's state. Methods taking `trx` are meant to
 * run inside the caller's transaction.
 */
export class ConversationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async ensureConversation(
    trx: Kysely<Database>,
    id: string,
    chatType: ChatType,
    now: number,
  ): Promise<void> {
    await trx
      .insertInto('conversations')
      .values({ id, chatType, maxSeq: 0, lastMsgId: null, createdAt: now, updatedAt: now })
      .$call((insert) => skipExisting(trx, insert))
      .execute();
  }

  /**
   * Takes the next seq of a conversation, creating the conversation with seq 1 if
   * it is new, in one statement. The row write locks the conversation until the
   * transaction ends, so concurrent senders get consecutive seqs and commit in
   * seq order. (MySQL has no RETURNING: there the seq is read back in the same
   * transaction, from the row it has just locked.)
   */
  async takeNextSeq(
    trx: Kysely<Database>,
    conversation: { id: string; chatType: ChatType },
    msgId: string,
    now: number,
  ): Promise<number> {
    if (isMysql(trx)) {
      await trx
        .insertInto('conversations')
        .values({
          id: conversation.id,
          chatType: conversation.chatType,
          maxSeq: 1,
          lastMsgId: msgId,
          createdAt: now,
          updatedAt: now,
        })
        .onDuplicateKeyUpdate((eb) => ({
          maxSeq: eb('conversations.maxSeq', '+', 1),
          lastMsgId: msgId,
          updatedAt: now,
        }))
        .execute();
      return this.maxSeq(conversation.id, trx);
    }
    const row = await NEXT_SEQ.first(trx, [
      conversation.id,
      conversation.chatType,
      msgId,
      now,
      now,
    ]);
    return row!.maxSeq;
  }

  /**
   * takeNextSeq, synchronously, in a transaction where runsDirect (SQLite), also
   * reading what the single chat's send needs of its parties' rows as they were before
   * (NEXT_SEQ_AND_PAIR): the sender's read position (whether its row exists) and
   * whether the recipient's row exists and shows the conversation.
   */
  takeNextSeqWithPairNow(
    trx: Kysely<Database>,
    conversation: { id: string; chatType: ChatType },
    msgId: string,
    now: number,
    senderId: string,
    recipientId: string,
  ): PairBefore {
    const { id } = conversation;
    const row = directOn(NEXT_SEQ_AND_PAIR, trx).first([
      id,
      conversation.chatType,
      msgId,
      now,
      now,
      id,
      senderId,
      id,
      recipientId,
    ])!;
    return {
      seq: row.maxSeq,
      senderReadSeq: row.senderReadSeq ?? undefined,
      recipientShown: row.recipientShow === 1,
    };
  }

  /**
   * Whether a member's row exists and shows the conversation, synchronously, in a
   * transaction where runsDirect (SQLite): a single chat's send whose sender's read
   * position did not move (advanceReadNow says it otherwise).
   */
  shownNow(trx: Kysely<Database>, conversationId: string, userId: string): boolean {
    // Rare (no send sets a position ahead): the member's whole row, no statement of its own.
    return directOn(MEMBER, trx).first([conversationId, userId])?.isShow === 1;
  }

  /**
   * Takes `count` consecutive modSeqs of a conversation; returns the first. The
   * update locks the conversation row until the transaction ends, so changes to
   * its messages are serialized and commit in modSeq order (no RETURNING: MySQL
   * has none on UPDATE, and the row lock makes the read that follows ours).
   */
  async takeModSeqs(trx: Kysely<Database>, id: string, count: number): Promise<number> {
    await trx
      .updateTable('conversations')
      .set((eb) => ({ maxModSeq: eb('maxModSeq', '+', count) }))
      .where('id', '=', id)
      .execute();
    const row = await trx
      .selectFrom('conversations')
      .select('maxModSeq')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return Number(row.maxModSeq) - count + 1;
  }

  /** The seq and modSeq counters of a conversation (0 / 0 when it has none). */
  async counters(id: string): Promise<{ maxSeq: number; maxModSeq: number }> {
    const row = await this.db
      .selectFrom('conversations')
      .select(['maxSeq', 'maxModSeq'])
      .where('id', '=', id)
      .executeTakeFirst();
    return { maxSeq: row?.maxSeq ?? 0, maxModSeq: Number(row?.maxModSeq ?? 0) };
  }

  async maxSeq(id: string, trx: Kysely<Database> = this.db): Promise<number> {
    const row = await trx
      .selectFrom('conversations')
      .select('maxSeq')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.maxSeq ?? 0;
  }

  /** Adds participants that are absent; existing participants keep their state. */
  async ensureMembers(
    trx: Kysely<Database>,
    members: Array<
      Pick<MemberRow, 'conversationId' | 'userId' | 'chatType' | 'targetId' | 'joinSeq'>
    >,
    now: number,
    options: { show?: boolean } = {},
  ): Promise<void> {
    const insert = trx.insertInto('conversationMembers').values(
      members.map((member) => ({
        conversationId: member.conversationId,
        userId: member.userId,
        chatType: member.chatType,
        targetId: member.targetId,
        joinSeq: member.joinSeq,
        readSeq: member.joinSeq,
        isShow: 1,
        createdAt: now,
        updatedAt: now,
      })),
    );
    // A member row added (or shown again) changes the audience: its version moves too.
    const bumpIfChanged = async (results: Array<{ numInsertedOrUpdatedRows?: bigint }>) => {
      if (results.some((r) => (r.numInsertedOrUpdatedRows ?? 0n) > 0n)) {
        for (const id of new Set(members.map((m) => m.conversationId))) {
          await BUMP_MEMBERS_VERSION.execute(trx, [id]);
        }
      }
    };
    if (isMysql(trx)) {
      if (!options.show) return bumpIfChanged(await insert.ignore().execute());
      // MySQL assigns left to right: updated_at is decided while is_show still
      // holds the old value.
      const results = await insert
        .onDuplicateKeyUpdate({
          updatedAt: sql<number>`case when is_show = 0 then ${now} else updated_at end`,
          isShow: 1,
        })
        .execute();
      return bumpIfChanged(results);
    }
    const results = await insert
      .onConflict((oc) => {
        const target = oc.columns(['conversationId', 'userId']);
        // A new message shows a conversation its participant had hidden.
        return options.show
          ? target
              .doUpdateSet({ isShow: 1, updatedAt: now })
              .where('conversationMembers.isShow', '=', 0)
          : target.doNothing();
      })
      .execute();
    await bumpIfChanged(results);
  }

  /**
   * Makes `userIds` members of a group's conversation, creating the conversation if
   * it is new. They join at its current seq: they read what is sent from now on.
   * Existing members keep their place. Multi-row inserts of `batchSize` rows keep
   * under every engine's parameter limit.
   */
  async joinGroup(
    trx: Kysely<Database>,
    groupId: string,
    userIds: readonly string[],
    now: number,
    batchSize = 500,
  ): Promise<void> {
    await this.ensureConversation(trx, groupId, ChatType.group, now);
    const joinSeq = await this.maxSeq(groupId, trx);
    for (let i = 0; i < userIds.length; i += batchSize) {
      await this.ensureMembers(
        trx,
        userIds.slice(i, i + batchSize).map((userId) => ({
          conversationId: groupId,
          userId,
          chatType: ChatType.group,
          targetId: groupId,
          joinSeq,
        })),
        now,
      );
    }
  }

  /** The conversation's members version (undefined: no such conversation). */
  async membersVersion(conversationId: string): Promise<number | undefined> {
    const row = await MEMBERS_VERSION.first(this.db, [conversationId]);
    return row && Number(row.membersVersion);
  }

  /** Every member of a conversation with the seq they joined at, in no order. */
  async allMembers(conversationId: string): Promise<Array<{ userId: string; joinSeq: number }>> {
    const { rows } = await ALL_MEMBERS.execute(this.db, [conversationId]);
    return rows.map((r) => ({ userId: r.userId, joinSeq: Number(r.joinSeq) }));
  }

  /** A new message makes a hidden conversation visible again for everyone in it. */
  async showAll(trx: Kysely<Database>, conversationId: string, now: number) {
    const sqlite = SHOW_ALL_SQLITE.on(trx);
    if (sqlite) sqlite.write([now, conversationId]);
    else await SHOW_ALL.execute(trx, [now, conversationId]);
  }

  async member(
    conversationId: string,
    userId: string,
    trx: Kysely<Database> = this.db,
  ): Promise<MemberRow | undefined> {
    return MEMBER.first(trx, [conversationId, userId]);
  }

  /** The rows of two participants (those that exist), in one read. */
  async pair(
    trx: Kysely<Database>,
    conversationId: string,
    a: string,
    b: string,
  ): Promise<MemberRow[]> {
    return (await PAIR.execute(trx, [conversationId, a, b])).rows;
  }

  async members(conversationId: string): Promise<MemberRow[]> {
    return this.db
      .selectFrom('conversationMembers')
      .select(MEMBER_COLUMNS)
      .where('conversationId', '=', conversationId)
      .orderBy('userId')
      .execute();
  }

  /**
   * Participants who may see a message with seq `seq` (joined before it), in id
   * order after `after`, at most `limit`: the recipients of a group push, batched.
   */
  async audience(
    conversationId: string,
    seq: number,
    after: string | undefined,
    limit: number,
  ): Promise<string[]> {
    let q = this.db
      .selectFrom('conversationMembers')
      .select('userId')
      .where('conversationId', '=', conversationId)
      .where('joinSeq', '<', seq);
    if (after !== undefined) q = q.where('userId', '>', after);
    const rows = await q.orderBy('userId').limit(limit).execute();
    return rows.map((r) => r.userId);
  }

  /** Every conversation of a user, with what the list view needs, in one query. */
  async listForUser(userId: string): Promise<ConversationListRow[]> {
    return this.db
      .selectFrom('conversationMembers as cm')
      .innerJoin('conversations as c', 'c.id', 'cm.conversationId')
      .select((eb) => [
        'cm.conversationId',
        'cm.userId',
        'cm.chatType',
        'cm.targetId',
        'cm.readSeq',
        'cm.joinSeq',
        'cm.isShow',
        'cm.pinned',
        'cm.muted',
        'cm.clearSeq',
        'cm.mentionSeq',
        'c.maxSeq',
        'c.lastMsgId',
        noticesAfterRead(eb),
      ])
      .where('cm.userId', '=', userId)
      .orderBy('cm.pinned', 'desc')
      .orderBy('c.updatedAt', 'desc')
      .execute()
      .then((rows) =>
        rows.map((r) => ({ ...r, noticesAfterRead: Number(r.noticesAfterRead ?? 0) })),
      );
  }

  /**
   * What the unread counts of these users' conversation lists are made of, for all of
   * them in one query (a push's badges: a conversation list per offline recipient was
   * a query and a read of every last message each; docs/performance-log.md, "The reconnect
   * storm one store at a time"). With each row's mute and mention, so a push learns from
   * the same query who muted its conversation.
   */
  async unreadPartsOf(userIds: readonly string[]): Promise<UnreadPart[]> {
    if (userIds.length === 0) return [];
    const rows =
      userIds.length === 1
        ? (await UNREAD_PARTS_OF_ONE.execute(this.db, [userIds[0]])).rows
        : await unreadPartsQuery(this.db, userIds).execute();
    return rows.map((r) => ({
      userId: r.userId,
      conversationId: r.conversationId,
      muted: Number(r.muted) === 1,
      mentionSeq: Number(r.mentionSeq),
      maxSeq: Number(r.maxSeq),
      readSeq: Number(r.readSeq),
      noticesAfterRead: Number(r.noticesAfterRead ?? 0),
    }));
  }

  /**
   * A sender has read its conversation up to its own message: moves its readSeq to
   * `seq` (never back). Returns its state as it was before, when readSeq moved.
   */
  async readUpToOwn(
    trx: Kysely<Database>,
    conversationId: string,
    userId: string,
    seq: number,
    now: number,
  ): Promise<MemberRow | undefined> {
    const row = await this.member(conversationId, userId, trx);
    return row ? this.readUpToOwnFrom(trx, row, seq, now) : undefined;
  }

  /** readUpToOwn, from the member's row as the caller read it in this transaction. */
  async readUpToOwnFrom(
    trx: Kysely<Database>,
    row: MemberRow,
    seq: number,
    now: number,
  ): Promise<MemberRow | undefined> {
    if (row.readSeq >= seq) return undefined;
    await this.advanceRead(trx, row.conversationId, row.userId, seq, now);
    return row;
  }

  /** Marks members mentioned by a message (all of them for @all). */
  async mention(
    trx: Kysely<Database>,
    conversationId: string,
    userIds: readonly string[] | 'all',
    seq: number,
  ): Promise<void> {
    if (userIds !== 'all' && userIds.length === 0) return;
    let q = trx
      .updateTable('conversationMembers')
      .set({ mentionSeq: seq })
      .where('conversationId', '=', conversationId)
      .where('mentionSeq', '<', seq);
    if (userIds !== 'all') q = q.where('userId', 'in', userIds);
    await q.execute();
  }

  /** Sets the user's floor: history and sync start after `clearSeq` (never moves back). */
  async clear(
    trx: Kysely<Database>,
    conversationId: string,
    userId: string,
    clearSeq: number,
    now: number,
  ): Promise<void> {
    await trx
      .updateTable('conversationMembers')
      .set({ clearSeq, updatedAt: now })
      .where('conversationId', '=', conversationId)
      .where('userId', '=', userId)
      .where('clearSeq', '<', clearSeq)
      .execute();
  }

  /** Pinned, muted and shown, as the user set them. */
  async setSettings(
    conversationId: string,
    userId: string,
    settings: MemberSettings,
    now: number,
  ): Promise<void> {
    const flag = (value: boolean | undefined) => (value === undefined ? undefined : value ? 1 : 0);
    const { pinned, muted, isShow } = settings;
    if (pinned === undefined && muted === undefined && isShow === undefined) return;
    // Kysely leaves out undefined values: only the settings given are written.
    await this.db
      .updateTable('conversationMembers')
      .set({ pinned: flag(pinned), muted: flag(muted), isShow: flag(isShow), updatedAt: now })
      .where('conversationId', '=', conversationId)
      .where('userId', '=', userId)
      .execute();
  }

  /** Moves readSeq forward (never back). Returns whether it moved. */
  async advanceRead(
    trx: Kysely<Database>,
    conversationId: string,
    userId: string,
    readSeq: number,
    now: number,
  ): Promise<boolean> {
    return (await ADVANCE_READ.affected(trx, [readSeq, now, conversationId, userId, readSeq])) > 0;
  }

  /**
   * advanceRead, synchronously, in a transaction where runsDirect (SQLite). Returns the
   * row's pinned, muted, clearSeq and isShow if it moved (untouched by the move).
   */
  advanceReadNow(
    trx: Kysely<Database>,
    conversationId: string,
    userId: string,
    readSeq: number,
    now: number,
  ): Pick<MemberRow, 'pinned' | 'muted' | 'clearSeq' | 'isShow'> | undefined {
    return directOn(ADVANCE_READ_NOW, trx).first([readSeq, now, conversationId, userId, readSeq]);
  }

  async setShow(conversationId: string, userId: string, isShow: boolean, now: number) {
    await this.db
      .updateTable('conversationMembers')
      .set({ isShow: isShow ? 1 : 0, updatedAt: now })
      .where('conversationId', '=', conversationId)
      .where('userId', '=', userId)
      .execute();
  }

  async removeMember(trx: Kysely<Database>, conversationId: string, userId: string) {
    await trx
      .deleteFrom('conversationMembers')
      .where('conversationId', '=', conversationId)
      .where('userId', '=', userId)
      .execute();
    await BUMP_MEMBERS_VERSION.execute(trx, [conversationId]);
  }

  async removeAllMembers(trx: Kysely<Database>, conversationId: string) {
    await trx
      .deleteFrom('conversationMembers')
      .where('conversationId', '=', conversationId)
      .execute();
    await BUMP_MEMBERS_VERSION.execute(trx, [conversationId]);
  }
}

/** unreadPartsOf's row as the store returns it. */
interface UnreadPartRow {
  userId: string;
  conversationId: string;
  muted: number | string;
  mentionSeq: number | string;
  maxSeq: number | string;
  readSeq: number | string;
  noticesAfterRead: number | string | null;
}

/** One member's row as a badge (and a push's mute check) reads it. */
export interface UnreadPart {
  userId: string;
  conversationId: string;
  muted: boolean;
  /** The latest message that mentioned the member. */
  mentionSeq: number;
  maxSeq: number;
  readSeq: number;
  noticesAfterRead: number;
}

/** unreadPartsOf's query (its plan is tested: no scan of the unread messages). */
export function unreadPartsQuery(db: Kysely<Database>, userIds: readonly string[]) {
  return db
    .selectFrom('conversationMembers as cm')
    .innerJoin('conversations as c', 'c.id', 'cm.conversationId')
    .select((eb) => [
      'cm.userId',
      'cm.conversationId',
      'cm.muted',
      'cm.mentionSeq',
      'cm.readSeq',
      'c.maxSeq',
      noticesAfterRead(eb),
    ])
    .where('cm.userId', 'in', userIds);
}

/**
 * The group notices after a member's read position, as a subquery of a select from
 * `conversation_members as cm`: with the member's own messages, what never counts as
 * unread. Own messages need no count: sending marks read, so none is ever after its
 * sender's read position (migration 0019 brought older rows in line). The notices are
 * counted through their own index (partial where the store has them: the literal
 * `m_type = 10` is what lets the planner take it), so the count walks the notices after
 * the read position, never the unread messages; it used to walk them all, and an
 * offline recipient's badge cost grew with its unread (docs/performance-log.md, "An
 * unread count that scanned the unread").
 */
function noticesAfterRead(eb: ExpressionBuilder<MemberListScope, 'cm' | 'c'>) {
  return eb
    .selectFrom('messages as m')
    .select(eb.fn.countAll<number>().as('n'))
    .whereRef('m.conversationId', '=', 'cm.conversationId')
    .where(sql<boolean>`m.m_type = ${sql.lit(MessageType.notice)}`)
    .whereRef('m.seq', '>', 'cm.readSeq')
    .as('noticesAfterRead');
}

/** The tables a member list's select sees: members as `cm`, their conversations as `c`. */
type MemberListScope = Database & {
  cm: Database['conversationMembers'];
  c: Database['conversations'];
};
