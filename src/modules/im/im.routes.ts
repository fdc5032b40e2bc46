import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authenticate, caller } from '../../auth/authenticate.js';
import { errorResponses, ok } from '../../http/envelope.js';
import type { TokenService } from '../../auth/token.service.js';
import type { ConversationService } from './conversation.service.js';
import type { HistoryService } from './history.service.js';
import {
  ChatLogQuery,
  ChatLogResponse,
  ConversationsResponse,
  DeleteConversationQuery,
  EmptyResponse,
  ReadRecordsQuery,
  ReadRecordsResponse,
  SetupConversationBody,
  SetupConversationResponse,
  UpdateConversationsBody,
} from './im.schema.js';
import { ImErrors } from './im.errors.js';

const tags = ['im'];
const security = [{ bearer: [] }];

/** `/v1/im`: history, read records and conversations over HTTP (sending is WebSocket). */
export function imRoutes(deps: {
  tokens: TokenService;
  conversations: ConversationService;
  history: HistoryService;
}): FastifyPluginAsyncTypebox {
  const { conversations, history } = deps;
  return async (app) => {
    const onRequest = authenticate(deps.tokens);

    app.get(
      '/chatlog',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Messages of a conversation, newest first (participants only)',
          operationId: 'chatLog',
          errors: [ImErrors.notParticipant],
          querystring: ChatLogQuery,
          response: { 200: ChatLogResponse, ...errorResponses },
        },
      },
      async (request) => ok({ list: await history.chatLog(caller(request).userId, request.query) }),
    );

    app.get(
      '/chatlog/readRecords',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Who has and has not read a message',
          operationId: 'readRecords',
          errors: [ImErrors.messageNotFound],
          querystring: ReadRecordsQuery,
          response: { 200: ReadRecordsResponse, ...errorResponses },
        },
      },
      async (request) => ok(await history.readRecords(caller(request).userId, request.query.msgId)),
    );

    app.post(
      '/setup/conversation',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Open a conversation with a user or a group',
          operationId: 'setupConversation',
          errors: [
            ImErrors.chatWithSelf,
            ImErrors.recipientNotFound,
            ImErrors.notFriends,
            ImErrors.notGroupMember,
          ],
          body: SetupConversationBody,
          response: { 200: SetupConversationResponse, ...errorResponses },
        },
      },
      async (request) =>
        ok({ conversationId: await conversations.setup(caller(request).userId, request.body) }),
    );

    app.get(
      '/conversation',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'My conversations with maxSeq, readSeq, unread and the last message',
          operationId: 'conversations',
          response: { 200: ConversationsResponse, ...errorResponses },
        },
      },
      async (request) => ok({ conversationList: await conversations.list(caller(request).userId) }),
    );

    app.put(
      '/conversation',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Move read positions forward; show, hide, pin or mute conversations',
          operationId: 'updateConversations',
          errors: [ImErrors.tooManyConversations, ImErrors.notParticipant],
          body: UpdateConversationsBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await conversations.update(caller(request).userId, request.body.conversationList);
        return ok({});
      },
    );

    app.delete(
      '/conversation',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Hide a conversation and clear its history, for me only',
          operationId: 'deleteConversation',
          errors: [ImErrors.notParticipant],
          querystring: DeleteConversationQuery,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await conversations.remove(caller(request).userId, request.query.conversationId);
        return ok({});
      },
    );
  };
}
