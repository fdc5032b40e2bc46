import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authenticate, caller } from '../../auth/authenticate.js';
import { errorResponses, ok } from '../../http/envelope.js';
import type { TokenService } from '../../auth/token.service.js';
import type { GroupAdminService } from './group-admin.service.js';
import {
  CreateGroupBody,
  CreateGroupResponse,
  GroupHandleBody,
  GroupIdBody,
  GroupIdQuery,
  GroupListResponse,
  GroupPutInBody,
  GroupPutInResponse,
  GroupRequestListResponse,
  MemberListResponse,
  MemberQuery,
  MembersQuery,
  SetRoleBody,
} from './group.schema.js';
import type { GroupService } from './group.service.js';
import { EmptyResponse, OnlineResponse, security, tags } from './social.schema.js';
import { SocialErrors } from './social.errors.js';

/** `/v1/social` group routes: thin edges over GroupService and GroupAdminService. */
export function groupRoutes(deps: {
  groups: GroupService;
  groupAdmin: GroupAdminService;
  tokens: TokenService;
}): FastifyPluginAsyncTypebox {
  const { groups, groupAdmin } = deps;
  return async (app) => {
    app.addHook('onRequest', authenticate(deps.tokens));

    app.post(
      '/group',
      {
        schema: {
          tags,
          security,
          summary: 'Create a group; the caller is its creator',
          operationId: 'createGroup',
          body: CreateGroupBody,
          response: { 200: CreateGroupResponse, ...errorResponses },
        },
      },
      async (request) => ok(await groups.create(caller(request).userId, request.body)),
    );

    app.delete(
      '/group',
      {
        schema: {
          tags,
          security,
          summary: 'Dismiss a group (creator only)',
          operationId: 'dismissGroup',
          errors: [SocialErrors.groupNotFound, SocialErrors.notGroupCreator],
          querystring: GroupIdQuery,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await groupAdmin.dismiss(caller(request).userId, request.query.groupId);
        return ok({});
      },
    );

    app.post(
      '/group/putIn',
      {
        schema: {
          tags,
          security,
          summary: 'Apply to join a group, or invite a user into it',
          operationId: 'joinGroup',
          errors: [
            SocialErrors.inviteeRequired,
            SocialErrors.targetIsSelf,
            SocialErrors.targetUserNotFound,
            SocialErrors.groupNotFound,
            SocialErrors.notGroupMember,
            SocialErrors.groupFull,
            SocialErrors.blockedByUser,
          ],
          body: GroupPutInBody,
          response: { 200: GroupPutInResponse, ...errorResponses },
        },
      },
      async (request) => ok(await groups.putIn(caller(request).userId, request.body)),
    );

    app.put(
      '/group/putIn',
      {
        schema: {
          tags,
          security,
          summary: 'Accept, refuse or cancel a join request',
          operationId: 'handleGroupRequest',
          errors: [
            SocialErrors.groupNotFound,
            SocialErrors.groupRequestNotFound,
            SocialErrors.notGroupRequestParty,
            SocialErrors.notGroupManager,
            SocialErrors.requestAlreadyHandled,
            SocialErrors.groupFull,
          ],
          body: GroupHandleBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await groups.handle(caller(request).userId, request.body);
        return ok({});
      },
    );

    app.get(
      '/group/putIns',
      {
        schema: {
          tags,
          security,
          summary: 'Pending join requests of a group (creator and managers)',
          operationId: 'groupRequests',
          errors: [SocialErrors.groupNotFound, SocialErrors.notGroupManager],
          querystring: GroupIdQuery,
          response: { 200: GroupRequestListResponse, ...errorResponses },
        },
      },
      async (request) =>
        ok({ list: await groups.pendingRequests(caller(request).userId, request.query.groupId) }),
    );

    app.get(
      '/groups',
      {
        schema: {
          tags,
          security,
          summary: 'Groups I belong to',
          operationId: 'groups',
          response: { 200: GroupListResponse, ...errorResponses },
        },
      },
      async (request) => ok({ list: await groups.myGroups(caller(request).userId) }),
    );

    app.get(
      '/group/users',
      {
        schema: {
          tags,
          security,
          summary: 'Members of a group, a page at a time (members only)',
          operationId: 'members',
          errors: [SocialErrors.groupNotFound, SocialErrors.notGroupMember],
          querystring: MembersQuery,
          response: { 200: MemberListResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { groupId, limit, cursor } = request.query;
        return ok(await groups.members(caller(request).userId, groupId, { limit, cursor }));
      },
    );

    app.get(
      '/group/users/online',
      {
        schema: {
          tags,
          security,
          summary: 'Members of a group who are online (members only)',
          operationId: 'onlineMembers',
          errors: [SocialErrors.groupNotFound, SocialErrors.notGroupMember],
          querystring: GroupIdQuery,
          response: { 200: OnlineResponse, ...errorResponses },
        },
      },
      async (request) =>
        ok({
          onlineList: await groups.onlineMembers(caller(request).userId, request.query.groupId),
        }),
    );

    app.post(
      '/group/quit',
      {
        schema: {
          tags,
          security,
          summary: 'Leave a group (not the creator)',
          operationId: 'quitGroup',
          errors: [
            SocialErrors.groupNotFound,
            SocialErrors.notGroupMember,
            SocialErrors.creatorCannotQuit,
          ],
          body: GroupIdBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await groupAdmin.quit(caller(request).userId, request.body.groupId);
        return ok({});
      },
    );

    app.put(
      '/group/member',
      {
        schema: {
          tags,
          security,
          summary: "Set a member's role or transfer ownership (creator only)",
          operationId: 'setRole',
          errors: [
            SocialErrors.groupNotFound,
            SocialErrors.notGroupCreator,
            SocialErrors.targetIsSelf,
            SocialErrors.memberNotFound,
          ],
          body: SetRoleBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await groupAdmin.setRole(caller(request).userId, request.body);
        return ok({});
      },
    );

    app.delete(
      '/group/member',
      {
        schema: {
          tags,
          security,
          summary: 'Remove a member (creator: managers and members; managers: members)',
          operationId: 'removeMember',
          errors: [
            SocialErrors.groupNotFound,
            SocialErrors.notGroupManager,
            SocialErrors.targetIsSelf,
            SocialErrors.memberNotFound,
            SocialErrors.cannotRemoveMember,
          ],
          querystring: MemberQuery,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { groupId, userId } = request.query;
        await groupAdmin.removeMember(caller(request).userId, groupId, userId);
        return ok({});
      },
    );
  };
}
