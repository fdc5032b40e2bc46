import type { Broker, Delivery, Subscription } from '../adapters/bus/bus.js';
import type { Presence } from '../adapters/presence/presence.js';
import type { DomainEventMap } from '../events/domain-events.js';
import { CloseCode } from '../gateway/close-codes.js';
import type { ConnectionRegistry } from '../gateway/connection-registry.js';
import { DOMAIN_TOPIC } from '../events/outbox-relay.js';
import type { Pusher } from '../events/pusher.js';
import type { NotifyEventMap } from '../modules/notify/notify.events.js';
import { ChatType, SYSTEM_SENDER } from '../modules/im/index.js';
import type { ConversationAudience } from '../realtime/local-sockets.js';
import type { Logger } from '../shared/logger.js';

type Payload<K extends keyof DomainEventMap> = DomainEventMap[K];

/**
 * Gateway role: closes the sockets of a disabled or deleted user, of a user whose
 * password changed (those of revoked tokens) or of a token that logged out. Every gateway must see these events (each closes its own sockets), so they
 * come through the broker's live subscription; pushes never do (PushDelivery).
 */
export async function startGatewayReactions(deps: {
  broker: Broker;
  connections: ConnectionRegistry;
  logger: Logger;
}): Promise<Subscription> {
  const { connections, logger } = deps;
  const handle = ({ event }: Delivery) => {
    if (event.type === 'user-disabled') {
      const { userId } = event.payload as Payload<'user-disabled'>;
      connections.closeUser(userId, CloseCode.disabled, 'account disabled');
      return;
    }
    if (event.type === 'user-deleted') {
      const { userId } = event.payload as Payload<'user-deleted'>;
      connections.closeUser(userId, CloseCode.disabled, 'account deleted');
      return;
    }
    if (event.type === 'user-password_changed') {
      // Sockets of revoked tokens close; one already opened with the token the
      // change answered (issued after the cut-off) stays.
      const { userId, revokedUpTo } = event.payload as Payload<'user-password_changed'>;
      for (const connection of [...connections.forUser(userId)]) {
        if (connection.tokenIssuedAt <= revokedUpTo) {
          connection.close(CloseCode.unauthorized, 'password changed');
        }
      }
      return;
    }
    if (event.type === 'user-logged_out') {
      const { userId, tokenId } = event.payload as Payload<'user-logged_out'>;
      for (const connection of [...connections.forUser(userId)]) {
        if (connection.tokenId === tokenId)
          connection.close(CloseCode.unauthorized, 'token revoked');
      }
    }
  };
  return deps.broker.subscribe(
    DOMAIN_TOPIC,
    async (delivery) => {
      try {
        handle(delivery);
      } catch (err) {
        logger.warn({ err, type: delivery.event.type }, 'gateway reaction failed');
      }
    },
    'user-disabled',
    'user-deleted',
    'user-password_changed',
    'user-logged_out',
  );
}

/** The durable queue of the offline-push producer. */
export const OFFLINE_PUSH_QUEUE = 'im.offline-push';
const AUDIENCE_BATCH = 1000;

/**
 * Worker role: for every stored chat message, recipients with no live connection
 * get a `notify.push` (collapsed per conversation by the notify consumer). It
 * reads presence when the event arrives, so a recipient who came online in
 * between gets the message live and no push. Redelivery is de-duplicated.
 */
export async function startOfflinePushes(deps: {
  broker: Broker;
  audience: ConversationAudience;
  presence: Presence;
  notify: Pusher<NotifyEventMap>;
  seen: (eventId: string) => Promise<boolean>;
  markSeen: (eventId: string) => Promise<void>;
}): Promise<Subscription> {
  const { audience, presence, notify } = deps;
  return deps.broker.consume(
    { queue: OFFLINE_PUSH_QUEUE, topic: DOMAIN_TOPIC, types: ['message-sent'] },
    async ({ event }) => {
      if (await deps.seen(event.id)) return;
      const message = event.payload as Payload<'message-sent'>;
      const push = (userId: string) => ({
        type: 'notify.push' as const,
        payload: {
          userId,
          title: 'New message',
          body: 'You have a new message',
          data: {
            conversationId: message.conversationId,
            msgId: message.msgId,
            seq: String(message.seq),
          },
          collapseKey: `chat:${message.conversationId}`,
        },
      });
      const notifyOffline = async (userIds: string[]) => {
        const candidates = userIds.filter((id) => id !== message.sendId && id !== SYSTEM_SENDER);
        if (candidates.length === 0) return;
        const online = await presence.onlineAmong(candidates);
        const offline = candidates.filter((id) => !online.has(id));
        if (offline.length > 0) await notify.sendBatch(offline.map(push));
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
