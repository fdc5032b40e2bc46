import type { Consumer, Subscription } from '../../adapters/bus/bus.js';
import { DomainTopic, type DomainEventMap } from '../../events/domain-events.js';
import type { PushDelivery } from '../../realtime/push-delivery.js';
import type { ServerPush } from '../../realtime/server-push.js';
import type { SocialDirectory } from './social-directory.js';

/** The durable queue turning social events into pushes (worker role). */
export const SOCIAL_PUSH_QUEUE = 'social.push';

/** Whom an event's push goes to, and the push (without id: the event's id is used). */
type Rule<K extends keyof DomainEventMap> = (
  payload: DomainEventMap[K],
  directory: SocialDirectory,
) => Promise<{ to: string[]; push: ServerPush }> | { to: string[]; push: ServerPush };

type PushedEvent =
  | 'friend_request-created'
  | 'friend_request-handled'
  | 'friend-added'
  | 'friend-deleted'
  | 'group_request-created'
  | 'group_request-handled'
  | 'group_member-joined'
  | 'group_member-left'
  | 'group_member-removed'
  | 'group-dismissed'
  | 'group-updated'
  | 'group-muted'
  | 'group_member-muted';

/** Every member id of a group, read in pages. */
async function allMemberIds(directory: SocialDirectory, groupId: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const page = await directory.memberIds(groupId, { after: ids.at(-1), limit: 1000 });
    ids.push(...page);
    if (page.length < 1000) return ids;
  }
}

/** Which social event becomes which push, for whom. */
const RULES: { [K in PushedEvent]: Rule<K> } = {
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
  'group-updated': async (p, directory) => ({
    to: await allMemberIds(directory, p.groupId),
    push: { method: 'group.updated', data: p },
  }),
  'group-muted': async (p, directory) => ({
    to: await allMemberIds(directory, p.groupId),
    push: { method: 'group.muted', data: p },
  }),
  'group_member-muted': (p) => ({
    to: [p.userId],
    push: { method: 'group.member.muted', data: p },
  }),
};

/** The event's rule applied to its payload (generic in K, so payload and rule stay paired). */
function applyRule<K extends PushedEvent>(
  event: { type: K; payload: DomainEventMap[K] },
  directory: SocialDirectory,
) {
  return RULES[event.type](event.payload, directory);
}

/**
 * Worker role: pushes social events to the users they concern, through the one
 * push path (PushDelivery routes each push to the gateways holding them, so every
 * socket gets it once). The queue is ordered across workers, so a user hears of
 * one relationship's events in the order they happened. A redelivery (a worker
 * died mid-push) repeats the frame with the same id, which clients de-duplicate.
 */
export function startSocialPushes(deps: {
  broker: Consumer;
  delivery: PushDelivery;
  directory: SocialDirectory;
}): Promise<Subscription> {
  const { delivery, directory } = deps;
  const types = Object.keys(RULES) as PushedEvent[];
  return DomainTopic.consume(
    deps.broker,
    { queue: SOCIAL_PUSH_QUEUE, types, ordered: true },
    async (event) => {
      const { to, push } = await applyRule(event, directory);
      await delivery.toUsers([...new Set(to)], { ...push, id: event.id });
    },
  );
}
