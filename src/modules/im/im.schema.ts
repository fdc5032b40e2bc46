import { Type, type Static } from 'typebox';
import { EmptyObject, EnvelopeOf } from '../../http/envelope.js';

const Id = Type.String({ minLength: 1, maxLength: 80 });
const MsgId = Type.String({ minLength: 1, maxLength: 32 });
const UserId = Type.String({ minLength: 1, maxLength: 32 });
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
  content: Type.String({
    description: "'' once recalled; JSON text of the file for 1, 2, 4, 5 (docs/files.md)",
  }),
  clientMsgId: Type.Union([Type.String(), Type.Null()]),
  modSeq: Type.Integer({ description: 'the conversation modSeq of its last change; 0 if none' }),
  editedAt: Type.Optional(Type.Integer({ description: 'epoch milliseconds of the last edit' })),
  revoked: Type.Optional(Type.Object({ by: Type.String(), at: Type.Integer() })),
  replyTo: Type.Optional(
    Type.Object({
      msgId: Type.String(),
      sendId: Type.String(),
      mType: Type.Integer(),
      excerpt: Type.String(),
      revoked: Type.Optional(Type.Boolean()),
    }),
  ),
  atUserIds: Type.Optional(Type.Array(Type.String())),
  atAll: Type.Optional(Type.Boolean()),
  reactions: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
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
  replyTo: Type.Optional(MsgId),
  atUserIds: Type.Optional(Type.Array(UserId, { maxItems: 50 })),
  atAll: Type.Optional(Type.Boolean()),
});

export const RevokeData = Type.Object({ conversationId: Id, msgId: MsgId });

export const EditData = Type.Object({
  conversationId: Id,
  msgId: MsgId,
  content: Type.String({ minLength: 1, maxLength: 16_000 }),
});

export const ReactData = Type.Object({
  conversationId: Id,
  msgId: MsgId,
  // One emoji or short code: no spaces, never an object key with a meaning in JS.
  emoji: Type.String({ minLength: 1, maxLength: 32, pattern: '^(?!__proto__$)\\S+$' }),
  add: Type.Boolean(),
});

export const DeleteMessagesData = Type.Object({
  conversationId: Id,
  msgIds: Type.Array(MsgId, { minItems: 1, maxItems: 100 }),
});

export const ConversationIdData = Type.Object({ conversationId: Id });

export const TypingData = Type.Object({ conversationId: Id, typing: Type.Boolean() });

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
  conversations: Type.Record(
    Type.String({ maxLength: 80 }),
    Type.Union([Seq, Type.Object({ seq: Seq, modSeq: Seq })], {
      description: 'lastSeq, or {seq, modSeq} to also get the changes after modSeq',
    }),
  ),
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
  pinned: Type.Boolean(),
  muted: Type.Boolean(),
  mentioned: Type.Boolean({ description: 'a message mentioning me is unread' }),
  clearSeq: Type.Integer({ description: 'cleared for me up to this seq' }),
  msg: Type.Union([MessageSchema, Type.Null()]),
});

export const UpdateConversationsBody = Type.Object({
  conversationList: Type.Record(
    Type.String({ maxLength: 80 }),
    Type.Object({
      readSeq: Type.Optional(Seq),
      isShow: Type.Optional(Type.Boolean()),
      pinned: Type.Optional(Type.Boolean()),
      muted: Type.Optional(Type.Boolean()),
    }),
  ),
});

export const DeleteConversationQuery = Type.Object({ conversationId: Id });

export const MessageVersionsParams = Type.Object({ msgId: MsgId });
export const MessageVersionsResponse = EnvelopeOf(
  Type.Object({
    msgId: Type.String(),
    versions: Type.Array(
      Type.Object({
        content: Type.String(),
        editedBy: Type.String(),
        replacedAt: Type.Integer({ description: 'when this text was replaced (epoch ms)' }),
      }),
    ),
  }),
);

export const ChatLogResponse = EnvelopeOf(Type.Object({ list: Type.Array(MessageSchema) }));
export const ReadRecordsResponse = EnvelopeOf(
  Type.Object({ reads: Type.Array(Type.String()), unReads: Type.Array(Type.String()) }),
);
export const SetupConversationResponse = EnvelopeOf(Type.Object({ conversationId: Type.String() }));
export const ConversationsResponse = EnvelopeOf(
  Type.Object({ conversationList: Type.Record(Type.String(), ConversationViewSchema) }),
);
export const EmptyResponse = EnvelopeOf(EmptyObject);
