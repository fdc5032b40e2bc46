import type { Broker, Delivery, Subscription } from '../adapters/bus/bus.js';
import type { Presence } from '../adapters/presence/presence.js';
import type { EventMessage } from '../adapters/bus/event-message.js';
import type { DomainEventMap } from '../events/domain-events.js';
import { CloseCode } from '../gateway/close-codes.js';
import type { ConnectionRegistry } from '../gateway/connection-registry.js';
import { encodeFrame, FrameType } from '../realtime/frame.js';
import { DOMAIN_TOPIC } from '../events/outbox-relay.js';
import type { Pusher } from '../events/pusher.js';
import type { NotifyEventMap } from '../modules/notify/notify.events.js';
import { ChatType, SYSTEM_SENDER, type ImModule } from '../modules/im/index.js';
import type { SocialDirectory } from '../modules/social/index.js';
import type { Logger } from '../shared/logger.js';

type Payload<K extends keyof DomainEventMap> = DomainEventMap[K];

/**
 * Social events pushed to the users they concern, under their own method names
 * (DESIGN.md section 4), with the event's payload as `data` and its id as the
 * frame id (clients de-duplicate by it).
 */
const SOCIAL_PUSHES: {
  [K in keyof DomainEventMap]?: {
    method: string;
    to: (p: Payload<K>, directory: SocialDirectory) => Promise<string[]> | string[];
  };
} = {
  'friend_request-created': { method: 'friend.request', to: (p) => [p.userId] },
  'friend_request-handled': { method: 'friend.request.handled', to: (p) => [p.reqUid, p.userId] },
  'friend-added': { method: 'friend.added', to: (p) => [p.userId, p.friendUid] },
  'friend-deleted': { method: 'friend.deleted', to: (p) => [p.userId, p.friendUid] },
  'group_request-created': {
    method: 'group.request',
    to: (p, directory) => directory.managerIds(p.groupId),
  },
  'group_request-handled': { method: 'group.request.handled', to: (p) => [p.reqId] },
  'group_member-joined': { method: 'group.member.joined', to: (p) => [p.userId] },
  'group_member-left': { method: 'group.member.left', to: (p) => [p.userId] },
  'group_member-removed': { method: 'group.member.removed', to: (p) => [p.userId] },
  'group-dismissed': { method: 'group.dismissed', to: (p) => p.memberIds },
};

/** Methods only the server sends; a client sending one gets an error frame. */
export const SOCIAL_PUSH_METHODS: readonly string[] = Object.values(SOCIAL_PUSHES).map(
  (p) => p.method,
);

/**
 * What a gateway does when domain events arrive (every gateway sees every event,
 * through the broker's live subscription): close the sockets of a disabled or
 * deleted user, of a user whose password changed, or of a token that logged out, and push social events to the users concerned
 * who are connected here.
 */
export async function startGatewayReactions(deps: {
  broker: Broker;
  connections: ConnectionRegistry;
  /** Counts pushes written to this gateway's sockets (metrics). */
  onPush?: (count: number) => void;
  directory: SocialDirectory;
  logger: Logger;
}): Promise<Subscription> {
  const { connections, directory, logger } = deps;
  const handle = async ({ event }: Delivery) => {
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
      return;
    }
    const push = SOCIAL_PUSHES[event.type as keyof DomainEventMap] as
      | { method: string; to: (p: unknown, d: SocialDirectory) => Promise<string[]> | string[] }
      | undefined;
    if (!push) return;
    const recipients = [...new Set(await push.to(event.payload, directory))];
    // Every gateway sees every event, so each writes to its own sockets only; routing
    // through presence would deliver the frame once per gateway.
    deps.onPush?.(connections.deliver(recipients, pushFrame(push.method, event)));
  };
  return deps.broker.subscribe(
    DOMAIN_TOPIC,
    (delivery) =>
      handle(delivery).catch((err: unknown) =>
        logger.warn({ err, type: delivery.event.type }, 'gateway reaction failed'),
      ),
    'user-disabled',
    'user-deleted',
    'user-password_changed',
    'user-logged_out',
    ...Object.keys(SOCIAL_PUSHES),
  );
}

function pushFrame(method: string, event: EventMessage): string {
  return encodeFrame({ frameType: FrameType.data, id: event.id, method, data: event.payload });
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
  im: ImModule;
  presence: Presence;
  notify: Pusher<NotifyEventMap>;
  seen: (eventId: string) => Promise<boolean>;
  markSeen: (eventId: string) => Promise<void>;
}): Promise<Subscription> {
  const { im, presence, notify } = deps;
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
          const ids = await im.conversationsRepo.audience(
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
