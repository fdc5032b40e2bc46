import type { Kysely } from 'kysely';
import { finalStatement } from '../../adapters/storage/group-commit.js';
import { isPostgres } from '../../adapters/storage/portable.js';
import { Precompiled, runsDirect } from '../../adapters/storage/precompiled.js';
import type { Database } from '../../adapters/storage/schema.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import { isJsonNumber, jsonString } from '../../shared/json-text.js';
import type { ConversationRepository, MemberRow } from './conversation.repository.js';
import { SYSTEM_SENDER, type Message } from './im.entity.js';
import { messageColumns, type MessageRepository } from './message.repository.js';

/** A single-chat message about to be stored: everything but its seq. */
export type PairMessage = Omit<Message, 'seq'>;

/**
 * What storing a single-chat message left to its caller: its seq, and what the send
 * needs of both parties' rows as they were (the same as storeNow's).
 */
export interface PairStored extends PairStoredNow {
  seq: number;
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
  /**
   * `last`: the caller's unit makes no statement after this one unless the result says
   * rows are to be created or shown (ChatService.showSingle). Then, on PostgreSQL, a
   * batch whose units are all such sends (and riders that declared their one
   * statement) goes with COMMIT right behind its statement (finalStatement), and that
   * statement fails, to be run again with COMMIT after the units, where rows are to be
   * created or shown.
   */
  store(trx: Kysely<Database>, message: PairMessage, last?: boolean): Promise<PairStored>;
  /**
   * The same work synchronously, where the engine runs statements so (SQLite, in a
   * transaction where runsDirect): sets `message.seq` and says what the caller needs
   * of the rows as they were. Undefined (nothing done) elsewhere: use `store`.
   */
  storeNow?(trx: Kysely<Database>, message: Message): PairStoredNow | undefined;
}

/** The sender's row before its read position moved to its message, as its push shows it. */
export type ReadBefore = Pick<
  MemberRow,
  'conversationId' | 'readSeq' | 'isShow' | 'pinned' | 'muted' | 'clearSeq'
>;

/** What storing a single-chat message synchronously left to its caller (storeNow). */
export interface PairStoredNow {
  /** The sender's row exists (then its read position was moved if it was behind). */
  senderRow: boolean;
  /** The sender's row exists and showed the conversation. */
  senderShown: boolean;
  /** The recipient's row exists and showed the conversation. */
  recipientShown: boolean;
  /** The sender's row before its read position moved (none if it did not move). */
  readBefore: ReadBefore | undefined;
}

/** What a send reads of a party's row as it was. */
type PartyBefore = Pick<MemberRow, 'readSeq' | 'isShow' | 'pinned' | 'muted' | 'clearSeq'>;

/** A send's result from its parties' rows as they were (undefined: no row). */
function storedFrom(
  conversationId: string,
  seq: number,
  sender: PartyBefore | undefined,
  recipient: PartyBefore | undefined,
): PairStored {
  return {
    seq,
    senderRow: sender !== undefined,
    senderShown: sender?.isShow === 1,
    recipientShown: recipient?.isShow === 1,
    // The sender's row as showSingle leaves it (shown), before the store moved it.
    readBefore:
      sender && sender.readSeq < seq
        ? {
            conversationId,
            readSeq: sender.readSeq,
            isShow: 1,
            pinned: sender.pinned,
            muted: sender.muted,
            clearSeq: sender.clearSeq,
          }
        : undefined,
  };
}

interface Deps {
  conversations: ConversationRepository;
  messages: MessageRepository;
  events: EventRecorder;
}

/**
 * The store for `db`'s engine: on PostgreSQL one statement for all the sends of a
 * transaction made in the same turn (a group commit batch's), a few per send elsewhere.
 */
