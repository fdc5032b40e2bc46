import { Type } from 'typebox';
import { wsMethod, type WsMethods } from '../../gateway/ws-method.js';
import type { ChatService } from './chat.service.js';
import type { ConversationService } from './conversation.service.js';
import type { HistoryService } from './history.service.js';
import { ChatData, MarkChatData, SyncData } from './im.schema.js';

/** The WebSocket methods of the IM module. */
export function imWsMethods(deps: {
  chat: ChatService;
  conversations: ConversationService;
  history: HistoryService;
}): WsMethods {
  const { chat, conversations, history } = deps;
  return {
    'conversation.chat': wsMethod(ChatData, (ctx, data) =>
      chat.send(ctx.userId, data, ctx.connection.id),
    ),

    'conversation.markChat': wsMethod(MarkChatData, async (ctx, data) => {
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
    }),

    'conversation.sync': wsMethod(SyncData, async (ctx, data) => ({
      conversations: await history.sync(ctx.userId, data.conversations),
    })),

    'user.online': wsMethod(Type.Object({}), async (ctx) => ({
      onlineList: await history.onlineFriends(ctx.userId),
    })),
  };
}
