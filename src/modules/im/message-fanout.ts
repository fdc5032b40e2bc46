import { setTimeout as sleep } from 'node:timers/promises';
import { isOutage } from '../../adapters/unavailable.js';
import { encodingOf } from '../../realtime/frame.js';
import type { PushDelivery } from '../../realtime/push-delivery.js';
import type { ServerPush } from '../../realtime/server-push.js';
import { KeyedSerialQueue } from '../../shared/keyed-serial-queue.js';
import {
  ChatType,
  ContentType,
  type ConversationState,
  type Message,
  type ReadReceipt,
} from './im.entity.js';

export type { ReadReceipt } from './im.entity.js';

/** Tries of a push that meets an outage: with the delays below, about five minutes. */
const OUTAGE_ATTEMPTS = 80;
const OUTAGE_MAX_DELAY_MS = 4_000;

/** What a push written before its call returns answers: nothing is left to wait for. */
const SENT: Promise<void> = Promise.resolve();

/** What `{ ...message, contentType: chat }` adds at the end of the message's JSON. */
const CHAT_CONTENT_TYPE_TAIL = `,"contentType":${ContentType.chat}}`;

/**
 * Turns stored messages and receipts into `push`es for every recipient device.
 * Work for one conversation runs in order (messages leave in seq order). Group
 * recipients are the conversation's participants who joined before the message
 * (PushDelivery.toConversation): a member never sees what predates them.
 */
export class MessageFanout {
  private readonly queue: KeyedSerialQueue;
  private readonly stopping = new AbortController();

  constructor(
    private readonly deps: {
      delivery: PushDelivery;
      onError: (err: unknown, conversationId: string) => void;
    },
  ) {
    this.queue = new KeyedSerialQueue(deps.onError);
  }

  /**
   * Pushes a stored message to its recipients and the sender's other devices. The
   * message is encoded once (encodingOf): the push splices its JSON (with
   * `contentType` added at the end, where the spread puts it), and so does the
   * answer to its sender, which carries the same object. The caller does not change
   * it after.
   */
  message(message: Message, exceptConnectionId?: string): Promise<void> {
    const push = new MessagePush(message, encodingOf(message));
    if (message.chatType === ChatType.single) {
      return this.toPair(message.conversationId, message, push, exceptConnectionId);
    }
    return this.run(message.conversationId, () =>
      this.deps.delivery.toConversation(message.conversationId, message.seq, push, {
        exceptConnectionId,
      }),
    );
  }

  /**
   * Pushes the current state of a changed message (contentType 2) to everyone who
   * may see it, queued behind the conversation's earlier pushes, so a device hears
   * of a message before it hears of its change.
   */
  change(message: Message, exceptConnectionId?: string): Promise<void> {
    const push: ServerPush = {
      method: 'push',
      formId: message.sendId,
      data: { ...message, contentType: ContentType.change },
    };
    if (message.chatType === ChatType.single) {
      return this.toPair(message.conversationId, message, push, exceptConnectionId);
    }
    return this.run(message.conversationId, () =>
      this.deps.delivery.toConversation(message.conversationId, message.seq, push, {
        exceptConnectionId,
      }),
    );
  }

  receipt(receipt: ReadReceipt, exceptConnectionId?: string): Promise<void> {
    const push: ServerPush = {
      method: 'push',
      formId: receipt.sendId,
      data: { ...receipt, contentType: ContentType.readReceipt },
    };
    if (receipt.chatType === ChatType.single) {
      return this.toPair(receipt.conversationId, receipt, push, exceptConnectionId);
    }
    return this.run(receipt.conversationId, () =>
      this.deps.delivery.toConversation(receipt.conversationId, Number.MAX_SAFE_INTEGER, push, {
        exceptConnectionId,
      }),
    );
  }

  /**
   * `conversation.updated` to a user's own devices (but the one that caused it),
   * queued behind what the conversation already has queued, so a device hears of a
   * message before it hears that the message was read. Nothing is queued when the
   * user has no other device connected (the usual case of a send from one device):
   * a device that connects later reads the state when it syncs.
   */
  conversationUpdated(
    userId: string,
    state: ConversationState,
    exceptConnectionId?: string,
  ): Promise<void> {
    if (!this.deps.delivery.mayReach([userId], exceptConnectionId)) return Promise.resolve();
    const push: ServerPush = { method: 'conversation.updated', data: state };
    return this.toUsers(state.conversationId, [userId], push, exceptConnectionId);
  }

  /**
   * Runs `work` (pushes to the same devices one after the other, as a reply's push and
   * its read receipt): what it writes to a socket of this process leaves in one write.
   */
  together<T>(work: () => T): T {
    const { delivery } = this.deps;
    return delivery.together ? delivery.together(work) : work();
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
  private run(conversationId: string, task: () => Promise<unknown>): Promise<void> {
    return this.queue.run(conversationId, async () => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await task();
          return;
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

  /** A single chat's push: to both parties' devices (the sender's others included). */
  private toPair(
    conversationId: string,
    pair: { recvId: string; sendId: string },
    push: ServerPush,
    exceptConnectionId?: string,
  ): Promise<void> {
    return this.toUsers(conversationId, [pair.recvId, pair.sendId], push, exceptConnectionId);
  }

  /**
   * A push to these users' devices, in the conversation's order. The usual case (nothing
   * of the conversation pending, every socket in this process) is written before this
   * returns, as one call down to the sockets: no task queued, no promise or closure of
   * the retry loop, no async delivery, for a push that can meet no outage. Otherwise
   * it queues behind the conversation's pending pushes and is retried through an
   * outage, as any push.
   */
  private toUsers(
    conversationId: string,
    userIds: readonly string[],
    push: ServerPush,
    exceptConnectionId?: string,
  ): Promise<void> {
    const { delivery, onError } = this.deps;
    if (delivery.toUsersNow && !this.queue.busy(conversationId)) {
      try {
        if (delivery.toUsersNow(userIds, push, exceptConnectionId) !== undefined) return SENT;
      } catch (err) {
        // A bug (local sockets meet no outage): reported as the queue reports a task's.
        onError(err, conversationId);
        return SENT;
      }
    }
    return this.run(conversationId, () => delivery.toUsers(userIds, push, { exceptConnectionId }));
  }
}

/**
 * A stored message's push: its frame splices the message's JSON with `contentType`
 * added at the end (`dataJson`), so `data`, the object `{ ...message, contentType }`
 * that JSON stands for, is built only if someone reads it (nothing on the way to a
 * socket does; a copy of every message's fields per push did before). `data` is a
 * getter of the class: a spread copy of the push (`{ ...push }`) keeps `dataJson`,
 * which is what its frame is written from, but not `data`.
 */
class MessagePush {
  readonly method = 'push';
  id?: string;
  readonly formId: string;
  readonly dataJson: string;

  constructor(
    private readonly message: Message,
    json: string,
  ) {
    this.formId = message.sendId;
    this.dataJson = json.slice(0, -1) + CHAT_CONTENT_TYPE_TAIL;
  }

  get data(): Message & { contentType: typeof ContentType.chat } {
    return { ...this.message, contentType: ContentType.chat };
  }
}
