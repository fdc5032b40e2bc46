import { setTimeout as sleep } from 'node:timers/promises';
import { isOutage } from '../../adapters/unavailable.js';
import { encodeFrame, FrameType } from '../../realtime/frame.js';
import { KeyedSerialQueue } from '../../shared/keyed-serial-queue.js';
import { newId } from '../../shared/ids.js';
import type { ConversationRepository } from './conversation.repository.js';
import type { GroupFanoutJobs } from '../../realtime/fanout-jobs.js';
import { ChatType, ContentType, type ConversationState, type Message } from './im.entity.js';
import type { PushDelivery } from '../../realtime/push-delivery.js';

/** The push method carrying a user's own conversation state to their other devices. */
export const CONVERSATION_UPDATED = 'conversation.updated';

/** Tries of a push that meets an outage: with the delays below, about five minutes. */
const OUTAGE_ATTEMPTS = 80;
const OUTAGE_MAX_DELAY_MS = 4_000;

/** The data of a read-receipt push (contentType 1). */
export interface ReadReceipt {
  conversationId: string;
  chatType: ChatType;
  /** The reader (for merged group receipts: the last reader of the batch). */
  sendId: string;
  /** The peer (single chat) or the group id. */
  recvId: string;
  readSeq: number;
  /** Group receipts merged over a window: reader → readSeq. */
  reads?: Record<string, number>;
  sendTime: number;
}

/**
 * Turns stored messages and receipts into `push` frames for every recipient
 * device. Work for one conversation runs in order (messages leave in seq order).
 * Group recipients come from the conversation's participants, in batches, and only
 * those who joined before the message: a member never sees what predates them.
 */
export class MessageFanout {
  private readonly queue: KeyedSerialQueue;
  private readonly stopping = new AbortController();

  constructor(
    private readonly deps: {
      conversations: ConversationRepository;
      delivery: PushDelivery;
      batchSize: number;
      onError: (err: unknown, conversationId: string) => void;
      /** Across processes: groups with more recipients than `workerFanoutMin` go to workers. */
      jobs?: GroupFanoutJobs;
      workerFanoutMin?: number;
    },
  ) {
    this.queue = new KeyedSerialQueue(deps.onError);
  }

  /** Pushes a stored message to its recipients and the sender's other devices. */
  message(message: Message, exceptConnectionId?: string): Promise<void> {
    const frame = encodeFrame({
      frameType: FrameType.data,
      id: newId(),
      method: 'push',
      formId: message.sendId,
      data: { ...message, contentType: ContentType.chat },
    });
    return this.run(message.conversationId, () =>
      message.chatType === ChatType.single
        ? this.toPair(message.recvId, message.sendId, frame, exceptConnectionId)
        : this.toGroup(message.conversationId, message.seq, frame, exceptConnectionId),
    );
  }

  /**
   * Pushes the current state of a changed message (contentType 2) to everyone who
   * may see it, queued behind the conversation's earlier pushes, so a device hears
   * of a message before it hears of its change.
   */
  change(message: Message, exceptConnectionId?: string): Promise<void> {
    const frame = encodeFrame({
      frameType: FrameType.data,
      id: newId(),
      method: 'push',
      formId: message.sendId,
      data: { ...message, contentType: ContentType.change },
    });
    return this.run(message.conversationId, () =>
      message.chatType === ChatType.single
        ? this.toPair(message.recvId, message.sendId, frame, exceptConnectionId)
        : this.toGroup(message.conversationId, message.seq, frame, exceptConnectionId),
    );
  }

  receipt(receipt: ReadReceipt, exceptConnectionId?: string): Promise<void> {
    const frame = encodeFrame({
      frameType: FrameType.data,
      id: newId(),
      method: 'push',
      formId: receipt.sendId,
      data: { ...receipt, contentType: ContentType.readReceipt },
    });
    return this.run(receipt.conversationId, () =>
      receipt.chatType === ChatType.single
        ? this.toPair(receipt.recvId, receipt.sendId, frame, exceptConnectionId)
        : this.toGroup(receipt.conversationId, Number.MAX_SAFE_INTEGER, frame, exceptConnectionId),
    );
  }

  /**
   * `conversation.updated` to a user's own devices (but the one that caused it),
   * queued behind what the conversation already has queued, so a device hears of a
   * message before it hears that the message was read.
   */
  conversationUpdated(
    userId: string,
    state: ConversationState,
    exceptConnectionId?: string,
  ): Promise<void> {
    const frame = encodeFrame({
      frameType: FrameType.data,
      id: newId(),
      method: CONVERSATION_UPDATED,
      data: state,
    });
    return this.run(state.conversationId, async () => {
      await this.deps.delivery.toUsers([userId], frame, exceptConnectionId);
    });
  }

  /** Sends what is queued; pushes waiting out an outage give up (shutdown). */
  drain(): Promise<void> {
    this.stopping.abort();
    return this.queue.drain();
  }

  /**
   * Runs one conversation's push work in order. The message is already stored and
   * acknowledged, so a push that meets an outage (the group's audience cannot be read,
   * the fan-out job cannot be queued) is tried again until the outage ends: the
   * conversation's later pushes wait behind it, which costs nothing while nothing can
   * be stored anyway.
   */
  private run(conversationId: string, task: () => Promise<void>): Promise<void> {
    return this.queue.run(conversationId, async () => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await task();
        } catch (err) {
          if (!isOutage(err) || attempt >= OUTAGE_ATTEMPTS || this.stopping.signal.aborted) {
            throw err;
          }
          const delay = Math.min(OUTAGE_MAX_DELAY_MS, 100 * 2 ** attempt);
          await sleep(delay, undefined, { signal: this.stopping.signal }).catch(() => undefined);
        }
      }
    });
  }

  private async toPair(a: string, b: string, frame: string, exceptConnectionId?: string) {
    await this.deps.delivery.toUsers([a, b], frame, exceptConnectionId);
  }

  private async toGroup(groupId: string, seq: number, frame: string, exceptConnectionId?: string) {
    const { jobs, workerFanoutMin = 0 } = this.deps;
    if (jobs) {
      const head = await this.deps.conversations.audience(
        groupId,
        seq,
        undefined,
        workerFanoutMin + 1,
      );
      if (head.length > workerFanoutMin) {
        await jobs.enqueue({ conversationId: groupId, seq, frame, exceptConnectionId });
      } else {
        await this.deps.delivery.toUsers(head, frame, exceptConnectionId);
      }
      return;
    }
    await this.deliverToGroup(groupId, seq, frame, exceptConnectionId);
  }

  /** Pushes to every participant who may see `seq`, batch by batch (also run by workers). */
  async deliverToGroup(groupId: string, seq: number, frame: string, exceptConnectionId?: string) {
    const { conversations, delivery, batchSize } = this.deps;
    let after: string | undefined;
    for (;;) {
      const ids = await conversations.audience(groupId, seq, after, batchSize);
      if (ids.length > 0) await delivery.toUsers(ids, frame, exceptConnectionId);
      if (ids.length < batchSize) return;
      after = ids[ids.length - 1];
    }
  }
}
