import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authenticate, caller } from '../../auth/authenticate.js';
import type { TokenService } from '../../auth/token.service.js';
import { errorResponses, ok } from '../../http/envelope.js';
import {
  GroupMuteBody,
  MemberMuteBody,
  MemberMuteResponse,
  UpdateGroupBody,
} from './group.schema.js';
import type { GroupSettingsService } from './group-settings.service.js';
import { SocialErrors } from './social.errors.js';
import { EmptyResponse, security, tags } from './social.schema.js';

const managerErrors = [
  SocialErrors.groupNotFound,
  SocialErrors.notGroupMember,
  SocialErrors.notGroupManager,
];

/** `/v1/social/group` settings: thin edges over GroupSettingsService. */
export function groupSettingsRoutes(deps: {
  groupSettings: GroupSettingsService;
  tokens: TokenService;
}): FastifyPluginAsyncTypebox {
  const { groupSettings } = deps;
  return async (app) => {
    app.addHook('onRequest', authenticate(deps.tokens));

    app.put(
      '/group',
      {
        schema: {
          tags,
          security,
          summary: "Change a group's name, icon, announcement or verification (creator, managers)",
          operationId: 'updateGroup',
          errors: managerErrors,
          body: UpdateGroupBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await groupSettings.update(caller(request).userId, request.body);
        return ok({});
      },
    );

    app.put(
      '/group/mute',
      {
        schema: {
          tags,
          security,
          summary: 'Mute or unmute a whole group: then only the creator and managers post',
          operationId: 'muteGroup',
          errors: managerErrors,
          body: GroupMuteBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { groupId, muted } = request.body;
        await groupSettings.muteGroup(caller(request).userId, groupId, muted);
        return ok({});
      },
    );

    app.put(
      '/group/member/mute',
      {
        schema: {
          tags,
          security,
          summary: 'Mute one member for some seconds (0 lifts it)',
          operationId: 'muteMember',
          errors: [
            ...managerErrors,
            SocialErrors.targetIsSelf,
            SocialErrors.memberNotFound,
            SocialErrors.cannotMuteMember,
          ],
          body: MemberMuteBody,
          response: { 200: MemberMuteResponse, ...errorResponses },
        },
      },
      async (request) => ok(await groupSettings.muteMember(caller(request).userId, request.body)),
    );
  };
}
