import { Type } from 'typebox';
import { EnvelopeOf } from '../../http/envelope.js';
import { Id } from './social.schema.js';

export const BlockBody = Type.Object({ userId: { ...Id, description: 'the user to block' } });
export const BlockQuery = Type.Object({ userId: { ...Id, description: 'the user to unblock' } });

const BlockedUserSchema = Type.Object({
  userId: Type.String(),
  nickname: Type.String(),
  avatar: Type.String(),
  createdAt: Type.Integer({ description: 'when it was blocked, epoch milliseconds' }),
});

export const BlacklistResponse = EnvelopeOf(
  Type.Object({ list: Type.Array(BlockedUserSchema, { description: 'most recent first' }) }),
);
