import type { Kysely } from 'kysely';
import type { Consumer, Subscription } from '../../adapters/bus/bus.js';
import type { Database } from '../../adapters/storage/schema.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import { DomainTopic } from '../../events/domain-events.js';
import type { Clock } from '../../shared/clock.js';
import type { GroupNotice } from '../../shared/group-notice.js';
import { newId } from '../../shared/ids.js';
import type { ConversationRepository } from './conversation.repository.js';
import { ChatType, MessageType, SYSTEM_SENDER, type Message } from './im.entity.js';
import type { MessageFanout } from './message-fanout.js';
import type { MessageRepository } from './message.repository.js';

/** The durable queue that pushes stored notices to the group (worker role). */
export const NOTICE_PUSH_QUEUE = 'im.notice-push';

/**
 * Group notices as messages: each is stored in the group's conversation with the
 * next seq, inside the transaction of the change it reports (the social module
 * calls `post` through its membership listener), so it commits or rolls back
 * with that change and sits in order with chat. The sender is the system, so it
 * is nobody's own message; unread counts skip mType 10. Its `message-sent` event
 * (same transaction) is what pushes it, from the worker: persist before push.
 */
export class GroupNotices {
  constructor(
    private readonly deps: {
      conversations: ConversationRepository;
      messages: MessageRepository;
      events: EventRecorder;
      clock: Clock;
    },
  ) {}

  async post(trx: Kysely<Database>, groupId: string, notice: GroupNotice): Promise<Message> {
    const { conversations, messages, events, clock } = this.deps;
    const now = clock();
    const msgId = newId();
    const seq = await conversations.takeNextSeq(
      trx,
      { id: groupId, chatType: ChatType.group },
      msgId,
      now,
    );
    const message: Message = {
      msgId,
      conversationId: groupId,
      chatType: ChatType.group,
      sendId: SYSTEM_SENDER,
      recvId: groupId,
      seq,
      sendTime: now,
      mType: MessageType.notice,
      content: JSON.stringify(notice),
      clientMsgId: null,
      modSeq: 0,
    };
    await messages.insert(trx, message);
    await events.record(trx, 'message-sent', groupId, {
      msgId,
      conversationId: groupId,
      chatType: ChatType.group,
      seq,
      sendId: SYSTEM_SENDER,
      recvId: groupId,
      mType: MessageType.notice,
      sendTime: now,
    });
    return message;
  }
}

/**
 * Worker role: pushes each stored notice to the group's members, as any group
 * message is pushed (`push`, contentType 0), once its transaction has committed.
 * A redelivered event pushes the same message again; clients de-duplicate by seq.
 */
export function startNoticePushes(deps: {
  broker: Consumer;
  messages: Pick<MessageRepository, 'findById'>;
  fanout: Pick<MessageFanout, 'message'>;
}): Promise<Subscription> {
  return DomainTopic.consume(
    deps.broker,
    {
      queue: NOTICE_PUSH_QUEUE,
      types: ['message-sent'],
      ordered: true,
      // Every message is a `message-sent`; this queue wants the notices alone.
      accept: (event) => (event.payload as { mType?: unknown }).mType === MessageType.notice,
    },
    async (event) => {
      if (event.payload.mType !== MessageType.notice) return;
      const message = await deps.messages.findById(event.payload.msgId);
      if (message) await deps.fanout.message(message);
    },
  );
}
