import type { Broker, Subscription } from '../adapters/bus/bus.js';
import type { Presence } from '../adapters/presence/presence.js';
import { startNoticePushes } from '../modules/im/index.js';
import {
  followNameChanges,
  startPushDelivery,
  WebhookPushes,
  type RecipientDirectory,
} from '../modules/push/index.js';
import { startSocialPushes } from '../modules/social/index.js';
import { startFanoutWorker, type GroupFanoutJobs } from '../realtime/fanout-jobs.js';
import type { RoutedPushDelivery } from '../realtime/push-delivery.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { Services } from './build-services.js';
import type { EventLayer } from './event-layer.js';
import type { Config } from '../config/config.schema.js';

const HOUR_MS = 3_600_000;
const PUSH_SENT_PRUNE_MS = 600_000;

/**
 * The `worker` role: the modules' consumers first (so their queues exist before
 * the relay publishes anything), then the event layer (its consumers, the outbox
 * relay and housekeeping).
 */
export async function startWorker(deps: {
  config: Config;
  services: Services;
  events: EventLayer;
  broker: Broker;
  presence: Presence;
  audience: RecipientDirectory;
  delivery: RoutedPushDelivery;
  jobs?: GroupFanoutJobs;
  clock: Clock;
  logger: Logger;
}): Promise<Subscription[]> {
  const { broker, events, delivery, services, config } = deps;
  const subscriptions = [
    await startSocialPushes({ broker, delivery, directory: services.socialDirectory }),
    await startNoticePushes({
      broker,
      messages: services.im.messages,
      fanout: services.im.fanout,
    }),
    await followNameChanges({ broker, names: services.notificationNames, logger: deps.logger }),
    await startPushDelivery({
      broker,
      audience: deps.audience,
      presence: deps.presence,
      devices: services.pushDevices,
      text: services.offlineText,
      recalled: async (msgId) =>
        (await services.im.messages.findById(msgId))?.revoked !== undefined,
      sender: services.pushSender,
      webhook: new WebhookPushes({
        mode: config.push.webhook,
        notify: events.notify,
        unseen: () => events.pushesUnseen(),
      }),
      concurrency: config.push.delivery.concurrency,
      logger: deps.logger,
    }),
    pruneSentPushes(deps),
    // After the delivery consumer stopped: the providers' connections (APNs HTTP/2).
    { stop: () => services.pushSender.close() },
    ...(deps.jobs ? await startFanoutWorker(deps.jobs, delivery) : []),
  ];
  await events.startWorker();
  services.files.sweeper.start();
  return subscriptions;
}

/** Forgets sent-notification rows once their events are past redelivery (outbox retention). */
function pruneSentPushes(deps: {
  config: Config;
  services: Services;
  clock: Clock;
  logger: Logger;
}): Subscription {
  const retention = deps.config.outbox.retentionHours * HOUR_MS;
  const timer = setInterval(() => {
    deps.services.pushSent
      .prune(deps.clock() - retention)
      .catch((err: unknown) => deps.logger.warn({ err }, 'pruning sent pushes failed'));
  }, PUSH_SENT_PRUNE_MS);
  timer.unref();
  return { stop: async () => clearInterval(timer) };
}
