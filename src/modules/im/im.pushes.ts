import type { PushTable } from '../../realtime/server-push.js';
import type { ContentType, ConversationState, Message, ReadReceipt } from './im.entity.js';

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

export const ImPushes: PushTable<ImPushMap> = {
  push: {
    to: 'both users of a single chat, or the group members who may see the message; never the device that sent it',
  },
  'conversation.updated': { to: 'the user’s own devices, except the one that caused the change' },
  'conversation.typing': {
    to: 'the other participants of the conversation (never the typer’s own devices)',
    alsoClientMethod: true,
  },
};

declare module '../../realtime/server-push.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the augmentation adds the module's pushes
  interface ServerPushMap extends ImPushMap {}
}
