import { Type } from 'typebox';
import type { EventSchemaTable, PayloadsOf } from '../../events/domain-events.js';

/** Events of the chat aggregate, keyed (for ordering) by conversation id. */
export const ImEventSchemas = {
  'message-sent': {
    aggregate: 'chat',
    payload: Type.Object({
      msgId: Type.String(),
      conversationId: Type.String(),
      chatType: Type.Integer(),
      seq: Type.Integer(),
      sendId: Type.String(),
      recvId: Type.String(),
      mType: Type.Integer(),
      sendTime: Type.Integer(),
    }),
  },
  'message-revoked': {
    aggregate: 'chat',
    payload: Type.Object({
      msgId: Type.String(),
      conversationId: Type.String(),
      chatType: Type.Integer(),
      seq: Type.Integer(),
      sendId: Type.String(),
      revokedBy: Type.String(),
      revokedAt: Type.Integer(),
    }),
  },
  'message-read': {
    aggregate: 'chat',
    payload: Type.Object({
      conversationId: Type.String(),
      userId: Type.String(),
      readSeq: Type.Integer(),
    }),
  },
} as const satisfies EventSchemaTable;

declare module '../../events/domain-events.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the augmentation adds the table's events
  interface DomainEventMap extends PayloadsOf<typeof ImEventSchemas> {}
}
