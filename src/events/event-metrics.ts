import { Counter, type Registry } from 'prom-client';
import { BufferedCounter } from '../shared/buffered-counter.js';
import type { BusObserver } from '../adapters/bus/delivery-runner.js';

/** Prometheus counters of the event layer, on the app's own registry. */
export class EventMetrics implements BusObserver {
  readonly publishFailures: Counter<'topic'>;
  readonly asyncSendFailures: Counter<'topic'>;
  /** Every delivery of every event counts here: buffered (BufferedCounter). */
  readonly deliveries: BufferedCounter<'queue' | 'outcome'>;
  readonly relayed: Counter;
  readonly relayFailures: Counter;
  readonly notifications: Counter<'channel' | 'outcome'>;
  readonly ingested: Counter<'type' | 'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.publishFailures = new Counter({
      name: 'easychat_bus_publish_failures_total',
      help: 'Failed publish attempts (retried by resilient publishers)',
      labelNames: ['topic'] as const,
      registers,
    });
    this.asyncSendFailures = new Counter({
      name: 'easychat_bus_async_send_failures_total',
      help: 'Fire-and-forget sends (sendAsync) that failed and were dropped',
      labelNames: ['topic'] as const,
      registers,
    });
    this.deliveries = new BufferedCounter({
      name: 'easychat_bus_deliveries_total',
      help: 'Deliveries by queue and outcome (ack, retry, dead, skipped)',
      labelNames: ['queue', 'outcome'] as const,
      registers,
    });
    this.relayed = new Counter({
      name: 'easychat_outbox_relayed_total',
      help: 'Outbox events published to the broker',
      registers,
    });
    this.relayFailures = new Counter({
      name: 'easychat_outbox_relay_failures_total',
      help: 'Outbox relay batches that failed and will be retried',
      registers,
    });
    this.notifications = new Counter({
      name: 'easychat_notifications_total',
      help: 'Notifications by channel (email, sms, push) and outcome',
      labelNames: ['channel', 'outcome'] as const,
      registers,
    });
    this.ingested = new Counter({
      name: 'easychat_ingested_events_total',
      help: 'POST /v1/events by event type and outcome',
      labelNames: ['type', 'outcome'] as const,
      registers,
    });
  }

  // BusObserver
  handled(queue: string, outcome: string): void {
    this.deliveries.inc(queue, outcome);
  }

  publishFailed(topic: string): void {
    this.publishFailures.inc({ topic });
  }
}
