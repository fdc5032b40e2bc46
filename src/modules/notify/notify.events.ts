import { Type, type Static } from 'typebox';

/** The topic notification requests travel on. */
export const NOTIFY_TOPIC = 'notify';

const StringMap = Type.Record(Type.String(), Type.String());

/**
 * Notification requests (the seed's `notify.*` message keys): any module sends
 * them through a `Pusher` on the notify topic; the worker's senders deliver them.
 */
export const NotifyEventSchemas = {
  'notify.email': {
    payload: Type.Object({
      to: Type.String({ minLength: 3, maxLength: 320 }),
      subject: Type.String({ maxLength: 998 }),
      text: Type.String(),
      html: Type.Optional(Type.String()),
    }),
  },
  'notify.sms': {
    payload: Type.Object({
      phone: Type.String({ minLength: 3, maxLength: 32 }),
      template: Type.String({ minLength: 1, maxLength: 64 }),
      params: StringMap,
    }),
  },
  'notify.push': {
    payload: Type.Object({
      userId: Type.String(),
      title: Type.String(),
      body: Type.String(),
      data: Type.Optional(StringMap),
      /**
       * Pushes for one user with the same key within `notify.push.collapseWindowMs`
       * become one push (e.g. `chat:<conversationId>` for offline chat messages).
       */
      collapseKey: Type.Optional(Type.String({ maxLength: 128 })),
    }),
  },
} as const;

export type NotifyEventMap = {
  [K in keyof typeof NotifyEventSchemas]: Static<(typeof NotifyEventSchemas)[K]['payload']>;
};
