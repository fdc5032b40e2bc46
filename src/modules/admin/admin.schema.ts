import { Type } from 'typebox';
import { EnvelopeOf, EmptyObject } from '../../http/envelope.js';

const UserId = Type.String({ minLength: 1, maxLength: 64 });

export const AdminUserParams = Type.Object({ id: UserId });

export const AdminUsersQuery = Type.Object({
  query: Type.Optional(
    Type.String({
      maxLength: 64,
      description: 'an exact user id, a phone prefix or a nickname substring; absent: everyone',
    }),
  ),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: 'the previous page’s cursor' }),
  ),
});

/** Statuses by name: clearer to an operator than the stored 0/1/2. */
export const AdminUserStatus = Type.Union([
  Type.Literal('active'),
  Type.Literal('disabled'),
  Type.Literal('deleted'),
]);

export const AdminUser = Type.Object({
  id: Type.String(),
  phone: Type.String({ description: 'unmasked; a tombstone for a deleted account' }),
  nickname: Type.String(),
  status: AdminUserStatus,
  createdAt: Type.Integer({ description: 'epoch milliseconds' }),
});

export const AdminUsersResponse = EnvelopeOf(
  Type.Object({
    list: Type.Array(AdminUser),
    cursor: Type.Optional(
      Type.String({ description: 'present when there may be more: pass it for the next page' }),
    ),
  }),
);

export const SetUserStatusBody = Type.Object({
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
});

export const EmptyResponse = EnvelopeOf(EmptyObject);

export const MAX_NOTICE_USERS = 1000;

export const AdminNoticeBody = Type.Object({
  userIds: Type.Optional(Type.Array(UserId, { minItems: 1, maxItems: MAX_NOTICE_USERS })),
  groupId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  content: Type.String({ minLength: 1, maxLength: 4000, pattern: '\\S' }),
});

export const AdminNoticeResponse = EnvelopeOf(
  Type.Object({
    delivered: Type.Integer({
      description: 'users (or 1 for the group) that got the notice; unknown user ids are skipped',
    }),
  }),
);

export const AdminStatsResponse = EnvelopeOf(
  Type.Object({
    users: Type.Integer({ description: 'accounts not deleted (active and disabled)' }),
    onlineNow: Type.Integer({ description: 'users with at least one open socket' }),
    messagesPerDay: Type.Array(
      Type.Object({ day: Type.String({ description: 'YYYY-MM-DD (UTC)' }), count: Type.Integer() }),
      { description: 'the last 7 UTC days, oldest first, today last' },
    ),
  }),
);
