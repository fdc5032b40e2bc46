import type { Broker, Subscription } from '../../adapters/bus/bus.js';
import type { DomainEventMap } from '../../events/domain-events.js';
import { DOMAIN_TOPIC } from '../../events/outbox-relay.js';
import type { PushDelivery } from '../../realtime/push-delivery.js';
import type { ServerPush } from '../../realtime/server-push.js';
import type { Logger } from '../../shared/logger.js';
import type { SocialDirectory } from './social-directory.js';

/** The durable queue turning social events into pushes (worker role). */
export const SOCIAL_PUSH_QUEUE = 'social.push';

/** Whom an event's push goes to, and the push (without id: the event's id is used). */
type Rule<K extends keyof DomainEventMap> = (
  payload: DomainEventMap[K],
  directory: SocialDirectory,
) => Promise<{ to: string[]; push: ServerPush }> | { to: string[]; push: ServerPush };

/** Which social event becomes which push, for whom. */
const RULES: { [K in keyof DomainEventMap]?: Rule<K> } = {
  'friend_request-created': (p) => ({
    to: [p.userId],
    push: { method: 'friend.request', data: p },
  }),
  'friend_request-handled': (p) => ({
    to: [p.reqUid, p.userId],
    push: { method: 'friend.request.handled', data: p },
  }),
  'friend-added': (p) => ({
    to: [p.userId, p.friendUid],
    push: { method: 'friend.added', data: p },
  }),
  'friend-deleted': (p) => ({
    to: [p.userId, p.friendUid],
    push: { method: 'friend.deleted', data: p },
  }),
  'group_request-created': async (p, directory) => ({
    to: await directory.managerIds(p.groupId),
    push: { method: 'group.request', data: p },
  }),
  'group_request-handled': (p) => ({
    to: [p.reqId],
    push: { method: 'group.request.handled', data: p },
  }),
  'group_member-joined': (p) => ({
    to: [p.userId],
    push: { method: 'group.member.joined', data: p },
  }),
  'group_member-left': (p) => ({ to: [p.userId], push: { method: 'group.member.left', data: p } }),
  'group_member-removed': (p) => ({
    to: [p.userId],
    push: { method: 'group.member.removed', data: p },
  }),
  'group-dismissed': (p) => ({ to: p.memberIds, push: { method: 'group.dismissed', data: p } }),
};

/**
 * Worker role: pushes social events to the users they concern, through the one
 * push path (PushDelivery routes each push to the gateways holding them, so every
 * socket gets it once). The queue is ordered across workers, so a user hears of
 * one relationship's events in the order they happened. A redelivery (a worker
 * died mid-push) repeats the frame with the same id, which clients de-duplicate.
 */
export function startSocialPushes(deps: {
  broker: Broker;
  delivery: PushDelivery;
  directory: SocialDirectory;
  logger: Logger;
}): Promise<Subscription> {
  const { delivery, directory } = deps;
  return deps.broker.consume(
    { queue: SOCIAL_PUSH_QUEUE, topic: DOMAIN_TOPIC, types: Object.keys(RULES), ordered: true },
    async ({ event }) => {
      const rule = RULES[event.type as keyof DomainEventMap] as
        Rule<keyof DomainEventMap> | undefined;
      if (!rule) return;
      const { to, push } = await rule(event.payload as never, directory);
      await delivery.toUsers([...new Set(to)], { ...push, id: event.id });
    },
  );
}
