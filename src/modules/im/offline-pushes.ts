import type { Consumer, Subscription } from '../../adapters/bus/bus.js';
import type { Presence } from '../../adapters/presence/presence.js';
import { DomainTopic } from '../../events/domain-events.js';
import type { ConversationAudience } from '../../realtime/local-sockets.js';
import { ChatType, MessageType, SYSTEM_SENDER, type Message } from './im.entity.js';

/** The durable queue of the offline-push producer. */
export const OFFLINE_PUSH_QUEUE = 'im.offline-push';
const AUDIENCE_BATCH = 1000;
const FIXED_TEXT = { title: 'New message', body: 'You have a new message' };

/** A `notify.push` request (the notify module's event), as this producer sends it. */
export interface OfflinePushRequest {
  type: 'notify.push';
  payload: {
    userId: string;
    title: string;
    body: string;
    data: Record<string, string>;
    collapseKey: string;
  };
}

/** Of some participants, those who muted a conversation and are not mentioned at or after `seq`. */
export interface MutedMembers {
  mutedUnmentioned(
    conversationId: string,
    userIds: readonly string[],
    seq: number,
  ): Promise<Set<string>>;
}

/**
 * Worker role: for every stored chat message, recipients with no live connection
 * get a `notify.push` (collapsed per conversation by the notify consumer). It
 * reads presence when the event arrives, so a recipient who came online in
 * between gets the message live and no push. Redelivery is de-duplicated.
 */
export function startOfflinePushes(deps: {
  broker: Consumer;
  /** Group audiences, and who muted a conversation (notified only when mentioned). */
  audience: ConversationAudience & MutedMembers;
  presence: Presence;
  notify: { sendBatch(requests: OfflinePushRequest[]): Promise<unknown> };
  /**
   * Title, body and badge per recipient (the push module's composer); without it
   * every push says "New message".
   */
  compose?: (
    message: Pick<Message, 'msgId' | 'conversationId' | 'sendId' | 'seq' | 'mType'> & {
      chatType: number;
    },
    userIds: string[],
  ) => Promise<Map<string, { title: string; body: string; badge: number }>>;
  seen: (eventId: string) => Promise<boolean>;
  markSeen: (eventId: string) => Promise<void>;
}): Promise<Subscription> {
  const { audience, presence, notify } = deps;
  return DomainTopic.consume(
    deps.broker,
    { queue: OFFLINE_PUSH_QUEUE, types: ['message-sent'] },
    async (event) => {
      if (await deps.seen(event.id)) return;
      const message = event.payload;
      // Group notices are news about the group, not messages to alert anyone of.
      if (message.mType === MessageType.notice) return;
      const push = (
        userId: string,
        text: { title: string; body: string; badge?: number } = FIXED_TEXT,
      ): OfflinePushRequest => ({
        type: 'notify.push',
        payload: {
          userId,
          title: text.title,
          body: text.body,
          data: {
            conversationId: message.conversationId,
            msgId: message.msgId,
            seq: String(message.seq),
            ...(text.badge !== undefined ? { badge: String(text.badge) } : {}),
          },
          collapseKey: `chat:${message.conversationId}`,
        },
      });
      const notifyOffline = async (userIds: string[]) => {
        const candidates = userIds.filter((id) => id !== message.sendId && id !== SYSTEM_SENDER);
        if (candidates.length === 0) return;
        const online = await presence.onlineAmong(candidates);
        const offline = candidates.filter((id) => !online.has(id));
        // A muted conversation notifies only those it mentions.
        const quiet = await audience.mutedUnmentioned(message.conversationId, offline, message.seq);
        const notified = offline.filter((id) => !quiet.has(id));
        if (notified.length === 0) return;
        const texts = deps.compose ? await deps.compose(message, notified) : undefined;
        await notify.sendBatch(notified.map((id) => push(id, texts?.get(id))));
      };
      if (message.chatType === ChatType.single) {
        await notifyOffline([message.recvId]);
      } else {
        let after: string | undefined;
        for (;;) {
          const ids = await audience.audience(
            message.conversationId,
            message.seq,
            after,
            AUDIENCE_BATCH,
          );
          await notifyOffline(ids);
          if (ids.length < AUDIENCE_BATCH) break;
          after = ids[ids.length - 1];
        }
      }
      await deps.markSeen(event.id);
    },
  );
}
