import { Type, type Static } from 'typebox';
import { EnvelopeOf } from '../../http/envelope.js';
import { Id, ReqMsg } from './social.schema.js';

export const FriendPutInBody = Type.Object({
  userId: { ...Id, description: 'the user to befriend' },
  reqMsg: Type.Optional(ReqMsg),
});
export type FriendPutInBody = Static<typeof FriendPutInBody>;

export const FriendHandleBody = Type.Object({
  friendReqId: Id,
  handleResult: Type.Union([Type.Literal(2), Type.Literal(3), Type.Literal(4)], {
    description: '2 accept, 3 refuse (addressee only), 4 cancel (sender only)',
  }),
});
export type FriendHandleBody = Static<typeof FriendHandleBody>;

export const FriendUidQuery = Type.Object({ friendUid: Id });

export const FriendRemarkBody = Type.Object({
  friendUid: Id,
  remark: Type.String({
    maxLength: 64,
    description: "my private name for the friend; '' clears it",
  }),
});
export type FriendRemarkBody = Static<typeof FriendRemarkBody>;

const FriendRequestSchema = Type.Object({
  id: Type.String(),
  userId: Type.String({ description: 'the addressee (the caller)' }),
  reqUid: Type.String({ description: 'the sender' }),
  reqMsg: Type.String(),
  reqTime: Type.Integer({ description: 'epoch milliseconds' }),
  handleResult: Type.Integer(),
});

const FriendSchema = Type.Object({
  friendUid: Type.String(),
  nickname: Type.String(),
  avatar: Type.String(),
  remark: Type.String(),
  addSource: Type.Integer({ description: '1 friend request' }),
});

export const FriendPutInResponse = EnvelopeOf(
  Type.Object({
    id: Type.String({ description: 'the pending request, or theirs that this call accepted' }),
    handleResult: Type.Integer({ description: '1 pending, 2 accepted: you are friends now' }),
  }),
);
export const FriendRequestListResponse = EnvelopeOf(
  Type.Object({ list: Type.Array(FriendRequestSchema) }),
);
export const FriendListResponse = EnvelopeOf(Type.Object({ list: Type.Array(FriendSchema) }));
