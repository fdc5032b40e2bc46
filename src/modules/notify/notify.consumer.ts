import type { Consumer, Delivery, Subscription } from '../../adapters/bus/bus.js';
import type { EventMetrics } from '../../events/event-metrics.js';
import { EventTopic } from '../../events/typed-events.js';
import { PushCollapser } from './notify.collapser.js';
import { NOTIFY_TOPIC, type NotifyEventMap } from './notify.events.js';
import type { EmailMessage, PushMessage, Sender, SmsMessage } from './notify.senders.js';
import type { ProcessedEvents } from '../../events/processed-events.js';

export interface NotifySenders {
  email: Sender<EmailMessage>;
  sms: Sender<SmsMessage>;
  push: Sender<PushMessage>;
}

/** push events handled at once: open collapse windows (each holds one event) and sends. */
const PUSH_CONCURRENCY = 256;
/** Open collapse windows at most: half the events in hand, the rest for pushes being sent. */
const PUSH_OPEN_WINDOWS = PUSH_CONCURRENCY / 2;

/** What the notify consumers take (also listed in docs/events.md). */
export const NOTIFY_CONSUMER_SPECS = {
  email: { queue: 'notify.email', topic: NOTIFY_TOPIC, types: ['notify.email'] },
  sms: { queue: 'notify.sms', topic: NOTIFY_TOPIC, types: ['notify.sms'] },
  push: {
    queue: 'notify.push',
    topic: NOTIFY_TOPIC,
    types: ['notify.push'],
    concurrency: PUSH_CONCURRENCY,
  },
} as const;

/**
 * The notify consumers: one durable queue per channel (`notify.email`,
 * `notify.sms`, `notify.push`) on the notify topic, each handing requests to its
 * sender. An event id already delivered is skipped; the mark is written after
 * the sender succeeded, so only a crash in between sends twice (the delivery id
 * travels with the message so the far end can drop the repeat).
 */
export class NotifyConsumers {
  private readonly collapser: PushCollapser;

  constructor(
    private readonly deps: {
      bus: Consumer;
      senders: NotifySenders;
      processed: ProcessedEvents;
      collapseWindowMs: number;
      metrics?: EventMetrics;
    },
  ) {
    this.collapser = new PushCollapser(
      deps.collapseWindowMs,
      PUSH_OPEN_WINDOWS,
      (push, deliveryId) => this.count('push', deps.senders.push.send(push, deliveryId)),
    );
  }

  async start(): Promise<Subscription[]> {
    const { bus } = this.deps;
    const topic = new EventTopic<NotifyEventMap>(NOTIFY_TOPIC);
    const { senders } = this.deps;
    const subs = [
      await topic.consume(bus, NOTIFY_CONSUMER_SPECS.email, (event, d) =>
        this.once(d, () => this.count('email', senders.email.send(event.payload, event.id))),
      ),
      await topic.consume(bus, NOTIFY_CONSUMER_SPECS.sms, (event, d) =>
        this.once(d, () => this.count('sms', senders.sms.send(event.payload, event.id))),
      ),
      await topic.consume(bus, NOTIFY_CONSUMER_SPECS.push, (event, d) =>
        this.once(d, () => this.collapser.submit(event.payload, event.id)),
      ),
    ];
    return [
      ...subs,
      // Stopping sends what is still collapsing, so those events can be acknowledged.
      { stop: () => this.collapser.flushAll() },
    ];
  }

  private async once(d: Delivery, deliver: () => Promise<void>): Promise<void> {
    const queue = d.event.type;
    if (await this.deps.processed.seen(queue, d.event.id)) return;
    await deliver();
    await this.deps.processed.mark(queue, d.event.id);
  }

  private async count(channel: string, sending: Promise<void>): Promise<void> {
    try {
      await sending;
      this.deps.metrics?.notifications.inc({ channel, outcome: 'sent' });
    } catch (err) {
      this.deps.metrics?.notifications.inc({ channel, outcome: 'failed' });
      throw err;
    }
  }
}
