import type { DomainEventMap } from '../../events/domain-events.js';
import type { PushTable } from '../../realtime/server-push.js';

type Payload<K extends keyof DomainEventMap> = DomainEventMap[K];

/**
 * The social module's pushes: method → data. Friend and group pushes carry their
 * domain event's payload as `data` and its id as the frame id (clients
 * de-duplicate by it).
 */
export interface SocialPushMap {
  'friend.request': Payload<'friend_request-created'>;
  'friend.request.handled': Payload<'friend_request-handled'>;
  'friend.added': Payload<'friend-added'>;
  'friend.deleted': Payload<'friend-deleted'>;
  'group.request': Payload<'group_request-created'>;
  'group.request.handled': Payload<'group_request-handled'>;
  'group.member.joined': Payload<'group_member-joined'>;
  'group.member.left': Payload<'group_member-left'>;
  'group.member.removed': Payload<'group_member-removed'>;
  'group.dismissed': Payload<'group-dismissed'>;
  /** A friend came online or went offline (the state read from presence then). */
  'user.presence': { userId: string; online: boolean };
}

export const SocialPushes: PushTable<SocialPushMap> = {
  'friend.request': { to: 'the user asked' },
  'friend.request.handled': { to: 'the requester and the user asked' },
  'friend.added': { to: 'both friends' },
  'friend.deleted': { to: 'both users' },
  'group.request': { to: 'the group’s creator and managers' },
  'group.request.handled': { to: 'the requester' },
  'group.member.joined': { to: 'the member who joined' },
  'group.member.left': { to: 'the member who left' },
  'group.member.removed': { to: 'the member removed' },
  'group.dismissed': { to: 'everyone who was a member' },
  'user.presence': { to: 'the user’s friends' },
};

declare module '../../realtime/server-push.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the augmentation adds the module's pushes
  interface ServerPushMap extends SocialPushMap {}
}
