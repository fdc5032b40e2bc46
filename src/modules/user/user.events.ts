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
} as const satisfies EventSchemaTable;

declare module '../../events/domain-events.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the augmentation adds the table's events
  interface DomainEventMap extends PayloadsOf<typeof UserEventSchemas> {}
}
