import { Type, type Static } from 'typebox';

/** The topic audit records travel on. */
export const LOG_TOPIC = 'log';

/**
 * Audit records (the seed's `log.*` message keys) sent directly, without the
 * outbox: `log.api_error` for every 5xx answer and `log.user_action` for actions
 * that have no domain event of their own. Both end in the audit_log table.
 */
export const LogEventSchemas = {
  'log.user_action': {
    payload: Type.Object({
      userId: Type.Union([Type.String(), Type.Null()]),
      action: Type.String({ minLength: 1, maxLength: 64 }),
      targetId: Type.Optional(Type.String()),
      detail: Type.Record(Type.String(), Type.Unknown()),
      requestId: Type.Optional(Type.String()),
    }),
  },
  'log.api_error': {
    payload: Type.Object({
      requestId: Type.String(),
      method: Type.String(),
      path: Type.String(),
      /** The matched route pattern, when one matched. */
      route: Type.Optional(Type.String()),
      status: Type.Integer(),
      code: Type.Integer(),
      /** The internal error message (never sent to the client). */
      message: Type.String(),
      userId: Type.Optional(Type.String()),
    }),
  },
} as const;

export type LogEventMap = {
  [K in keyof typeof LogEventSchemas]: Static<(typeof LogEventSchemas)[K]['payload']>;
};
