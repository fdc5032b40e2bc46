import type { DestinationStream } from 'pino';
import type { Broker } from '../adapters/bus/bus.js';
import { openBroker } from '../adapters/bus/open-broker.js';
import type { Cache } from '../adapters/cache/cache.js';
import { openCache } from '../adapters/cache/open-cache.js';
import { MemoryPresence } from '../adapters/presence/memory-presence.js';
import type { Presence } from '../adapters/presence/presence.js';
import { openStorage, type Storage } from '../adapters/storage/storage.js';
import type { Config } from '../config/config.schema.js';
import { EventRecorder } from '../events/event-recorder.js';
import { buildHttpServer, type HttpServer } from '../http/build-server.js';
import { healthRoutes } from '../http/health.routes.js';
import { Metrics } from '../http/metrics.js';
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
import {
  adminRoutes,
  EventLayer,
  EventMetrics,
  ingestRoutes,
  type SystemNoticeSink,
} from '../modules/event/index.js';

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly cache: Cache;
  readonly presence: Presence;
  readonly broker: Broker;
  readonly events: EventLayer;
  readonly http: HttpServer;
  readonly services: { users: UserService; tokens: TokenService };
  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  start(): Promise<{ host: string; port: number; url: string }>;
  /** Drains requests, then closes the HTTP server, cache and storage. Idempotent. */
  stop(): Promise<void>;
}

export interface CreateAppOptions {
  clock?: Clock;
  /** Where logs go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
  /** Posts system notices into conversations (the IM module provides it). */
  systemNotices?: SystemNoticeSink;
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
  let broker: Broker | undefined;
  try {
    await storage.migrate();
    cache = openCache(config);
    const metrics = new Metrics({ node: config.nodeId });
    const eventMetrics = new EventMetrics(metrics.registry);
    broker = await openBroker(config, { logger, observer: eventMetrics });
    const presence: Presence = new MemoryPresence();

    const tokens = new TokenService({
      secret: config.auth.jwtSecret,
      ttlSec: config.auth.tokenTtlSec,
      cache,
      clock,
    });
    const events = new EventRecorder({ clock, source: `easy-chat/${config.nodeId}` });
    const users = new UserService({
      db: storage.db,
      users: new UserRepository(storage.db),
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

    const eventLayer = new EventLayer({
      config,
      db: storage.db,
      broker,
      metrics: eventMetrics,
      logger,
      clock,
      users,
      tokens,
      systemNotices: options.systemNotices,
    });

    let draining = false;
    const http = await buildHttpServer({
      config,
      logger,
      metrics,
      isDraining: () => draining,
      onServerError: ({ request, status, code, err }) =>
        eventLayer.reportServerError({
          requestId: request.id,
          method: request.method,
          path: (request.url.split('?')[0] ?? '').slice(0, 500),
          route: request.routeOptions.url,
          status,
          code,
          message: err instanceof Error ? err.message.slice(0, 1000) : String(err),
          userId: request.auth?.userId,
        }),
    });
    const openCacheRef = cache;
    const openBrokerRef = broker;
    await http.register(
      healthRoutes({
        metrics,
        nodeId: config.nodeId,
        roles: config.roles,
        checks: [
          { name: 'storage', check: () => storage.ping() },
          { name: 'cache', check: () => openCacheRef.ping() },
          { name: 'broker', check: () => openBrokerRef.ping() },
        ],
      }),
    );
    if (config.roles.includes('api')) {
      await http.register(userRoutes({ users, tokens }), { prefix: '/v1/user' });
      await http.register(ingestRoutes({ ingest: eventLayer.ingest }), { prefix: '/v1/events' });
      await http.register(
        adminRoutes({ adminToken: config.admin.token, tokens, audit: eventLayer.audit }),
        { prefix: '/v1/admin' },
      );
    }
    // Consumers declare their queues before the relay publishes anything.
    if (config.roles.includes('worker')) await eventLayer.startWorker();

    let stopping: Promise<void> | undefined;
    return {
      config,
      logger,
      storage,
      cache,
      presence,
      broker,
      events: eventLayer,
      http,
      services: { users, tokens },
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
          await eventLayer.stop();
          await openBrokerRef.close();
          await presence.close();
          await openCacheRef.close();
          await storage.close();
          logger.info('easy-chat stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await broker?.close().catch(() => undefined);
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
