import type { Broker, Subscription } from '../adapters/bus/bus.js';
import type { NodeMailbox } from '../adapters/mailbox/mailbox.js';
import type { Presence } from '../adapters/presence/presence.js';
import { SERVER_ONLY_METHODS } from '../catalogue/server-pushes.js';
import type { Config } from '../config/config.schema.js';
import type { ConnectionRegistry } from '../gateway/connection-registry.js';
import { registerGateway } from '../gateway/gateway.js';
import type { GatewayMetrics } from '../gateway/gateway-metrics.js';
import { closeRevokedSockets } from '../gateway/revocations.js';
import type { WsMethods } from '../gateway/ws-method.js';
import type { HttpServer } from '../http/build-server.js';
import { PresenceAnnouncer } from '../modules/social/index.js';
import type { LocalResync } from '../realtime/local-resync.js';
import { receivePushes, type PushDelivery } from '../realtime/push-delivery.js';
import type { Logger } from '../shared/logger.js';
import type { Services } from './build-services.js';

/**
 * The `gateway` role: takes pushes routed here, serves the WebSocket with the
 * modules' methods, announces presence changes and closes revoked sockets.
 */
export async function startGateway(
  http: HttpServer,
  deps: {
    config: Config;
    services: Services;
    methods: WsMethods;
    broker: Broker;
    presence: Presence;
    mailbox: NodeMailbox;
    connections: ConnectionRegistry;
    delivery: PushDelivery;
    localGap: LocalResync;
    metrics: GatewayMetrics;
    logger: Logger;
    isDraining: () => boolean;
  },
): Promise<{ announcer: PresenceAnnouncer; subscriptions: Subscription[] }> {
  const { config, connections, metrics, logger, presence } = deps;
  await receivePushes(deps.mailbox, config.nodeId, connections, {
    onPush: (n) => metrics.pushes.add(n),
    onGap: () => deps.localGap.schedule('push transport reconnected'),
  });
  const announcer = new PresenceAnnouncer({
    presence,
    directory: deps.services.socialDirectory,
    delivery: deps.delivery,
    logger,
  });
  await registerGateway(http, {
    settings: config.gateway,
    tokens: deps.services.tokens,
    presence,
    registry: connections,
    methods: deps.methods,
    serverOnlyMethods: SERVER_ONLY_METHODS,
    metrics,
    logger,
    // A gateway shutting down closes every socket; its users reconnect elsewhere.
    onPresenceChange: (userId) => {
      if (!deps.isDraining()) announcer.changed(userId);
    },
  });
  const subscriptions = [await closeRevokedSockets({ broker: deps.broker, connections, logger })];
  return { announcer, subscriptions };
}
