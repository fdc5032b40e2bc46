import { Type } from 'typebox';

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
    payload: Type.Object({ userId: Type.String() }),
  },
} as const;
