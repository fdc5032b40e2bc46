import { NOTICE_PUSH_QUEUE } from '../modules/im/group-notices.js';
import { PUSH_DELIVERY_QUEUE } from '../modules/push/index.js';
import { SOCIAL_PUSH_QUEUE } from '../modules/social/social-pushes.js';
import type { GroupFanoutJobs } from '../realtime/fanout-jobs.js';
import { EVENT_LAYER_CONSUMERS } from './event-catalogue.js';

/**
 * Every durable queue the worker consumes, whose dead letters the admin API may
 * list, replay or discard; any other name is refused, so a typo cannot declare a
 * queue on the broker. The fan-out partitions exist only with a shared bus.
 */
export function deadLetterQueues(jobs?: GroupFanoutJobs): string[] {
  return [
    ...EVENT_LAYER_CONSUMERS.map((spec) => spec.queue),
    PUSH_DELIVERY_QUEUE,
    NOTICE_PUSH_QUEUE,
    SOCIAL_PUSH_QUEUE,
    ...(jobs?.queues() ?? []),
  ];
}
