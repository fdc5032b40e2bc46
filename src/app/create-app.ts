import type { DestinationStream } from 'pino';
import type { Broker } from '../adapters/bus/bus.js';
import { openBroker } from '../adapters/bus/open-broker.js';
import { openBlobStore } from '../adapters/blob/open-blob-store.js';
import { topicFormats } from '../catalogue/topic-formats.js';
import type { Cache } from '../adapters/cache/cache.js';
import { openCache } from '../adapters/cache/open-cache.js';
import type { Presence } from '../adapters/presence/presence.js';
import { autovacuumIsOff, openStorage, type Storage } from '../adapters/storage/storage.js';
import { isOutage } from '../adapters/unavailable.js';
import { asyncApiDocument } from '../catalogue/asyncapi.js';
import { MIGRATIONS } from '../catalogue/migrations.js';
import { ServerPushes } from '../catalogue/server-pushes.js';
import type { Config } from '../config/config.schema.js';
import { resolveJwtSecret } from '../config/jwt-secret.js';
import { ConnectionRegistry } from '../gateway/connection-registry.js';
import { GatewayMetrics } from '../gateway/gateway-metrics.js';
import type { WsMethods } from '../gateway/ws-method.js';
import { buildHttpServer, type HttpServer } from '../http/build-server.js';
import { asyncApiRoute } from '../http/asyncapi.route.js';
import { healthRoutes } from '../http/health.routes.js';
import { Metrics } from '../http/metrics.js';
import {
  metricsRoute,
  startMetricsListener,
  type MetricsListener,
} from '../http/metrics-access.js';
import { EventMetrics } from '../events/event-metrics.js';
import { EventLayer } from './event-layer.js';
import { registerWebApp } from '../http/web-app.js';
import { conversationAudience, imWsMethods } from '../modules/im/index.js';
import { followSocialChanges, type PresenceAnnouncer } from '../modules/social/index.js';
import { GroupFanoutJobs } from '../realtime/fanout-jobs.js';
import { RoutedPushDelivery } from '../realtime/push-delivery.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { LogSink } from '../shared/log-sink.js';
import { createLogger, prettyDestination, wantsPrettyLogs, type Logger } from '../shared/logger.js';
import { buildServices, type Services } from './build-services.js';
import { openCluster } from './cluster.js';
import { LocalResync } from '../realtime/local-resync.js';
import type { Subscription } from '../adapters/bus/bus.js';
import { mountApi } from './api-role.js';
import { startGateway } from './gateway-role.js';
import { startWorker } from './worker-role.js';

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly cache: Cache;
  readonly presence: Presence;
  readonly broker: Broker;
  readonly events: EventLayer;
  readonly http: HttpServer;
  /** This process's live WebSocket connections (gateway role). */
  readonly connections: ConnectionRegistry;
  /** The WebSocket methods clients may call (gateway role; empty otherwise). */
  readonly wsMethods: WsMethods;
  readonly services: Services;
  /**
   * Starts listening; resolves with the bound address (port 0 picks a free port) and,
   * when `metrics.listener` is enabled, the metrics listener's URL.
   */
  start(): Promise<{ host: string; port: number; url: string; metricsUrl?: string }>;
  /** Drains requests and pushes, then closes the HTTP server, broker, cache and storage. Idempotent. */
  stop(): Promise<void>;
}

export interface CreateAppOptions {
  clock?: Clock;
  /** Where logs go (tests capture them); stdout through a LogSink by default. */
  logDestination?: DestinationStream;
}

/**
 * The composition root: opens the adapters chosen by config, builds the services
 * (build-services.ts) and mounts the edges for the roles this process runs.
 */
