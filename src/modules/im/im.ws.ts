import { Type } from 'typebox';
import { wsMethod, wsOverlappingMethod, type WsMethods } from '../../gateway/ws-method.js';
import type { ChatService } from './chat.service.js';
import type { ConversationService } from './conversation.service.js';
import type { HistoryService } from './history.service.js';
import {
  ChatData,
  ConversationIdData,
  DeleteMessagesData,
  EditData,
  MarkChatData,
  ReactData,
  RevokeData,
  SyncData,
  TypingData,
} from './im.schema.js';
import type { MessageChangeService } from './message-change.service.js';
import { CONVERSATION_TYPING, type TypingRelay } from './typing-relay.js';

/** The WebSocket methods of the IM module. */
export function imWsMethods(deps: {
  chat: ChatService;
  conversations: ConversationService;
  history: HistoryService;
  changes: MessageChangeService;
  typing: TypingRelay;
}): WsMethods {
  const { chat, conversations, history, changes, typing } = deps;
  const markChat = wsMethod(MarkChatData, async (ctx, data) => {
    const readSeq =
      'conversationId' in data
        ? await conversations.markRead(
            ctx.userId,
            data.conversationId,
            data.readSeq,
            ctx.connection.id,
          )
        : await conversations.markReadByMessages(
            ctx.userId,
            { chatType: data.chatType, recvId: data.recvId, msgIds: data.msgIds },
            ctx.connection.id,
          );
    return { readSeq };
  });
  return {
    // A device's sends overlap: each starts once the one before has taken its place in
    // the store's queue, so sends made back to back share a commit and keep their order.
    'conversation.chat': wsOverlappingMethod(ChatData, (ctx, data, placed) =>
      chat.send(ctx.userId, data, ctx.connection.id, placed),
    ),

    'conversation.markChat': markChat,
    // The Go router's name for the same method.
    'conversation.markRead': markChat,

    'conversation.sync': wsMethod(SyncData, async (ctx, data) => ({
      conversations: await history.sync(ctx.userId, data.conversations),
    })),

    'message.revoke': wsMethod(RevokeData, (ctx, data) =>
      changes.revoke(ctx.userId, data.conversationId, data.msgId, ctx.connection.id),
    ),

    'message.edit': wsMethod(EditData, (ctx, data) =>
      changes.edit(ctx.userId, data.conversationId, data.msgId, data.content, ctx.connection.id),
    ),

    'message.react': wsMethod(ReactData, (ctx, data) => changes.react(ctx.userId, data)),

    'message.delete': wsMethod(DeleteMessagesData, async (ctx, data) => {
      await changes.deleteForMe(ctx.userId, data.conversationId, data.msgIds);
      return {};
    }),

    'conversation.clear': wsMethod(ConversationIdData, (ctx, data) =>
      conversations.clear(ctx.userId, data.conversationId, ctx.connection.id),
    ),

    [CONVERSATION_TYPING]: wsMethod(TypingData, async (ctx, data) => {
      await typing.relay(ctx.connection, ctx.userId, data);
      return {};
    }),

    'user.online': wsMethod(Type.Object({}), async (ctx) => ({
      onlineList: await history.onlineFriends(ctx.userId),
    })),
  };
}
