import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import webpush from 'web-push';
import type { Config } from '../../config/config.schema.js';
import type { PushProviders } from './provider-dispatcher.js';
import { createProviderSenders } from './provider-senders.js';
import { WebPushSender } from './webpush-sender.js';

/**
 * The providers `push.*` configures. Web Push is on when both VAPID keys are set
 * (a half-set pair is a configuration error, not a silent "off"); FCM and APNs when
 * `push.fcm` / `push.apns` have credentials. Devices of a platform left off are
 * skipped and counted (`easychat_push_notifications_total{outcome="skipped"}`).
 */
export function buildPushProviders(config: Config['push']): PushProviders {
  // FCM and APNs from push.fcm / push.apns (each on when its credential is set).
  const providers: PushProviders = { ...createProviderSenders(config) };
  const web = config.webpush;
  if (web.publicKey !== '' || web.privateKey !== '') {
    if (web.publicKey === '' || web.privateKey === '' || web.subject === '') {
      throw new Error(
        'push.webpush needs subject, publicKey and privateKey together (npx web-push generate-vapid-keys)',
      );
    }
    try {
      // Checks the subject (mailto: or https:) and both keys now rather than at the first send.
      webpush.getVapidHeaders(
        'https://push.example',
        web.subject,
        web.publicKey,
        web.privateKey,
        'aes128gcm',
      );
    } catch (err) {
      throw new Error(`push.webpush: ${(err as Error).message}`);
    }
    providers.webpush = new WebPushSender({
      vapid: { subject: web.subject, publicKey: web.publicKey, privateKey: web.privateKey },
      ttlSec: web.ttlSec,
      timeoutMs: web.timeoutMs,
      maxAttempts: web.maxAttempts,
      retryBaseMs: web.retryBaseMs,
      maxRetryAfterMs: web.maxRetryAfterMs,
      ...(web.caFile !== ''
        ? {
            agent: new Agent({
              ca: [...rootCertificates, readFileSync(web.caFile, 'utf8')],
              keepAlive: true,
            }),
          }
        : {}),
    });
  }
  return providers;
}
