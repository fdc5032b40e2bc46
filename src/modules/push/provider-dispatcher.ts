import type { Clock } from '../../shared/clock.js';
import type { PushDevice } from './push.entity.js';
import type { DeviceNotification } from './push-decision.js';
import type { PushMetrics } from './push-metrics.js';
import type { SendOutcome, WebPushSender } from './webpush-sender.js';

/**
 * A provider addressed by a device token (FCM registration token, APNs device
 * token). `'gone'`: the provider no longer knows the token (the device is deleted);
 * a failure after the sender's own bounded retries throws.
 */
export interface TokenSender {
  send(token: string, n: DeviceNotification): Promise<SendOutcome>;
  close?(): Promise<void>;
}

/** The configured providers; a platform without one has its devices skipped (and counted). */
export interface PushProviders {
  webpush?: Pick<WebPushSender, 'send'>;
  fcm?: TokenSender;
  apns?: TokenSender;
}

/** What became of one device's notification. */
export type DispatchOutcome = SendOutcome | 'skipped';

/**
 * Hands one notification to the provider of its device's platform and counts the
 * outcome per provider (sent, failed, pruned, skipped) with the call's latency.
 */
export class ProviderDispatcher {
  constructor(
    private readonly deps: { providers: PushProviders; metrics: PushMetrics; clock: Clock },
  ) {}

  /** Closes the providers' connections (shutdown). */
  async close(): Promise<void> {
    const { fcm, apns } = this.deps.providers;
    await Promise.all([fcm?.close?.(), apns?.close?.()]);
  }

  /** Whether devices of this platform can be sent to. */
  has(platform: PushDevice['platform']): boolean {
    return this.deps.providers[platform] !== undefined;
  }

  /** @param storedAt when the message was stored (epoch ms), for the end-to-end delay. */
  async send(
    device: PushDevice,
    n: DeviceNotification,
    storedAt: number,
  ): Promise<DispatchOutcome> {
    const { metrics, providers, clock } = this.deps;
    const provider = device.platform;
    const started = performance.now();
    let outcome: SendOutcome;
    try {
      if (provider === 'webpush') {
        if (!providers.webpush || !device.subscription) return this.skipped(provider);
        outcome = await providers.webpush.send(device.subscription, n);
      } else {
        const sender = providers[provider];
        if (!sender) return this.skipped(provider);
        outcome = await sender.send(device.token, n);
      }
    } catch (err) {
      metrics.notifications.inc({ provider, outcome: 'failed' });
      throw err;
    }
    metrics.latency.observe({ provider }, (performance.now() - started) / 1000);
    if (outcome === 'gone') {
      metrics.notifications.inc({ provider, outcome: 'pruned' });
    } else {
      metrics.notifications.inc({ provider, outcome: 'sent' });
      metrics.delay.observe({ provider }, Math.max(0, clock() - storedAt) / 1000);
    }
    return outcome;
  }

  private skipped(provider: PushDevice['platform']): DispatchOutcome {
    this.deps.metrics.notifications.inc({ provider, outcome: 'skipped' });
    return 'skipped';
  }
}
