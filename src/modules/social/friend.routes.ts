import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authenticate, caller } from '../../auth/authenticate.js';
import { errorResponses, ok } from '../../http/envelope.js';
import type { TokenService } from '../../auth/token.service.js';
import {
  FriendHandleBody,
  FriendListResponse,
  FriendPutInBody,
  FriendPutInResponse,
  FriendRemarkBody,
  FriendRequestListResponse,
  FriendUidQuery,
} from './friend.schema.js';
import type { FriendService } from './friend.service.js';
import { EmptyResponse, OnlineResponse, security, tags } from './social.schema.js';
import { SocialErrors } from './social.errors.js';

/** `/v1/social` friend routes: thin edges over FriendService. */
export function friendRoutes(deps: {
  friends: FriendService;
  tokens: TokenService;
}): FastifyPluginAsyncTypebox {
  const { friends } = deps;
  return async (app) => {
    app.addHook('onRequest', authenticate(deps.tokens));

    app.post(
      '/friend/putIn',
      {
        schema: {
          tags,
          security,
          summary: 'Ask a user to become friends (accepts their request if they asked first)',
          operationId: 'requestFriend',
          errors: [
            SocialErrors.selfFriendRequest,
            SocialErrors.targetUserNotFound,
            SocialErrors.alreadyFriends,
            SocialErrors.blockedByUser,
          ],
          body: FriendPutInBody,
          response: { 200: FriendPutInResponse, ...errorResponses },
        },
      },
      async (request) => ok(await friends.request(caller(request).userId, request.body)),
    );

    app.put(
      '/friend/putIn',
      {
        schema: {
          tags,
          security,
          summary: 'Accept, refuse or cancel a friend request',
          operationId: 'handleFriendRequest',
          errors: [
            SocialErrors.friendRequestNotFound,
            SocialErrors.notFriendRequestSender,
            SocialErrors.notFriendRequestAddressee,
            SocialErrors.requestAlreadyHandled,
          ],
          body: FriendHandleBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await friends.handle(caller(request).userId, request.body);
        return ok({});
      },
    );

    app.get(
      '/friend/putIns',
      {
        schema: {
          tags,
          security,
          summary: 'Pending friend requests addressed to me',
          operationId: 'friendRequests',
          response: { 200: FriendRequestListResponse, ...errorResponses },
        },
      },
      async (request) => ok({ list: await friends.pendingFor(caller(request).userId) }),
    );

    app.get(
      '/friends',
      {
        schema: {
          tags,
          security,
          summary: 'My friends with nickname and avatar',
          operationId: 'friends',
          response: { 200: FriendListResponse, ...errorResponses },
        },
      },
      async (request) => ok({ list: await friends.list(caller(request).userId) }),
    );

    app.get(
      '/friends/online',
      {
        schema: {
          tags,
          security,
          summary: 'My friends who are online',
          operationId: 'onlineFriends',
          response: { 200: OnlineResponse, ...errorResponses },
        },
      },
      async (request) => ok({ onlineList: await friends.online(caller(request).userId) }),
    );

    app.put(
      '/friend',
      {
        schema: {
          tags,
          security,
          summary: 'Set my remark (private name) for a friend',
          operationId: 'setFriendRemark',
          errors: [SocialErrors.notFriends],
          body: FriendRemarkBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { friendUid, remark } = request.body;
        await friends.setRemark(caller(request).userId, friendUid, remark);
        return ok({});
      },
    );

    app.delete(
      '/friend',
      {
        schema: {
          tags,
          security,
          summary: 'End a friendship (both directions)',
          operationId: 'deleteFriend',
          errors: [SocialErrors.notFriends],
          querystring: FriendUidQuery,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await friends.remove(caller(request).userId, request.query.friendUid);
        return ok({});
      },
    );
  };
}
