import { PostgresAdapter, type Kysely } from 'kysely';
import { Precompiled, runsDirect } from '../../adapters/storage/precompiled.js';
import type { Database } from '../../adapters/storage/schema.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import {
  MEMBER_SQL_COLUMNS,
  type ConversationRepository,
  type MemberRow,
} from './conversation.repository.js';
import type { Message } from './im.entity.js';
import { messageColumns, type MessageRepository } from './message.repository.js';

/** A single-chat message about to be stored: everything but its seq. */
export type PairMessage = Omit<Message, 'seq'>;

/** What storing a single-chat message left to its caller. */
export interface PairStored {
  seq: number;
  /** The rows of sender and recipient (those that exist) as they were before. */
  before: MemberRow[];
}

/**
 * The usual work of a single-chat send, inside the caller's transaction: take the
 * conversation's next seq (creating it on the first message), insert the message,
 * write its `message-sent` outbox row, move the sender's read position up to it
 * when the sender's row exists, and read both parties' rows as they were. The rare
 * rest (rows to create or show again) is the caller's, from `before`.
 *
 * The statements differ per engine (pairSendStore), the result does not: a unique
 * violation on (sender, clientMsgId) fails the whole unit, so a retry takes no seq.
 */
export interface PairSendStore {
  store(trx: Kysely<Database>, message: PairMessage): Promise<PairStored>;
}

interface Deps {
  conversations: ConversationRepository;
  messages: MessageRepository;
  events: EventRecorder;
}

/** The store for `db`'s engine: one statement on PostgreSQL, a few elsewhere. */
export function pairSendStore(db: Kysely<Database>, deps: Deps): PairSendStore {
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? new PostgresPairSendStore(deps)
    : new PortablePairSendStore(deps);
}

/** The `message-sent` payload of a message (its seq set by the caller). */
export function messageSentPayload(message: Message) {
  return {
    msgId: message.msgId,
    conversationId: message.conversationId,
    chatType: message.chatType,
    seq: message.seq,
    sendId: message.sendId,
    recvId: message.recvId,
    mType: message.mType,
    sendTime: message.sendTime,
  };
}

/** SQLite and MySQL: one statement each (SQLite runs them in-process, no round trips). */
class PortablePairSendStore implements PairSendStore {
  constructor(private readonly deps: Deps) {}

  async store(trx: Kysely<Database>, draft: PairMessage): Promise<PairStored> {
    if (runsDirect(trx)) return this.storeNow(trx, draft);
    const { conversations, messages, events } = this.deps;
    const { conversationId, chatType, msgId, sendId, recvId, sendTime } = draft;
    const seq = await conversations.takeNextSeq(
      trx,
      { id: conversationId, chatType },
      msgId,
      sendTime,
    );
    const message = { ...draft, seq };
    await messages.insert(trx, message);
    const before = await conversations.pair(trx, conversationId, sendId, recvId);
    const sender = before.find((r) => r.userId === sendId);
    if (sender && sender.readSeq < seq) {
      await conversations.advanceRead(trx, conversationId, sendId, seq, sendTime);
    }
    await events.record(trx, 'message-sent', conversationId, messageSentPayload(message));
    return { seq, before };
  }

  /**
   * The same statements on SQLite, where they run synchronously on the transaction's
   * handle: one call, no promise per statement (five statements, each awaited through
   * two or three async functions, were a fifth of what a message allocated).
   */
  private storeNow(trx: Kysely<Database>, draft: PairMessage): PairStored {
    const { conversations, messages, events } = this.deps;
    const { conversationId, chatType, msgId, sendId, recvId, sendTime } = draft;
    const seq = conversations.takeNextSeqNow(
      trx,
      { id: conversationId, chatType },
      msgId,
      sendTime,
    );
    const message = { ...draft, seq };
    messages.insertNow(trx, message);
    const before = conversations.pairNow(trx, conversationId, sendId, recvId);
    const sender = before.find((r) => r.userId === sendId);
    if (sender && sender.readSeq < seq) {
      conversations.advanceReadNow(trx, conversationId, sendId, seq, sendTime);
    }
    events.recordNow(trx, 'message-sent', conversationId, messageSentPayload(message));
    return { seq, before };
  }
}

/**
 * PostgreSQL: the whole usual path in one statement, a round trip saved per step.
 * Its parts see one snapshot, the one before the statement: `pair` reads the rows as
 * they were while `advanced` moves the sender's read position. The seq is known only
 * inside the statement, so the outbox envelope is joined around it there.
 */
const STORE_PAIR = new Precompiled<{ seq: number } & Partial<MemberRow>>(
  `with taken as (
     insert into conversations (id, chat_type, max_seq, last_msg_id, created_at, updated_at)
     values (?, ?, 1, ?, ?, ?)
     on conflict (id) do update set max_seq = conversations.max_seq + 1,
       last_msg_id = excluded.last_msg_id, updated_at = excluded.updated_at
     returning max_seq
   ), message as (
     insert into messages (id, conversation_id, seq, chat_type, send_id, recv_id, send_time,
       m_type, content, client_msg_id, reply_msg_id, reply_to, at_user_ids, at_all)
     values (?, ?, (select max_seq from taken), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
   ), event as (
     insert into outbox_events (id, type, aggregate, partition_key, envelope, created_at,
       published_at, attempts)
     values (?, ?, ?, ?, ?::text || (select max_seq from taken) || ?::text, ?, null, 0)
   ), pair as (
     select ${MEMBER_SQL_COLUMNS}
     from conversation_members where conversation_id = ? and user_id in (?, ?)
   ), advanced as (
     update conversation_members set read_seq = taken.max_seq, updated_at = ?
     from taken
     where conversation_id = ? and user_id = ? and read_seq < taken.max_seq
   )
   select taken.max_seq as seq, pair.* from taken left join pair on true`,
);

class PostgresPairSendStore implements PairSendStore {
  constructor(private readonly deps: Deps) {}

  async store(trx: Kysely<Database>, draft: PairMessage): Promise<PairStored> {
    const { conversationId, chatType, msgId, sendId, recvId, sendTime } = draft;
    const event = this.deps.events.withHole(
      'message-sent',
      conversationId,
      messageSentPayload({ ...draft, seq: 0 }),
      'seq',
    );
    const { rows } = await STORE_PAIR.execute(trx, [
      ...[conversationId, chatType, msgId, sendTime, sendTime],
      ...[msgId, conversationId, ...messageColumns(draft)],
      ...[event.id, event.type, event.aggregate, event.partitionKey, event.head, event.tail],
      event.createdAt,
      ...[conversationId, sendId, recvId],
      ...[sendTime, conversationId, sendId],
    ]);
    const seq = rows[0]!.seq;
    event.recorded(seq);
    const before = rows.filter((r) => r.userId != null).map(({ seq: _, ...row }) => row);
    return { seq, before: before as MemberRow[] };
  }
}
