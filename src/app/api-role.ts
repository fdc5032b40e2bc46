import type { Broker } from '../adapters/bus/bus.js';
import { deadLetterQueues } from '../catalogue/queues.js';
import type { Config } from '../config/config.schema.js';
import { deadLetterRoutes } from '../events/dead-letter.routes.js';
import type { HttpServer } from '../http/build-server.js';
import { adminRoutes } from '../modules/audit/audit.routes.js';
import { adminOpsRoutes, adminUserRoutes } from '../modules/admin/index.js';
import { filesRoutes } from '../modules/files/index.js';
import { imAdminRoutes, imRoutes } from '../modules/im/index.js';
import { ingestRoutes } from '../modules/ingest/ingest.routes.js';
import { pushRoutes } from '../modules/push/index.js';
import { socialRoutes } from '../modules/social/index.js';
import { userRoutes } from '../modules/user/index.js';
import type { GroupFanoutJobs } from '../realtime/fanout-jobs.js';
import type { Clock } from '../shared/clock.js';
import type { Services } from './build-services.js';
import type { EventLayer } from './event-layer.js';

/** The `api` role: every REST route, under its prefix. */
export async function mountApi(
  http: HttpServer,
  deps: {
    config: Config;
    services: Services;
    events: EventLayer;
    broker: Broker;
    jobs?: GroupFanoutJobs;
    clock: Clock;
  },
): Promise<void> {
  const { config, services, events, broker } = deps;
  const { users, accounts, blacklist, tokens, friends, groups, groupAdmin, groupSettings, im } =
    services;
  await http.register(
    userRoutes({ users, accounts, passwordReset: services.passwordReset, tokens }),
    { prefix: '/v1/user' },
  );
  await http.register(
    socialRoutes({ friends, groups, groupAdmin, groupSettings, blacklist, tokens }),
    {
      prefix: '/v1/social',
    },
  );
  await http.register(imRoutes({ tokens, conversations: im.conversations, history: im.history }), {
    prefix: '/v1/im',
  });
  await http.register(
    filesRoutes({
      tokens,
      files: services.files.service,
      links: services.files.links,
      config: config.files,
      clock: deps.clock,
    }),
    { prefix: '/v1/files' },
  );
  await http.register(
    pushRoutes({
      tokens,
      devices: services.pushDevices,
      vapidPublicKey: config.push.webpush.publicKey,
    }),
    {
      prefix: '/v1/push',
    },
  );
  await http.register(ingestRoutes({ ingest: events.ingest }), { prefix: '/v1/events' });
  await http.register(
    adminRoutes({ adminToken: config.admin.token, tokens, audit: events.audit }),
    { prefix: '/v1/admin' },
  );
  await http.register(
    imAdminRoutes({ adminToken: config.admin.token, tokens, changes: im.changes }),
    { prefix: '/v1/admin' },
  );
  await http.register(
    adminUserRoutes({
      adminToken: config.admin.token,
      tokens,
      users,
      userRepository: services.admin.userRepository,
    }),
    { prefix: '/v1/admin' },
  );
  await http.register(
    adminOpsRoutes({
      adminToken: config.admin.token,
      tokens,
      notices: im.systemNotices,
      stats: services.admin.stats,
    }),
    { prefix: '/v1/admin' },
  );
  await http.register(
    deadLetterRoutes({
      adminToken: config.admin.token,
      tokens,
      broker,
      queues: deadLetterQueues(deps.jobs),
    }),
    { prefix: '/v1/admin' },
  );
}