export function pairSendStore(db: Kysely<Database>, deps: Deps): PairSendStore {
  return isPostgres(db) ? new PostgresPairSendStore(deps) : new PortablePairSendStore(deps);
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

/**
 * `JSON.stringify(messageSentPayload(…))`, byte for byte, written from its fields in
 * the payload's key order: the outbox row's envelope is joined around it
 * (EventRecorder.recordNow) instead of stringified whole, once per message. A payload
 * whose fields are not of their types (never, by the types) is stringified as it is.
 */
export function messageSentJson(payload: ReturnType<typeof messageSentPayload>): string {
  const { msgId, conversationId, chatType, seq, sendId, recvId, mType, sendTime } = payload;
  if (
    typeof msgId !== 'string' ||
    typeof conversationId !== 'string' ||
    typeof sendId !== 'string' ||
    typeof recvId !== 'string' ||
    !isJsonNumber(chatType) ||
    !isJsonNumber(seq) ||
    !isJsonNumber(mType) ||
    !isJsonNumber(sendTime)
  ) {
    return JSON.stringify(payload);
  }
  return (
    '{"msgId":' +
    jsonString(msgId) +
    ',"conversationId":' +
    jsonString(conversationId) +
    ',"chatType":' +
    String(chatType) +
    ',"seq":' +
    String(seq) +
    ',"sendId":' +
    jsonString(sendId) +
    ',"recvId":' +
    jsonString(recvId) +
    ',"mType":' +
    String(mType) +
    ',"sendTime":' +
    String(sendTime) +
    '}'
  );
}

/** Writes a stored message's `message-sent` outbox row (its payload's text by messageSentJson). */
export function recordMessageSent(
  events: EventRecorder,
  trx: Kysely<Database>,
  message: Message,
): Promise<unknown> {
  const payload = messageSentPayload(message);
  const json = messageSentJson(payload);
  return events.record(trx, 'message-sent', message.conversationId, payload, undefined, json);
}

/** SQLite and MySQL: one statement each (SQLite runs them in-process, no round trips). */
class PortablePairSendStore implements PairSendStore {
  constructor(private readonly deps: Deps) {}

  async store(trx: Kysely<Database>, draft: PairMessage): Promise<PairStored> {
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
    await recordMessageSent(events, trx, message);
    return storedFrom(
      conversationId,
      seq,
      sender,
      before.find((r) => r.userId === recvId),
    );
  }

  /**
   * The same work on SQLite, where the statements run synchronously on the
   * transaction's handle: one call, no promise per statement (five statements, each
   * awaited through two or three async functions, were a fifth of what a message
   * allocated), and no copy of the message. Four statements, not five: the seq's upsert
   * also reads what the send needs of the recipient's row and the sender's read position
   * (takeNextSeqWithPairNow), and the read position's move, which every new message
   * makes, returns the rest of the sender's (advanceReadNow). Nothing between the upsert
   * and the move changes the rows: the message insert writes only `messages`.
   */
  storeNow(trx: Kysely<Database>, message: Message): PairStoredNow | undefined {
    if (!runsDirect(trx)) return undefined;
    const { conversations, messages, events } = this.deps;
    const { conversationId, chatType, msgId, sendId, recvId, sendTime } = message;
    const before = conversations.takeNextSeqWithPairNow(
      trx,
      { id: conversationId, chatType },
      msgId,
      sendTime,
      sendId,
      recvId,
    );
    const { seq, senderReadSeq } = before;
    message.seq = seq;
    messages.insertNow(trx, message);
    let readBefore: ReadBefore | undefined;
    let senderShown = false;
    if (senderReadSeq !== undefined) {
      const kept =
        senderReadSeq < seq
          ? conversations.advanceReadNow(trx, conversationId, sendId, seq, sendTime)
          : undefined;
      if (kept) {
        const { pinned, muted, clearSeq, isShow } = kept;
        senderShown = isShow === 1;
        // Shown: the caller shows the conversation again if it was hidden.
        readBefore = { conversationId, readSeq: senderReadSeq, isShow: 1, pinned, muted, clearSeq };
      } else {
        // A read position set ahead of the conversation (never by a send): not moved.
        senderShown = conversations.shownNow(trx, conversationId, sendId);
      }
    }
    const payload = messageSentPayload(message);
    events.recordNow(trx, 'message-sent', conversationId, payload, messageSentJson(payload));
    return {
      senderRow: senderReadSeq !== undefined,
      senderShown,
      recipientShown: before.recipientShown,
      readBefore,
    };
  }
}

/**
 * PostgreSQL: the usual path of every single-chat send of a transaction in one
 * statement. The units of a group commit batch share one transaction and reach the
 * store in the same turn (PipelinedGroupCommitter starts them all at once), so their
 * sends are gathered and stored together at the end of that turn: one statement for
 * the batch, as the ceiling does it (bench/peers/ceiling-chat-pg.ts), instead of one
 * per message. A send that comes later (another turn) goes in a statement of its own,
 * which sees what the earlier ones wrote, as a send alone always did.
 *
 * Each conversation's max_seq is bumped by its number of messages in the statement,
 * and they take its next seqs in the order they came (dense, ordered). Each sender's
 * read position is moved once, to its last message. The parts see one snapshot, the
 * one before the statement: its final select reads both parties' rows as they were,
 * and each send's result is made from them as the statement per message read them (a
 * send by the same sender earlier in the batch had moved the sender's read position).
 * That read joins each conversation's row to its parties' rows on their primary key
 * straight from the final select: a CTE of the rows joined to the conversations
 * afterwards was planned as a hash of each conversation's rows rebuilt and probed
 * with every conversation of the batch (n² for n conversations), about a fifth of
 * the statement's CPU (docs/performance-log.md, "PostgreSQL's own CPU per message").
 *
 * What the batch holds while the statement runs is what survives a scavenge when
 * PostgreSQL answers late (docs/performance-log.md, "What survives a scavenge, message by
 * message"), so the statement is sent and answers as little as it can:
 * - The outbox envelope is made by the statement from the columns it writes anyway,
 *   around the recorder's texts for the type (EventRecorder.envelopeParts), not sent
 *   as two texts a message. It is `JSON.stringify` of the event byte for byte:
 *   `to_json` escapes a string as JSON.stringify does (quotes, backslash, \b \f \n \r
 *   \t, other control characters as lowercase \u00xx, nothing else), integers are
 *   written alike, and the payload's keys come in messageSentJson's order. The one
 *   difference, a lone surrogate (which JSON.stringify escapes), cannot reach
 *   PostgreSQL: pg sends it as U+FFFD, which both the row's columns and its envelope
 *   then hold, and so does the event the recorder's listener is told of (asStored).
 * - Its answer is a row per conversation of numbers only: the conversation's place
 *   in the batch (not its id), its max_seq, and what the sends read of both parties'
 *   rows (not the rows).
 *
 * A unique violation on (sender, clientMsgId) fails the statement and with it every
 * send in it: the batch is rolled back and its units run again, each alone
 * (GroupCommit), so a retry takes no seq. The input is sorted by conversation id, so
 * two server processes lock conversations in the same order (no deadlock between them).
 *
 * Strict (its last parameter true), the statement also fails where a send would need
 * more than it does: a conversation whose parties' rows (the system's aside) are not
 * all there and shown, which ChatService.showSingle would then create or show. That
 * is how it goes as the last statement of its batch with COMMIT right behind it
 * (finalStatement): it either does all its units' work or fails, aborting the
 * transaction, which then runs again with COMMIT after its units (and the rows shown).
 */
const STORE_PAIRS = new Precompiled<PairsRow>(
  `with conv (c_id, c_type, c_n, c_last, c_created, c_updated, c_a, c_b, c_i) as (
     select * from unnest(?::text[], ?::smallint[], ?::bigint[], ?::text[], ?::bigint[],
       ?::bigint[], ?::text[], ?::text[]) with ordinality
   ), taken as (
     insert into conversations (id, chat_type, max_seq, last_msg_id, created_at, updated_at)
     select c_id, c_type, c_n, c_last, c_created, c_updated from conv
     on conflict (id) do update set max_seq = conversations.max_seq + excluded.max_seq,
       last_msg_id = excluded.last_msg_id, updated_at = excluded.updated_at
     returning id, max_seq
   ), base (b_id, b_seq) as (
     select taken.id, taken.max_seq - conv.c_n from taken join conv on conv.c_id = taken.id
   ), sent as (
     select * from unnest(?::text[], ?::text[], ?::bigint[], ?::smallint[], ?::text[],
       ?::text[], ?::bigint[], ?::smallint[], ?::text[], ?::text[], ?::text[], ?::text[],
       ?::text[], ?::smallint[], ?::text[], ?::bigint[])
       with ordinality as s (s_id, s_conv, s_rank, s_chat_type, s_send_id, s_recv_id,
         s_send_time, s_m_type, s_content, s_client_msg_id, s_reply_msg_id, s_reply_to,
         s_at_user_ids, s_at_all, s_event_id, s_event_at, s_ord)
   ), message as (
     insert into messages (id, conversation_id, seq, chat_type, send_id, recv_id, send_time,
       m_type, content, client_msg_id, reply_msg_id, reply_to, at_user_ids, at_all)
     select s_id, s_conv, b_seq + s_rank, s_chat_type, s_send_id, s_recv_id, s_send_time,
       s_m_type, s_content, s_client_msg_id, s_reply_msg_id, s_reply_to, s_at_user_ids, s_at_all
     from sent join base on b_id = s_conv
   ), event as (
     insert into outbox_events (id, type, aggregate, partition_key, envelope, created_at,
       published_at, attempts)
     select s_event_id, ?, ?, s_conv,
       ?::text || s_event_id || ?::text || s_event_at || ?::text
         || '{"msgId":' || to_json(s_id)::text
         || ',"conversationId":' || to_json(s_conv)::text
         || ',"chatType":' || s_chat_type || ',"seq":' || (b_seq + s_rank)
         || ',"sendId":' || to_json(s_send_id)::text || ',"recvId":' || to_json(s_recv_id)::text
         || ',"mType":' || s_m_type || ',"sendTime":' || s_send_time || '}' || ?::text,
       s_event_at, null, 0
     from sent join base on b_id = s_conv order by s_ord
   ), advanced as (
     update conversation_members set read_seq = b_seq + r_rank, updated_at = r_at
     from unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[]) as r (r_conv, r_user, r_rank, r_at)
       join base on b_id = r_conv
     where conversation_id = r_conv and user_id = r_user and read_seq < b_seq + r_rank
   )
   select
     case when ?::boolean
         and ((c_a <> '${SYSTEM_SENDER}' and a.is_show is distinct from 1)
           or (c_b <> '${SYSTEM_SENDER}' and b.is_show is distinct from 1))
       then ('pair send: rows to show in ' || taken.id)::int
       else c_i::int end as i,
     taken.max_seq as seq,
     a.read_seq as a_read, a.is_show as a_show, a.pinned as a_pinned, a.muted as a_muted,
     a.clear_seq as a_clear,
     b.read_seq as b_read, b.is_show as b_show, b.pinned as b_pinned, b.muted as b_muted,
     b.clear_seq as b_clear
   from taken join conv on c_id = taken.id
     left join conversation_members a on a.conversation_id = c_id and a.user_id = c_a
     left join conversation_members b on b.conversation_id = c_id and b.user_id = c_b`,
);

/**
 * STORE_PAIRS's row of a conversation: its place in the batch (from 1), its max_seq,
 * and its parties' rows as they were (null: no row), party a being its first send's
 * sender, b that send's recipient.
 */
interface PairsRow {
  i: number;
  seq: number;
  aRead: number | null;
  aShow: number;
  aPinned: number;
  aMuted: number;
  aClear: number;
  bRead: number | null;
  bShow: number;
  bPinned: number;
  bMuted: number;
  bClear: number;
}

/** A party's row as STORE_PAIRS read it, undefined without one. */
function partyOf(
  readSeq: number | null,
  isShow: number,
  pinned: number,
  muted: number,
  clearSeq: number,
): PartyBefore | undefined {
  return readSeq === null ? undefined : { readSeq, isShow, pinned, muted, clearSeq };
}

/** A lone surrogate: half of a UTF-16 pair alone, which UTF-8 (so PostgreSQL) cannot hold. */
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

/**
 * A string as PostgreSQL stores it: pg sends strings as UTF-8, where each lone
 * surrogate becomes U+FFFD (Buffer's encoding); anything else is stored as it is.
 */
function asStored(text: string): string {
  return LONE_SURROGATE.test(text) ? text.replace(LONE_SURROGATES, '\uFFFD') : text;
}

/** The columns of STORE_PAIRS's `sent` before the event's: messageColumns' and the rank. */
const EVENT_ID_COLUMN = 14;
const EVENT_AT_COLUMN = 15;

/** A send waiting for its transaction's statement. */
interface PendingSend {
  draft: PairMessage;
  /** Its unit makes no statement after it but the rare ones (PairSendStore.store). */
  last: boolean;
  resolve: (stored: PairStored) => void;
  reject: (err: unknown) => void;
}

class PostgresPairSendStore implements PairSendStore {
  /** The sends of each transaction not stored yet (stored at the end of the turn). */
  private readonly pending = new WeakMap<Kysely<Database>, PendingSend[]>();

  constructor(private readonly deps: Deps) {}

  store(trx: Kysely<Database>, draft: PairMessage, last = false): Promise<PairStored> {
    return new Promise((resolve, reject) => {
      const sends = this.pending.get(trx);
      if (sends) {
        sends.push({ draft, last, resolve, reject });
        return;
      }
      const gathered = [{ draft, last, resolve, reject }];
      this.pending.set(trx, gathered);
      // After the units that start in this turn have made their sends.
      queueMicrotask(() => {
        this.pending.delete(trx);
        this.storeAll(trx, gathered).catch((err: unknown) => {
          for (const send of gathered) send.reject(err);
        });
      });
    });
  }

  private async storeAll(trx: Kysely<Database>, sends: PendingSend[]): Promise<void> {
    const { events } = this.deps;
    // Each conversation's sends in the order they came; conversations in id order.
    const byConversation = new Map<string, PendingSend[]>();
    for (const send of sends) {
      const { conversationId } = send.draft;
      const same = byConversation.get(conversationId);
      if (same) same.push(send);
      else byConversation.set(conversationId, [send]);
    }
    const conversationIds = [...byConversation.keys()].sort();
    const conv: unknown[][] = [[], [], [], [], [], [], [], []];
    const sent: unknown[][] = Array.from({ length: 16 }, () => []);
    const read: unknown[][] = [[], [], [], []];
    for (const conversationId of conversationIds) {
      const same = byConversation.get(conversationId)!;
      const first = same[0]!.draft;
      const last = same[same.length - 1]!.draft;
      const row = [conversationId, first.chatType, same.length, last.msgId, first.sendTime];
      row.push(last.sendTime, first.sendId, first.recvId);
      row.forEach((value, i) => conv[i]!.push(value));
      const lastOf = new Map<string, { rank: number; at: number }>();
      same.forEach(({ draft }, i) => {
        const { id, timestamp } = events.stamp();
        const values = messageColumns(draft, [draft.msgId, conversationId, i + 1]);
        values.push(id, timestamp);
        values.forEach((value, j) => sent[j]!.push(value));
        lastOf.set(draft.sendId, { rank: i + 1, at: draft.sendTime });
      });
      for (const [userId, { rank, at }] of lastOf) {
        [conversationId, userId, rank, at].forEach((value, j) => read[j]!.push(value));
      }
    }
    const type = 'message-sent';
    // Every unit the batch waits for is here, each making no other statement (the rare
    // ones aside, which the strict statement fails on): COMMIT goes right behind it.
    const final = sends.every((send) => send.last) ? finalStatement(trx, sends.length) : undefined;
    const { rows } = await STORE_PAIRS.execute(final ?? trx, [
      ...conv,
      ...sent,
      type,
      events.aggregateOf(type),
      ...events.envelopeParts(type),
      ...read,
      final !== undefined,
    ]);
    const byPlace: PairsRow[] = [];
    for (const row of rows) byPlace[row.i - 1] = row;
    const eventIds = sent[EVENT_ID_COLUMN] as string[];
    const eventTimes = sent[EVENT_AT_COLUMN] as number[];
    let e = 0;
    conversationIds.forEach((conversationId, place) => {
      const same = byConversation.get(conversationId)!;
      const row = byPlace[place]!;
      const first = same[0]!.draft;
      // Both parties' rows as the statement read them; each send's result as its own
      // statement would have read them: with the read position moved by the same
      // sender's sends before it.
      const a = partyOf(row.aRead, row.aShow, row.aPinned, row.aMuted, row.aClear);
      const b =
        first.recvId === first.sendId
          ? a
          : partyOf(row.bRead, row.bShow, row.bPinned, row.bMuted, row.bClear);
      let seq = row.seq - same.length;
      for (const { draft, resolve } of same) {
        seq += 1;
        const sender = draft.sendId === first.sendId ? a : b;
        const recipient = draft.recvId === first.sendId ? a : b;
        const payload = messageSentPayload({ ...draft, seq });
        payload.msgId = asStored(payload.msgId);
        payload.conversationId = asStored(payload.conversationId);
        payload.sendId = asStored(payload.sendId);
        payload.recvId = asStored(payload.recvId);
        events.written(type, eventIds[e]!, eventTimes[e]!, payload, messageSentJson(payload));
        e += 1;
        resolve(storedFrom(conversationId, seq, sender, recipient));
        if (sender && sender.readSeq < seq) sender.readSeq = seq;
      }
    });
  }
}
