import type { Broker, Subscription } from '../adapters/bus/bus.js';
import type { Presence } from '../adapters/presence/presence.js';
import {
  OFFLINE_PUSH_QUEUE,
  startOfflinePushes,
  type MutedMembers,
} from '../modules/im/offline-pushes.js';
import { startNoticePushes } from '../modules/im/index.js';
import { startSocialPushes } from '../modules/social/index.js';
import { startFanoutWorker, type GroupFanoutJobs } from '../realtime/fanout-jobs.js';
import type { ConversationAudience } from '../realtime/local-sockets.js';
import type { RoutedPushDelivery } from '../realtime/push-delivery.js';
import type { Services } from './build-services.js';
import type { EventLayer } from './event-layer.js';

/**
 * The `worker` role: the modules' consumers first (so their queues exist before
 * the relay publishes anything), then the event layer (its consumers, the outbox
 * relay and housekeeping).
 */
export async function startWorker(deps: {
  services: Services;
  events: EventLayer;
  broker: Broker;
  presence: Presence;
  audience: ConversationAudience & MutedMembers;
  delivery: RoutedPushDelivery;
  jobs?: GroupFanoutJobs;
}): Promise<Subscription[]> {
  const { broker, events, delivery } = deps;
  const subscriptions = [
    await startSocialPushes({ broker, delivery, directory: deps.services.socialDirectory }),
    await startNoticePushes({
      broker,
      messages: deps.services.im.messages,
      fanout: deps.services.im.fanout,
    }),
    await startOfflinePushes({
      broker,
      audience: deps.audience,
      presence: deps.presence,
      notify: events.notify,
      compose: (message, userIds) => deps.services.offlineText.compose(message, userIds),
      seen: (id) => events.processed.seen(OFFLINE_PUSH_QUEUE, id),
      markSeen: (id) => events.processed.mark(OFFLINE_PUSH_QUEUE, id),
    }),
    ...(deps.jobs ? await startFanoutWorker(deps.jobs, delivery) : []),
  ];
  await events.startWorker();
  deps.services.files.sweeper.start();
  return subscriptions;
}
