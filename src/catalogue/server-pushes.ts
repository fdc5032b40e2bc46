import { ImPushes } from '../modules/im/im.pushes.js';
import { SocialPushes } from '../modules/social/social.pushes.js';
import { RealtimePushes, type PushTable, type ServerPushMap } from '../realtime/server-push.js';

/**
 * Every server push, joined at run time from each module's table. The type
 * fails the build when a module adds pushes to ServerPushMap without listing its
 * table here.
 */
export const ServerPushes: PushTable<ServerPushMap> = {
  ...RealtimePushes,
  ...ImPushes,
  ...SocialPushes,
};

/** Methods only the server sends: a client sending one gets an error frame. */
export const SERVER_ONLY_METHODS: ReadonlySet<string> = new Set(
  Object.entries(ServerPushes)
    .filter(([, push]) => !push.alsoClientMethod)
    .map(([method]) => method),
);
