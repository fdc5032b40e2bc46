import { createHash } from 'node:crypto';
import type { Agent } from 'node:https';
import webpush, { WebPushError } from 'web-push';
import type { WebPushSubscription } from './push.entity.js';
import type { DeviceNotification } from './push-decision.js';

export interface WebPushOptions {
  /** VAPID (RFC 8292): contact (`mailto:` or `https:`) and the key pair, base64url. */
  vapid: { subject: string; publicKey: string; privateKey: string };
  /** Seconds the push service keeps an undelivered message. */
  ttlSec: number;
  timeoutMs: number;
  /** Attempts in all (the first included); nothing is retried beyond. */
  maxAttempts: number;
  /** First backoff when the push service gives no Retry-After; doubles each time. */
  retryBaseMs: number;
  /** A longer Retry-After is not waited for: the delivery fails (the broker retries later). */
  maxRetryAfterMs: number;
  /** TLS agent (tests trust their loopback push service with it). */
  agent?: Agent;
  sleep?: (ms: number) => Promise<void>;
}

/** What became of one notification. */
export type SendOutcome = 'sent' | 'gone';

/**
 * Web Push (RFC 8030) with the `web-push` package: the payload encrypted for the
 * subscription (RFC 8291, aes128gcm) and signed with VAPID (RFC 8292). 404/410 mean
 * the subscription is gone (`'gone'`: the caller deletes the device); 429 and 5xx
 * are retried after Retry-After (bounded) or an exponential backoff, at most
 * `maxAttempts` in all; any other answer is final and throws.
 */
export class WebPushSender {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: WebPushOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async send(subscription: WebPushSubscription, n: DeviceNotification): Promise<SendOutcome> {
    const { options } = this;
    const payload = JSON.stringify({
      title: n.title,
      body: n.body,
      badge: n.badge,
      tag: n.collapseKey,
      data: n.data,
      // The service worker shows it in place of the recalled message's notification (same tag).
      ...(n.recalled ? { recalled: true } : {}),
    });
    for (let attempt = 1; ; attempt += 1) {
      try {
        await webpush.sendNotification(subscription, payload, {
          vapidDetails: options.vapid,
          TTL: options.ttlSec,
          timeout: options.timeoutMs,
          contentEncoding: 'aes128gcm',
          // A newer message of the conversation replaces one still queued (≤ 32 base64url).
          topic: topicOf(n.collapseKey),
          ...(options.agent ? { agent: options.agent } : {}),
        });
        return 'sent';
      } catch (err) {
        if (!(err instanceof WebPushError)) throw err;
        if (err.statusCode === 404 || err.statusCode === 410) return 'gone';
        const retryable = err.statusCode === 429 || err.statusCode >= 500;
        if (!retryable || attempt >= options.maxAttempts) throw err;
        const wait =
          retryAfterMs(err.headers, Date.now()) ?? options.retryBaseMs * 2 ** (attempt - 1);
        if (wait > options.maxRetryAfterMs) throw err;
        await this.sleep(wait);
      }
    }
  }
}

/** The Topic header: a stable 32-character base64url digest of the collapse key. */
export function topicOf(collapseKey: string): string {
  return createHash('sha256').update(collapseKey).digest('base64url').slice(0, 32);
}

/** Retry-After as delay-seconds or an HTTP date, in milliseconds from `now`. */
export function retryAfterMs(
  headers: Record<string, string | string[] | undefined> | undefined,
  now: number,
): number | undefined {
  const raw = headers?.['retry-after'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
