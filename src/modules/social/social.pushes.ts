import { Type } from 'typebox';
import type { DomainEventMap } from '../../events/domain-events.js';
import type { PushTable } from '../../realtime/server-push.js';
import { SocialEventSchemas } from './social.events.js';

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
  'group.updated': Payload<'group-updated'>;
  'group.muted': Payload<'group-muted'>;
  'group.member.muted': Payload<'group_member-muted'>;
  /** A friend came online or went offline (the state read from presence then). */
  'user.presence': { userId: string; online: boolean };
}

/** A push that carries its domain event's payload is described by that event's schema. */
const payloadOf = (type: keyof typeof SocialEventSchemas) => SocialEventSchemas[type].payload;

export const SocialPushes: PushTable<SocialPushMap> = {
  'friend.request': { to: 'the user asked', data: payloadOf('friend_request-created') },
  'friend.request.handled': {
    to: 'the requester and the user asked',
    data: payloadOf('friend_request-handled'),
  },
  'friend.added': { to: 'both friends', data: payloadOf('friend-added') },
  'friend.deleted': { to: 'both users', data: payloadOf('friend-deleted') },
  'group.request': {
    to: 'the group’s creator and managers',
    data: payloadOf('group_request-created'),
  },
  'group.request.handled': { to: 'the requester', data: payloadOf('group_request-handled') },
  'group.member.joined': { to: 'the member who joined', data: payloadOf('group_member-joined') },
  'group.member.left': { to: 'the member who left', data: payloadOf('group_member-left') },
  'group.member.removed': { to: 'the member removed', data: payloadOf('group_member-removed') },
  'group.dismissed': { to: 'everyone who was a member', data: payloadOf('group-dismissed') },
  'group.updated': {
    to: 'every member (the group notice says the same in the conversation)',
    data: payloadOf('group-updated'),
  },
  'group.muted': { to: 'every member', data: payloadOf('group-muted') },
  'group.member.muted': {
    to: 'the member muted or unmuted',
    data: payloadOf('group_member-muted'),
  },
  'user.presence': {
    to: 'the user’s friends',
    data: Type.Object({ userId: Type.String(), online: Type.Boolean() }),
  },
};

declare module '../../realtime/server-push.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the augmentation adds the module's pushes
  interface ServerPushMap extends SocialPushMap {}
}