export async function createApp(config: Config, options: CreateAppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const pretty = !options.logDestination && wantsPrettyLogs();
  const sink = options.logDestination || pretty ? undefined : new LogSink();
  const logger = createLogger(
    { level: config.log.level, nodeId: config.nodeId },
    options.logDestination ?? (pretty ? prettyDestination() : sink),
  );
  const jwt = resolveJwtSecret(config.auth.jwtSecret, config.dataDir);
  if (jwt.created) {
    logger.info(
      { path: jwt.created },
      'generated a JWT secret; processes sharing tokens need the same one (set JWT_SECRET)',
    );
  }
  const storage = openStorage(config, MIGRATIONS, {
    onConnectionError: (err) => logger.warn({ err }, 'database connection lost'),
  });
  let cache: Cache | undefined;
  let broker: Broker | undefined;
  let cluster: Awaited<ReturnType<typeof openCluster>> | undefined;
  try {
    // An empty or old database can take a while: say what is happening.
    await storage.migrate((progress) =>
      progress.phase === 'pending'
        ? logger.info(
            { migrations: progress.names },
            `database: applying ${progress.names.length} migration(s)`,
          )
        : logger.info(
            { migrations: progress.names, ms: progress.ms },
            `database: applied ${progress.names.length} migration(s) in ${progress.ms} ms`,
          ),
    );
    if (storage.dialect === 'postgres' && (await autovacuumIsOff(storage.db)))
      logger.warn(
        "PostgreSQL runs with autovacuum off: run ANALYZE on easy-chat's tables regularly, or the planner's statistics go stale and a message costs more the more are stored (docs/deployment.md)",
      );
    const openedCache = (cache = openCache(config));
    const metrics = new Metrics({ node: config.nodeId });
    if (sink) metrics.countDroppedLogLines(sink);
    const eventMetrics = new EventMetrics(metrics.registry);
    const openedBroker = (broker = await openBroker(config, {
      logger,
      observer: eventMetrics,
      isTransient: isOutage,
      formats: topicFormats(config.bus.topics),
    }));
    const connections = new ConnectionRegistry(config.gateway.maxConnectionsPerUser);
    const gatewayMetrics = new GatewayMetrics(metrics.registry, connections);
    const isGateway = config.roles.includes('gateway');
    // Pushes to this gateway's sockets may have been lost (presence or transport down):
    // every socket here is told to resync.
    const localGap = new LocalResync(connections, logger, () =>
      gatewayMetrics.resyncHints.inc({ scope: 'local' }),
    );
    const { presence, mailbox } = (cluster = await openCluster(config, logger, {
      onPresenceRestored: () => localGap.schedule('presence restored'),
    }));
    // One process with the in-process bus fans out inline; a shared bus lets workers do it.
    const jobs =
      config.bus.driver === 'memory'
        ? undefined
        : new GroupFanoutJobs({
            broker,
            partitions: config.cluster.fanoutPartitions,
            source: `easy-chat/${config.nodeId}`,
            clock,
          });
    const audience = conversationAudience(storage.db);
    // Every push leaves through this one path (local sockets first, then other gateways).
    const delivery = new RoutedPushDelivery({
      nodeId: config.nodeId,
      presence,
      mailbox,
      local: isGateway ? connections : undefined,
      audience,
      batchSize: config.im.fanoutBatchSize,
      jobs,
      workerFanoutMin: config.cluster.workerFanoutMin,
      onPush: (n) => gatewayMetrics.pushes.add(n),
      onUnrouted: (n) => gatewayMetrics.unrouted.inc(n),
      onResyncTold: (n) => gatewayMetrics.resyncHints.inc({ scope: 'users' }, n),
      onRepairDropped: (n) =>
        logger.error(
          { users: n },
          'too many unrouted recipients waiting; some will not be told to resync',
        ),
    });
    const services = buildServices({
      config,
      jwtSecret: jwt.secret,
      blobs: await openBlobStore(config),
      registry: metrics.registry,
      storage,
      cache,
      presence,
      delivery,
      clock,
      logger,
      // The event layer is built from the services; a reset code is sent later, by then.
      sendSms: (sms) => events.notify.send('notify.sms', sms),
    });
    const { users, tokens, im } = services;
    const events = new EventLayer({
      config,
      db: storage.db,
      broker,
      metrics: eventMetrics,
      logger,
      clock,
      users,
      tokens,
      systemNotices: im.systemNotices,
      deleteWithNextBatch: services.groupCommit?.runWithNextBatch,
      recorded: services.recordedEvents,
    });

    let draining = false;
    const http = await buildHttpServer({
      config,
      logger,
      metrics,
      isDraining: () => draining,
      onServerError: ({ request, status, code, err }) =>
        events.reportServerError({
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
    await http.register(
      healthRoutes({
        nodeId: config.nodeId,
        roles: config.roles,
        checks: [
          { name: 'storage', check: () => storage.ping() },
          { name: 'cache', check: () => openedCache.ping() },
          { name: 'broker', check: () => openedBroker.ping() },
        ],
      }),
    );
    if (config.metrics.token !== '') {
      await http.register(metricsRoute({ metrics, token: config.metrics.token }));
    }
    if (config.roles.includes('api')) {
      await mountApi(http, { config, services, events, broker, jobs, clock });
    }
    // Every role sends or checks access (gateway sends, api conversations, worker
    // notices): each keeps its cached social answers current from the bus.
    const subscriptions: Subscription[] = [
      await followSocialChanges({ broker, cache: services.accessCache, logger }),
    ];
    // Built in every role: the gateway runs them, and every role describes them.
    const methods = imWsMethods({
      chat: im.chat,
      conversations: im.conversations,
      history: im.history,
      changes: im.changes,
      typing: im.typing,
    });
    await http.register(asyncApiRoute(asyncApiDocument({ methods, pushes: ServerPushes })));
    const wsMethods: WsMethods = isGateway ? methods : {};
    let announcer: PresenceAnnouncer | undefined;
    if (isGateway) {
      const gateway = await startGateway(http, {
        config,
        services,
        methods: wsMethods,
        broker,
        presence,
        mailbox,
        connections,
        delivery,
        localGap,
        metrics: gatewayMetrics,
        logger,
        isDraining: () => draining,
      });
      announcer = gateway.announcer;
      subscriptions.push(...gateway.subscriptions);
    }
    if (config.roles.includes('worker')) {
      subscriptions.push(
        ...(await startWorker({
          config,
          services,
          events,
          broker,
          presence,
          audience,
          delivery,
          jobs,
          clock,
          logger,
        })),
      );
    }

    // The web chat app needs both the REST API and the gateway on this origin.
    if (config.web.enabled && config.roles.includes('api') && config.roles.includes('gateway')) {
      await registerWebApp(http, { dir: config.web.dir, logger });
    }

    let stopping: Promise<void> | undefined;
    let metricsListener: MetricsListener | undefined;
    return {
      config,
      logger,
      storage,
      cache,
      presence,
      broker,
      events,
      http,
      connections,
      wsMethods,
      services,
      async start() {
        await http.listen({
          host: config.server.host,
          port: config.server.port,
          backlog: config.server.backlog,
        });
        const address = http.server.address();
        const port = typeof address === 'object' && address ? address.port : config.server.port;
        const host = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host;
        if (config.metrics.listener.enabled) {
          metricsListener = await startMetricsListener(metrics, config.metrics.listener);
        }
        const url = `http://${host}:${port}`;
        // The one line an operator looks for: where to go, where the data is, what runs here.
        logger.info(
          {
            url,
            port,
            dataDir: config.dataDir,
            roles: config.roles,
            storage: storage.dialect,
            metrics: metricsListener?.url,
          },
          `easy-chat ready: app ${url}/ · API docs ${url}/docs · data ${config.dataDir} (${storage.dialect}) · roles ${config.roles.join(', ')}`,
        );
        return { host, port, url, metricsUrl: metricsListener?.url };
      },
      stop() {
        stopping ??= (async () => {
          draining = true;
          // Closing the server also closes every socket with 1001 (gateway preClose).
          const closed = await closeWithin(http.close(), config.server.shutdownTimeoutMs);
          if (!closed) {
            logger.warn('requests still running at the shutdown deadline; closing them');
            http.server.closeAllConnections();
          }
          await metricsListener?.close();
          await announcer?.idle();
          localGap.stop();
          delivery.repair.stop();
          await Promise.all(subscriptions.map((r) => r.stop()));
          await services.files.sweeper.stop();
          await events.stop();
          await im.flush();
          await openedBroker.close();
          await mailbox.close();
          await presence.close();
          await openedCache.close();
          await services.files.blobs.close();
          await storage.close();
          logger.info('easy-chat stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await broker?.close().catch(() => undefined);
    await cluster?.mailbox.close().catch(() => undefined);
    await cluster?.presence.close().catch(() => undefined);
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
