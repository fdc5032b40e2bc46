import { Type } from 'typebox';
import type { EventSchemaTable, PayloadsOf } from '../../events/domain-events.js';

/** Events of the user aggregate, keyed (for ordering) by user id. */
export const UserEventSchemas = {
  'user-created': {
    aggregate: 'user',
    payload: Type.Object({ userId: Type.String(), nickname: Type.String() }),
  },
  'user-logged_in': {
    aggregate: 'user',
    payload: Type.Object({ userId: Type.String(), ip: Type.String() }),
  },
  'user-updated': {
    aggregate: 'user',
    payload: Type.Object({ userId: Type.String(), fields: Type.Array(Type.String()) }),
  },
  'user-logged_out': {
    aggregate: 'user',
    // tokenId: the revoked token's id, so gateways close the sockets opened with it.
    payload: Type.Object({ userId: Type.String(), tokenId: Type.String() }),
  },
  /** The account was disabled (by an ingested `user-disabled` event): its tokens are revoked. */
  'user-disabled': {
    aggregate: 'user',
    payload: Type.Object({ userId: Type.String(), reason: Type.String(), source: Type.String() }),
  },
  /** The account was enabled again (by the admin API): login works again. */
  'user-enabled': {
    aggregate: 'user',
    payload: Type.Object({ userId: Type.String(), source: Type.String() }),
  },
  /**
   * Every session of the user was ended (the admin API's force logout): tokens
   * issued at or before `revokedUpTo` are revoked and gateways close their sockets.
   */
  'user-sessions_ended': {
    aggregate: 'user',
    payload: Type.Object({
      userId: Type.String(),
      source: Type.String(),
      revokedUpTo: Type.Integer({
        description: 'tokens issued at or before this (epoch seconds) stop working',
      }),
    }),
  },
  /**
   * The password changed (by the user, or reset by a code): every token issued
   * before it is revoked and gateways close the user's sockets.
   */
  'user-password_changed': {
    aggregate: 'user',
    payload: Type.Object({
      userId: Type.String(),
      how: Type.Union([Type.Literal('changed'), Type.Literal('reset')]),
      revokedUpTo: Type.Integer({
        description: 'tokens issued at or before this (epoch seconds) stop working',
      }),
    }),
  },
  /**
   * The account was deleted: tokens revoked, sockets closed, friendships and
   * memberships ended; its messages stay (shown as from a deleted user).
   */
  'user-deleted': {
    aggregate: 'user',
    payload: Type.Object({ userId: Type.String() }),
  },
} as const satisfies EventSchemaTable;

declare module '../../events/domain-events.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the augmentation adds the table's events
  interface DomainEventMap extends PayloadsOf<typeof UserEventSchemas> {}
}
