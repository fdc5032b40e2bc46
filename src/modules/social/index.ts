import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TokenService } from '../../auth/token.service.js';
import { blacklistRoutes } from './blacklist.routes.js';
import type { BlacklistService } from './blacklist.service.js';
import { friendRoutes } from './friend.routes.js';
import type { FriendService } from './friend.service.js';
import type { GroupAdminService } from './group-admin.service.js';
import { groupSettingsRoutes } from './group-settings.routes.js';
import type { GroupSettingsService } from './group-settings.service.js';
import { groupRoutes } from './group.routes.js';
import type { GroupService } from './group.service.js';

export { BlacklistService } from './blacklist.service.js';
export { BlacklistRepository } from './blacklist.repository.js';
export { FriendService } from './friend.service.js';
export { FriendRepository } from './friend.repository.js';
export { GroupService } from './group.service.js';
export { GroupAdminService } from './group-admin.service.js';
export { GroupSettingsService } from './group-settings.service.js';
export { GroupRepository } from './group.repository.js';
export { SocialDirectory } from './social-directory.js';
export { SocialAccessCache, followSocialChanges } from './social-access-cache.js';
export { SocialAccountRemoval } from './account-removal.js';
export { SocialPushes } from './social.pushes.js';
export { SOCIAL_PUSH_QUEUE, startSocialPushes } from './social-pushes.js';
export { PresenceAnnouncer } from './presence-announcer.js';
export type { GroupMembershipListener } from './group-membership-listener.js';
export { SocialErrors } from './social.errors.js';
export { RoleLevel, HandleResult, JoinSource, pairKey } from './social.entity.js';

/** Every `/v1/social` route: register with that prefix. */
export function socialRoutes(deps: {
  friends: FriendService;
  groups: GroupService;
  groupAdmin: GroupAdminService;
  groupSettings: GroupSettingsService;
  blacklist: BlacklistService;
  tokens: TokenService;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    await app.register(friendRoutes(deps));
    await app.register(blacklistRoutes(deps));
    await app.register(groupRoutes(deps));
    await app.register(groupSettingsRoutes(deps));
  };
}
