import { Type, type Static } from 'typebox';
import { EmptyObject, EnvelopeOf } from '../../http/envelope.js';

const Id = Type.String({ minLength: 1, maxLength: 80 });
const Seq = Type.Integer({ minimum: 0 });
const ChatTypeValue = Type.Union([Type.Literal(1), Type.Literal(2)], {
  description: '1 group, 2 single',
});

export const MessageSchema = Type.Object({
  msgId: Type.String(),
  conversationId: Type.String(),
  chatType: Type.Integer(),
  sendId: Type.String(),
  recvId: Type.String(),
  seq: Type.Integer(),
  sendTime: Type.Integer({ description: 'epoch milliseconds' }),
  mType: Type.Integer({ description: '0 text, 1 image, 2 file, 3 custom, 4 voice, 5 video' }),
  content: Type.String(),
  clientMsgId: Type.Union([Type.String(), Type.Null()]),
});

// --- WebSocket payloads -------------------------------------------------------

export const ChatData = Type.Object({
  conversationId: Type.Optional(Id),
  chatType: ChatTypeValue,
  recvId: Id,
  clientMsgId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  msg: Type.Object({
    mType: Type.Integer({ minimum: 0, maximum: 5 }),
    content: Type.String({ minLength: 1, maxLength: 16_000 }),
  }),
});

export const MarkChatData = Type.Union([
  Type.Object({ conversationId: Id, readSeq: Seq }),
  Type.Object({
    chatType: ChatTypeValue,
    recvId: Id,
    msgIds: Type.Array(Type.String({ maxLength: 32 }), { minItems: 1, maxItems: 200 }),
  }),
]);
export type MarkChatData = Static<typeof MarkChatData>;

export const SyncData = Type.Object({
  conversations: Type.Record(Type.String({ maxLength: 80 }), Seq),
});

// --- HTTP ---------------------------------------------------------------------

export const ChatLogQuery = Type.Object({
  conversationId: Id,
  startSeq: Type.Optional(Seq),
  endSeq: Type.Optional(Seq),
  count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  startSendTime: Type.Optional(Type.Integer({ minimum: 0 })),
  endSendTime: Type.Optional(Type.Integer({ minimum: 0 })),
});

export const ReadRecordsQuery = Type.Object({
  msgId: Type.String({ minLength: 1, maxLength: 32 }),
});

export const SetupConversationBody = Type.Object({ recvId: Id, chatType: ChatTypeValue });

export const ConversationViewSchema = Type.Object({
  conversationId: Type.String(),
  chatType: Type.Integer(),
  targetId: Type.String(),
  isShow: Type.Boolean(),
  maxSeq: Type.Integer(),
  readSeq: Type.Integer(),
  unread: Type.Integer(),
  msg: Type.Union([MessageSchema, Type.Null()]),
});

export const UpdateConversationsBody = Type.Object({
  conversationList: Type.Record(
    Type.String({ maxLength: 80 }),
    Type.Object({ readSeq: Type.Optional(Seq), isShow: Type.Optional(Type.Boolean()) }),
  ),
});

export const ChatLogResponse = EnvelopeOf(Type.Object({ list: Type.Array(MessageSchema) }));
export const ReadRecordsResponse = EnvelopeOf(
  Type.Object({ reads: Type.Array(Type.String()), unReads: Type.Array(Type.String()) }),
);
export const SetupConversationResponse = EnvelopeOf(Type.Object({ conversationId: Type.String() }));
export const ConversationsResponse = EnvelopeOf(
  Type.Object({ conversationList: Type.Record(Type.String(), ConversationViewSchema) }),
);
export const EmptyResponse = EnvelopeOf(EmptyObject);
