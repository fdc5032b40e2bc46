import { Type } from 'typebox';
import type { PushTable } from '../../realtime/server-push.js';
import {
  ContentType,
  type ConversationState,
  type Message,
  type ReadReceipt,
} from './im.entity.js';
import { MessageSchema } from './im.schema.js';

/** A typing notice relayed to the other participants. */
export interface TypingNotice {
  conversationId: string;
  userId: string;
  typing: boolean;
}

/** The IM module's pushes: method → data. */
export interface ImPushMap {
  /**
   * A stored chat message (contentType 0), a read receipt (contentType 1) or the
   * current state of a changed message (contentType 2); `formId` is the sender or reader.
   */
  push:
    | (Message & { contentType: typeof ContentType.chat })
    | (ReadReceipt & { contentType: typeof ContentType.readReceipt })
    | (Message & { contentType: typeof ContentType.change });
  /** A user's own conversation state changed (read on another device, say). */
  'conversation.updated': ConversationState;
  /** Someone is typing (or stopped); relayed, never stored. Also a client method. */
  'conversation.typing': TypingNotice;
}

// --- Payload schemas, for the AsyncAPI document (the types above are what the code checks) ---

const MessageWith = (contentType: number, description: string) =>
  Type.Object(
    { ...MessageSchema.properties, contentType: Type.Literal(contentType) },
    { description },
  );

const ReadReceiptSchema = Type.Object(
  {
    contentType: Type.Literal(ContentType.readReceipt),
    conversationId: Type.String(),
    chatType: Type.Integer({ description: '1 group, 2 single' }),
    sendId: Type.String({ description: 'the reader (of a merged group receipt: the last one)' }),
    recvId: Type.String({ description: 'the peer (single chat) or the group id' }),
    readSeq: Type.Integer(),
    reads: Type.Optional(
      Type.Record(Type.String(), Type.Integer(), {
        description: 'group receipts merged over a window: reader → readSeq',
      }),
    ),
    sendTime: Type.Integer({ description: 'epoch milliseconds' }),
  },
  { description: 'contentType 1: someone read the conversation up to readSeq' },
);

const ConversationStateSchema = Type.Object({
  conversationId: Type.String(),
  pinned: Type.Boolean(),
  muted: Type.Boolean(),
  isShow: Type.Boolean(),
  readSeq: Type.Integer(),
  clearSeq: Type.Integer(),
});

const TypingNoticeSchema = Type.Object({
  conversationId: Type.String(),
  userId: Type.String({ description: 'who is typing' }),
  typing: Type.Boolean({ description: 'false: stopped; expire it a few seconds after anyway' }),
});

export const ImPushes: PushTable<ImPushMap> = {
  push: {
    to: 'both users of a single chat, or the group members who may see the message; never the device that sent it',
    data: Type.Union([
      MessageWith(ContentType.chat, 'contentType 0: a stored chat message'),
      ReadReceiptSchema,
      MessageWith(ContentType.change, 'contentType 2: the current state of a changed message'),
    ]),
  },
  'conversation.updated': {
    to: 'the user’s own devices, except the one that caused the change',
    data: ConversationStateSchema,
  },
  'conversation.typing': {
    to: 'the other participants of the conversation (never the typer’s own devices)',
    alsoClientMethod: true,
    data: TypingNoticeSchema,
  },
};

declare module '../../realtime/server-push.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the augmentation adds the module's pushes
  interface ServerPushMap extends ImPushMap {}
}
