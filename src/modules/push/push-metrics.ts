import { Counter, Histogram, type Registry } from 'prom-client';

/** Where a notification goes: the device's platform. */
export type ProviderName = 'webpush' | 'fcm' | 'apns';

/** What became of one notification handed to the dispatcher. */
export type DeliveryOutcome = 'sent' | 'failed' | 'pruned' | 'skipped';

/** Offline-push metrics per provider, on the app's registry (scraped at /metrics). */
export class PushMetrics {
  readonly notifications: Counter<'provider' | 'outcome'>;
  readonly latency: Histogram<'provider'>;
  readonly delay: Histogram<'provider'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.notifications = new Counter({
      name: 'easychat_push_notifications_total',
      help: 'Device notifications by provider and outcome: sent, failed (after its retries), pruned (the provider said the device is gone; deleted), skipped (provider not configured)',
      labelNames: ['provider', 'outcome'] as const,
      registers,
    });
    this.latency = new Histogram({
      name: 'easychat_push_provider_seconds',
      help: 'One notification handed to its provider, retries included (sent or pruned)',
      labelNames: ['provider'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.delay = new Histogram({
      name: 'easychat_push_delay_seconds',
      help: 'From the message stored to its notification accepted by the provider',
      labelNames: ['provider'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
  }
}
