import type { DestinationStream } from 'pino';
import type { Cache } from '../adapters/cache/cache.js';
import { openCache } from '../adapters/cache/open-cache.js';
import { MemoryPresence } from '../adapters/presence/memory-presence.js';
import type { Presence } from '../adapters/presence/presence.js';
import { openStorage, type Storage } from '../adapters/storage/storage.js';
import type { Config } from '../config/config.schema.js';
import { EventRecorder } from '../events/event-recorder.js';
import { ConnectionRegistry } from '../gateway/connection-registry.js';
import { registerGateway } from '../gateway/gateway.js';
import { GatewayMetrics } from '../gateway/gateway-metrics.js';
import { buildHttpServer, type HttpServer } from '../http/build-server.js';
import { healthRoutes } from '../http/health.routes.js';
import { Metrics } from '../http/metrics.js';
import {
  FriendRepository,
  FriendService,
  GroupAdminService,
  GroupRepository,
  GroupService,
  SocialDirectory,
  socialRoutes,
} from '../modules/social/index.js';
import {
  PasswordHasher,
  TokenService,
  UserRepository,
  UserService,
  userRoutes,
} from '../modules/user/index.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { RateLimiter } from '../shared/rate-limiter.js';

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly cache: Cache;
  readonly presence: Presence;
  readonly http: HttpServer;
  readonly services: {
    users: UserService;
    tokens: TokenService;
    friends: FriendService;
    groups: GroupService;
    groupAdmin: GroupAdminService;
    /** Read-only social graph for other modules (IM authorization and fan-out). */
    socialDirectory: SocialDirectory;
  };
  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  start(): Promise<{ host: string; port: number; url: string }>;
  /** Drains requests, then closes the HTTP server, cache and storage. Idempotent. */
  stop(): Promise<void>;
}

export interface CreateAppOptions {
  clock?: Clock;
  /** Where logs go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
}

/**
 * The composition root: builds every adapter chosen by config, the services on
 * them and the edges for the roles this process runs. Nothing else constructs
 * services, so this file shows the whole wiring.
 */
export async function createApp(config: Config, options: CreateAppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger(
    { level: config.log.level, nodeId: config.nodeId },
    options.logDestination,
  );
  const storage = openStorage(config);
  let cache: Cache | undefined;
  try {
    await storage.migrate();
    cache = openCache(config);
    const presence: Presence = new MemoryPresence();

    const tokens = new TokenService({
      secret: config.auth.jwtSecret,
      ttlSec: config.auth.tokenTtlSec,
      cache,
      clock,
    });
    const events = new EventRecorder({ clock, source: `easy-chat/${config.nodeId}` });
    const userRepository = new UserRepository(storage.db);
    const users = new UserService({
      db: storage.db,
      users: userRepository,
      hasher: new PasswordHasher(config.auth.argon2),
      tokens,
      events,
      loginLimiter: new RateLimiter(cache, 'login'),
      clock,
      limits: {
        loginPerPhone: config.rateLimit.login.perPhone,
        loginPerIp: config.rateLimit.login.perIp,
        searchLimit: config.user.searchLimit,
        maxIdsPerQuery: config.user.maxIdsPerQuery,
      },
    });

    const friendRepository = new FriendRepository(storage.db);
    const groupRepository = new GroupRepository(storage.db);
    const friends = new FriendService({
      db: storage.db,
      friends: friendRepository,
      users: userRepository,
      events,
      presence,
      clock,
    });
    const groups = new GroupService({
      db: storage.db,
      groups: groupRepository,
      users: userRepository,
      events,
      presence,
      clock,
      memberLimit: config.social.groupMemberLimit,
    });
    const groupAdmin = new GroupAdminService({
      db: storage.db,
      groups: groupRepository,
      events,
      clock,
    });
    const socialDirectory = new SocialDirectory({
      friends: friendRepository,
      groups: groupRepository,
    });

    let draining = false;
    const metrics = new Metrics({ node: config.nodeId });
    const http = await buildHttpServer({ config, logger, metrics, isDraining: () => draining });
    const openCacheRef = cache;
    await http.register(
      healthRoutes({
        metrics,
        nodeId: config.nodeId,
        roles: config.roles,
        checks: [
          { name: 'storage', check: () => storage.ping() },
          { name: 'cache', check: () => openCacheRef.ping() },
        ],
      }),
    );
    if (config.roles.includes('api')) {
      await http.register(userRoutes({ users, tokens }), { prefix: '/v1/user' });
      await http.register(socialRoutes({ friends, groups, groupAdmin, tokens }), {
        prefix: '/v1/social',
      });
    }
    const connections = new ConnectionRegistry(config.gateway.maxConnectionsPerUser);
    if (config.roles.includes('gateway')) {
      await registerGateway(http, {
        settings: config.gateway,
        tokens,
        presence,
        registry: connections,
        methods: {},
        serverOnlyMethods: new Set(['push']),
        metrics: new GatewayMetrics(metrics.registry),
        logger,
      });
    }

    let stopping: Promise<void> | undefined;
    return {
      config,
      logger,
      storage,
      cache,
      presence,
      http,
      services: { users, tokens, friends, groups, groupAdmin, socialDirectory },
      async start() {
        await http.listen({ host: config.server.host, port: config.server.port });
        const address = http.server.address();
        const port = typeof address === 'object' && address ? address.port : config.server.port;
        const host = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host;
        logger.info({ port, roles: config.roles, storage: storage.dialect }, 'easy-chat started');
        return { host, port, url: `http://${host}:${port}` };
      },
      stop() {
        stopping ??= (async () => {
          draining = true;
          const closed = await closeWithin(http.close(), config.server.shutdownTimeoutMs);
          if (!closed) {
            logger.warn('requests still running at the shutdown deadline; closing them');
            http.server.closeAllConnections();
          }
          await presence.close();
          await openCacheRef.close();
          await storage.close();
          logger.info('easy-chat stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await cache?.close().catch(() => undefined);
    await storage.close().catch(() => undefined);
    throw err;
  }
}

/** Whether `closing` settled within `ms`. */
async function closeWithin(closing: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([closing.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}
