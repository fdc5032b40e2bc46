import { Type, type Static } from 'typebox';
import { EnvelopeOf } from '../../http/envelope.js';
import { MEMBER_PAGE } from './social.entity.js';
import { Id, ReqMsg } from './social.schema.js';

export const CreateGroupBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' }),
  icon: Type.Optional(Type.String({ maxLength: 512 })),
  isVerify: Type.Optional(
    Type.Boolean({ description: 'joining needs approval by the creator or a manager' }),
  ),
});
export type CreateGroupBody = Static<typeof CreateGroupBody>;

export const GroupPutInBody = Type.Object({
  groupId: Id,
  reqMsg: Type.Optional(ReqMsg),
  joinSource: Type.Union([Type.Literal(1), Type.Literal(2)], {
    description: '1 invite the user reqId, 2 apply for myself',
  }),
  reqId: Type.Optional({ ...Id, description: 'the invited user (joinSource 1)' }),
});
export type GroupPutInBody = Static<typeof GroupPutInBody>;

export const GroupHandleBody = Type.Object({
  groupReqId: Id,
  groupId: Id,
  handleResult: Type.Union([Type.Literal(2), Type.Literal(3), Type.Literal(4)], {
    description: '2 accept, 3 refuse (creator/managers), 4 cancel (applicant or inviter)',
  }),
});
export type GroupHandleBody = Static<typeof GroupHandleBody>;

export const GroupIdQuery = Type.Object({ groupId: Id });
export const GroupIdBody = Type.Object({ groupId: Id });

export const MembersQuery = Type.Object({
  groupId: Id,
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MEMBER_PAGE.max,
      description: `members per page (default ${MEMBER_PAGE.default})`,
    }),
  ),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 128, description: 'nextCursor of the previous page' }),
  ),
});

export const SetRoleBody = Type.Object({
  groupId: Id,
  userId: Id,
  roleLevel: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)], {
    description: '1 transfer ownership, 2 manager, 3 ordinary member',
  }),
});
export type SetRoleBody = Static<typeof SetRoleBody>;

export const MemberQuery = Type.Object({ groupId: Id, userId: Id });

const GroupSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  icon: Type.String(),
  status: Type.Integer({ description: '1 active' }),
  creatorUid: Type.String(),
  groupType: Type.Integer(),
  isVerify: Type.Boolean(),
  notification: Type.String({ description: 'the announcement' }),
  memberCount: Type.Integer(),
  muted: Type.Boolean({ description: 'group-wide mute: only the creator and managers post' }),
});

const GroupRequestSchema = Type.Object({
  id: Type.String(),
  groupId: Type.String(),
  reqId: Type.String({ description: 'the user who would join' }),
  reqMsg: Type.String(),
  reqTime: Type.Integer({ description: 'epoch milliseconds' }),
  joinSource: Type.Integer(),
  inviterUid: Type.String({ description: "'' when the user applied" }),
  handleUid: Type.String({ description: "'' while pending" }),
  handleResult: Type.Integer(),
});

const GroupMemberSchema = Type.Object({
  userId: Type.String(),
  roleLevel: Type.Integer(),
  nickname: Type.String(),
  avatar: Type.String(),
  joinTime: Type.Integer({ description: 'epoch milliseconds' }),
});

export const CreateGroupResponse = EnvelopeOf(Type.Object({ id: Type.String() }));
export const GroupPutInResponse = EnvelopeOf(
  Type.Object({
    id: Type.Optional(Type.String({ description: 'the pending request, when not joined' })),
    joined: Type.Boolean(),
  }),
);
export const GroupRequestListResponse = EnvelopeOf(
  Type.Object({ list: Type.Array(GroupRequestSchema) }),
);
export const GroupListResponse = EnvelopeOf(Type.Object({ list: Type.Array(GroupSchema) }));
export const MemberListResponse = EnvelopeOf(
  Type.Object({
    list: Type.Array(GroupMemberSchema),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'null on the last page',
    }),
  }),
);

export const UpdateGroupBody = Type.Object(
  {
    groupId: Id,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' })),
    icon: Type.Optional(Type.String({ maxLength: 512 })),
    notification: Type.Optional(
      Type.String({ maxLength: 1024, description: "the announcement ('' removes it)" }),
    ),
    isVerify: Type.Optional(
      Type.Boolean({ description: 'joining needs approval by the creator or a manager' }),
    ),
  },
  { description: 'fields left out are not changed' },
);
export type UpdateGroupBody = Static<typeof UpdateGroupBody>;

export const GroupMuteBody = Type.Object({
  groupId: Id,
  muted: Type.Boolean({ description: 'true: only the creator and managers may post' }),
});

export const MemberMuteBody = Type.Object({
  groupId: Id,
  userId: Id,
  seconds: Type.Integer({
    minimum: 0,
    maximum: 31_536_000,
    description: 'how long from now (at most a year); 0 lifts the mute',
  }),
});
export type MemberMuteBody = Static<typeof MemberMuteBody>;

export const MemberMuteResponse = EnvelopeOf(
  Type.Object({
    mutedUntil: Type.Integer({ description: 'epoch milliseconds; 0 when not muted' }),
  }),
);
