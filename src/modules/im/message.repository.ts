import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database, MessagesTable } from '../../adapters/storage/schema.js';
import type { ChatType, Message } from './im.entity.js';

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
}

/** Messages in SQL; every read is by (conversation, seq) or an id. */
export class MessageRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(trx: Kysely<Database>, message: Message): Promise<void> {
    await trx.insertInto('messages').values(toRow(message)).execute();
  }

  async findById(id: string): Promise<Message | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toMessage(row);
  }

  async findByIds(ids: string[]): Promise<Message[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('messages').selectAll().where('id', 'in', ids).execute();
    return rows.map(toMessage);
  }

  async findByClientMsgId(sendId: string, clientMsgId: string): Promise<Message | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('sendId', '=', sendId)
      .where('clientMsgId', '=', clientMsgId)
      .executeTakeFirst();
    return row && toMessage(row);
  }

  async range(range: MessageRange): Promise<Message[]> {
    let q: SelectQueryBuilder<Database, 'messages', MessagesTable> = this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversationId', '=', range.conversationId)
      .where('seq', '>', range.afterSeq);
    if (range.startSeq !== undefined) q = q.where('seq', '>=', range.startSeq);
    if (range.endSeq !== undefined) q = q.where('seq', '<=', range.endSeq);
    if (range.startSendTime !== undefined) q = q.where('sendTime', '>=', range.startSendTime);
    if (range.endSendTime !== undefined) q = q.where('sendTime', '<=', range.endSendTime);
    const rows = await q.orderBy('seq', range.order).limit(range.limit).execute();
    return rows.map(toMessage);
  }
}

function toRow(m: Message): MessagesTable {
  return {
    id: m.msgId,
    conversationId: m.conversationId,
    seq: m.seq,
    chatType: m.chatType,
    sendId: m.sendId,
    recvId: m.recvId,
    sendTime: m.sendTime,
    mType: m.mType,
    content: m.content,
    clientMsgId: m.clientMsgId,
  };
}

export function toMessage(row: MessagesTable): Message {
  return {
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
  };
}
