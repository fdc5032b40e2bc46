import { Type } from 'typebox';
import type { EventSchemaTable, PayloadsOf } from '../../events/domain-events.js';

const Id = Type.String();
const Optional = (description: string) => Type.Optional(Type.String({ description }));

/**
 * Events of the social aggregate. Friend events are keyed by the pair of users
 * (ids sorted, joined with "_"), group events by group id, so each relationship's
 * events are delivered in order. Payloads carry every id a consumer (push, IM
 * conversations) needs without reading back the tables.
 */
export const SocialEventSchemas = {
  'friend_request-created': {
    aggregate: 'social',
    payload: Type.Object({ requestId: Id, reqUid: Id, userId: Id, reqMsg: Type.String() }),
  },
  'friend_request-handled': {
    aggregate: 'social',
    payload: Type.Object({
      requestId: Id,
      reqUid: Id,
      userId: Id,
      handleResult: Type.Integer({ description: '2 accepted, 3 refused, 4 cancelled' }),
      handlerUid: Id,
    }),
  },
  'friend-added': {
    aggregate: 'social',
    payload: Type.Object({
      userId: Id,
      friendUid: Id,
      addSource: Type.Integer(),
      requestId: Id,
    }),
  },
  'friend-deleted': {
    aggregate: 'social',
    payload: Type.Object({ userId: Id, friendUid: Id }),
  },
  'group-created': {
    aggregate: 'social',
    payload: Type.Object({
      groupId: Id,
      creatorUid: Id,
      name: Type.String(),
      isVerify: Type.Boolean(),
    }),
  },
  'group-dismissed': {
    aggregate: 'social',
    payload: Type.Object({
      groupId: Id,
      operatorUid: Id,
      memberIds: Type.Array(Id, { description: 'everyone who was a member, creator included' }),
    }),
  },
  'group_request-created': {
    aggregate: 'social',
    payload: Type.Object({
      requestId: Id,
      groupId: Id,
      reqId: Id,
      joinSource: Type.Integer(),
      inviterUid: Optional('set when joinSource is 1 (invite)'),
      reqMsg: Type.String(),
    }),
  },
  'group_request-handled': {
    aggregate: 'social',
    payload: Type.Object({
      requestId: Id,
      groupId: Id,
      reqId: Id,
      handleResult: Type.Integer({ description: '2 accepted, 3 refused, 4 cancelled' }),
      handleUid: Id,
    }),
  },
  'group_member-joined': {
    aggregate: 'social',
    payload: Type.Object({
      groupId: Id,
      userId: Id,
      roleLevel: Type.Integer(),
      joinSource: Type.Integer({ description: '0 founded, 1 invited, 2 applied' }),
      inviterUid: Optional('who invited, for joinSource 1'),
      operatorUid: Optional('who approved the request, when one was approved'),
    }),
  },
  'group_member-left': {
    aggregate: 'social',
    payload: Type.Object({ groupId: Id, userId: Id }),
  },
  'group_member-removed': {
    aggregate: 'social',
    payload: Type.Object({
      groupId: Id,
      userId: Id,
      roleLevel: Type.Integer({ description: 'the role the user had' }),
      operatorUid: Id,
    }),
  },
  'group_member-role_changed': {
    aggregate: 'social',
    payload: Type.Object({
      groupId: Id,
      userId: Id,
      oldRoleLevel: Type.Integer(),
      roleLevel: Type.Integer(),
      operatorUid: Id,
    }),
  },
  'group-owner_transferred': {
    aggregate: 'social',
    payload: Type.Object({
      groupId: Id,
      fromUid: Id,
      toUid: Id,
      fromRoleLevel: Type.Integer({
        description: 'the former creator’s new role; 0 when they left (account deleted)',
      }),
    }),
  },
  'group-updated': {
    aggregate: 'social',
    payload: Type.Object({
      groupId: Id,
      operatorUid: Id,
      changes: Type.Object(
        {
          name: Type.Optional(Type.String()),
          icon: Type.Optional(Type.String()),
          notification: Type.Optional(Type.String()),
          isVerify: Type.Optional(Type.Boolean()),
        },
        { description: 'the fields that changed, with their new values' },
      ),
    }),
  },
  'group-muted': {
    aggregate: 'social',
    payload: Type.Object({ groupId: Id, operatorUid: Id, muted: Type.Boolean() }),
  },
  'group_member-muted': {
    aggregate: 'social',
    payload: Type.Object({
      groupId: Id,
      userId: Id,
      operatorUid: Id,
      mutedUntil: Type.Integer({ description: 'epoch milliseconds; 0 lifts the mute' }),
    }),
  },
  /** Keyed by the blocker; never pushed (the blocked user is told nothing). */
  'blacklist-added': {
    aggregate: 'social',
    payload: Type.Object({ userId: Id, blockedUid: Id }),
  },
  'blacklist-removed': {
    aggregate: 'social',
    payload: Type.Object({ userId: Id, blockedUid: Id }),
  },
} as const satisfies EventSchemaTable;

declare module '../../events/domain-events.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the augmentation adds the table's events
  interface DomainEventMap extends PayloadsOf<typeof SocialEventSchemas> {}
}
