import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { MessageContext } from './offline-text.js';
import type { PushDevice } from './push.entity.js';
import { recallText, type DeviceNotification } from './push-decision.js';
import type { DispatchOutcome, ProviderDispatcher } from './provider-dispatcher.js';
import {
  sentKey,
  type PushSentRepository,
  type SentMessage,
  type SentTo,
} from './push-sent.repository.js';

export type { SentMessage } from './push-sent.repository.js';

/** The message-revoked payload as the withdrawal reads it. */
export interface RevokedEvent extends SentMessage {
  chatType: number;
  sendId: string;
  revokedAt: number;
}

export interface NotificationSenderDeps {
  dispatcher: ProviderDispatcher;
  sent: PushSentRepository;
  devices: {
    registeredOf(userIds: readonly string[]): Promise<PushDevice[]>;
    keepLive(devices: PushDevice[]): Promise<PushDevice[]>;
    /** Forgets a device its provider no longer knows. */
    prune(device: PushDevice): Promise<void>;
  };
  text: {
    context(m: Omit<RevokedEvent, 'revokedAt'> & { mType: number }): Promise<MessageContext>;
    badges(userIds: readonly string[]): Promise<Map<string, number>>;
  };
  /** Provider calls in flight at once for one event. */
  parallelSends: number;
  clock: Clock;
  logger: Logger;
}

/** Some notifications failed after their provider's retries: the event is delivered again. */
export class PushDeliveryError extends Error {
  constructor(
    readonly failed: number,
    readonly firstError: unknown,
  ) {
    super(
      `${failed} push notification(s) failed: ${(firstError as Error)?.message ?? String(firstError)}`,
    );
    this.name = 'PushDeliveryError';
  }
}

/**
 * Sends decided notifications at least once and at most once per (device,
 * message) as far as the provider answered: what already went out (push_sent) is
 * skipped, what a provider accepts is recorded, a device the provider says is gone
 * is deleted, and a failure (after the provider's own bounded retries) fails the
 * event once the others are recorded, so the broker redelivers it (up to its
 * attempts, then the dead-letter queue) and only the failed ones are sent again.
 */
export class NotificationSender {
  constructor(private readonly deps: NotificationSenderDeps) {}

  /** Closes the providers' connections (shutdown). */
  close(): Promise<void> {
    return this.deps.dispatcher.close();
  }

  /** Sends what was not sent yet; answers how many notifications a provider accepted. */
  async deliver(
    message: SentMessage,
    devices: readonly PushDevice[],
    notifications: readonly DeviceNotification[],
    storedAt: number,
  ): Promise<number> {
    if (notifications.length === 0) return 0;
    const { sent, clock } = this.deps;
    const already = await sent.sentAmong(message.msgId, notifications);
    const todo = notifications.filter((n) => !already.has(sentKey(n)));
    const byKey = new Map(devices.map((d) => [sentKey(d), d]));
    const results = await this.sendAll(todo, byKey, storedAt);
    const accepted = results.filter((r) => r.outcome === 'sent').map((r) => r.to);
    await sent.record(message, accepted, clock());
    this.throwFailures(results);
    return accepted.length;
  }

  /**
   * A message was recalled: each device it was notified to gets a notification with
   * the same collapse key saying so, which replaces it (Web Push tag and Topic, FCM
   * collapse key and tag, APNs apns-collapse-id). A device notified of a later
   * message of the conversation since already shows that one and is left alone.
   */
  async withdraw(r: RevokedEvent): Promise<void> {
    const { sent, devices, text, clock } = this.deps;
    const targets = await sent.notRecalled(r.msgId);
    if (targets.length === 0) return;
    const newer = await sent.newerSent(r, targets);
    const superseded = targets.filter((t) => newer.has(sentKey(t)));
    const due = targets.filter((t) => !newer.has(sentKey(t)));
    const live = await devices.keepLive(
      await devices.registeredOf([...new Set(due.map((t) => t.userId))]),
    );
    const byKey = new Map(live.map((d) => [sentKey(d), d]));
    const reachable = due.filter((t) => byKey.has(sentKey(t)));
    // Nothing to replace on a device that is gone or was notified of something later.
    const settled: SentTo[] = [...superseded, ...due.filter((t) => !byKey.has(sentKey(t)))];
    let results: SendResult[] = [];
    if (reachable.length > 0) {
      const ctx = await text.context({ ...r, mType: 0 });
      const words = recallText({
        ...ctx,
        message: { ...r, mType: 0, content: '' },
      });
      const badges = await text.badges(reachable.map((t) => t.userId));
      const notifications = reachable.map((t): DeviceNotification => {
        const device = byKey.get(sentKey(t))!;
        return {
          userId: t.userId,
          deviceId: t.deviceId,
          platform: device.platform,
          ...words,
          badge: badges.get(t.userId)!,
          data: { conversationId: r.conversationId, seq: String(r.seq), msgId: r.msgId },
          collapseKey: r.conversationId,
          dedupKey: `${sentKey(t)}\u0000${r.msgId}\u0000recall`,
          recalled: true,
        };
      });
      results = await this.sendAll(notifications, byKey, r.revokedAt);
    }
    // Sent, gone or without a provider now: either way not to be tried again.
    settled.push(...results.filter((x) => x.outcome !== 'failed').map((x) => x.to));
    await sent.markRecalled(r.msgId, settled, clock());
    this.throwFailures(results);
  }

  private async sendAll(
    notifications: readonly DeviceNotification[],
    byKey: ReadonlyMap<string, PushDevice>,
    storedAt: number,
  ): Promise<SendResult[]> {
    const { dispatcher, devices, logger } = this.deps;
    return mapLimit(notifications, this.deps.parallelSends, async (n): Promise<SendResult> => {
      const device = byKey.get(sentKey(n))!;
      const to = { userId: n.userId, deviceId: n.deviceId };
      try {
        const outcome = await dispatcher.send(device, n, storedAt);
        if (outcome === 'gone') await devices.prune(device);
        return { to, outcome };
      } catch (error) {
        logger.warn(
          { err: error, userId: n.userId, deviceId: n.deviceId, platform: n.platform },
          'push notification failed',
        );
        return { to, outcome: 'failed', error };
      }
    });
  }

  private throwFailures(results: readonly SendResult[]): void {
    const failed = results.filter((r) => r.outcome === 'failed');
    if (failed.length > 0) throw new PushDeliveryError(failed.length, failed[0]!.error);
  }
}

interface SendResult {
  to: SentTo;
  outcome: DispatchOutcome | 'failed';
  error?: unknown;
}

/** Runs `fn` over `items` with at most `limit` at once, results in input order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
