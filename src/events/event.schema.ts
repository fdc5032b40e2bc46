import { Type, type Static } from 'typebox';
import { EnvelopeOf } from '../http/envelope.js';

/** POST /v1/events body: the seed's envelope, snake_case as senders write it. */
export const IngestBody = Type.Object({
  event_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  event_type: Type.String({
    minLength: 3,
    maxLength: 64,
    pattern: '^[a-z][a-z0-9_]*-[a-z][a-z0-9_]*$',
    description: 'lowercase {noun}-{action}',
  }),
  timestamp: Type.Union([
    Type.String({ minLength: 1, maxLength: 64, description: 'RFC 3339 date-time' }),
    Type.Integer({ minimum: 0, description: 'epoch milliseconds' }),
  ]),
  payload: Type.Unknown(),
  metadata: Type.Object({
    source: Type.String({ minLength: 1, maxLength: 64 }),
    version: Type.Union([
      Type.String({ minLength: 1, maxLength: 16 }),
      Type.Integer({ minimum: 0 }),
    ]),
  }),
});
export type IngestBody = Static<typeof IngestBody>;

export const IngestResponse = EnvelopeOf(
  Type.Object({
    eventId: Type.String(),
    type: Type.String(),
    result: Type.Unknown({ description: "the handler's answer" }),
  }),
);

export const AuditQuery = Type.Object({
  kind: Type.Optional(Type.Union([Type.Literal('user_action'), Type.Literal('api_error')])),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  userId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  requestId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'epoch ms, inclusive' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'epoch ms, exclusive' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(
    Type.String({ maxLength: 200, description: 'nextCursor of the previous page' }),
  ),
});
export type AuditQuery = Static<typeof AuditQuery>;

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);

export const AuditRecordSchema = Type.Object({
  id: Type.String(),
  eventId: Type.String(),
  kind: Type.String(),
  action: Type.String(),
  userId: NullableString,
  targetId: NullableString,
  detail: Type.Record(Type.String(), Type.Unknown()),
  requestId: NullableString,
  method: NullableString,
  path: NullableString,
  status: NullableInt,
  code: NullableInt,
  source: Type.String(),
  occurredAt: Type.Integer(),
  recordedAt: Type.Integer(),
});

export const AuditListResponse = EnvelopeOf(
  Type.Object({
    list: Type.Array(AuditRecordSchema),
    nextCursor: NullableString,
  }),
);

/** POST /v1/admin/deadLetters/{replay,discard} body. */
export const DeadLetterBody = Type.Object({
  queue: Type.String({
    minLength: 1,
    maxLength: 128,
    pattern: '^[A-Za-z0-9_-][A-Za-z0-9_.-]*$',
    description: 'a consumer queue, e.g. notify.sms',
  }),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});
export type DeadLetterBody = Static<typeof DeadLetterBody>;

export const DeadLetterListResponse = EnvelopeOf(
  Type.Object({
    list: Type.Array(
      Type.Object({
        id: Type.String(),
        type: Type.String(),
        key: Type.String(),
        reason: Type.String({ description: 'why it was dead-lettered' }),
        event: Type.Unknown({ description: 'the whole event envelope' }),
      }),
    ),
  }),
);
