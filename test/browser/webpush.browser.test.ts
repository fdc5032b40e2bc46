import webpush from 'web-push';
import { describe, expect, it } from 'vitest';
import { hasChromium, webAppSuite } from '../support/browser.js';
import { until } from '../support/wait.js';

const required = Boolean(process.env.CI_REQUIRE_SERVICES);

/**
 * Chromium's pushManager.subscribe registers with Google's push service (FCM), which
 * a test machine cannot reach (and which a Playwright context, being off the record,
 * refuses anyway). This stands in for that one call only: it records the key the app
 * subscribes with and answers a subscription with a real P-256 key and auth secret.
 * The service worker registration, the VAPID key request and the POST are the app's.
 */
const FAKE_PUSH_SERVICE = `
  window.__subscribed = [];
  PushManager.prototype.subscribe = async function (options) {
    const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    const b64 = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
    const endpoint = 'https://push.example.test/send/' + crypto.randomUUID();
    const keys = { p256dh: b64(raw), auth: b64(crypto.getRandomValues(new Uint8Array(16))) };
    window.__subscribed.push({ key: options.applicationServerKey, userVisibleOnly: options.userVisibleOnly, endpoint, keys });
    return {
      endpoint,
      options: { applicationServerKey: null, userVisibleOnly: true },
      toJSON: () => ({ endpoint, expirationTime: null, keys }),
      unsubscribe: async () => true,
    };
  };
`;

/** The page's globals this test reads (this file is compiled without the DOM types). */
interface PageGlobals {
  __subscribed: Array<{
    key: string;
    userVisibleOnly: boolean;
    endpoint: string;
    keys: { p256dh: string; auth: string };
  }>;
  navigator: { serviceWorker: { ready: Promise<{ active?: { scriptURL: string } }> } };
}
const vapid = { subject: 'mailto:ops@example.test', ...webpush.generateVAPIDKeys() };

describe.runIf(hasChromium || required)('web app: Web Push registration', () => {
  const suite = webAppSuite({ push: { webpush: vapid } });

  it('registers a service worker, subscribes with the server’s VAPID key and sends the subscription', async () => {
    const { chat, context } = await suite.person('Pia', {
      permissions: ['notifications'],
      init: FAKE_PUSH_SERVICE,
    });
    try {
      const page = chat.page;
      await until(
        async () =>
          (await page.evaluate(() => (globalThis as unknown as PageGlobals).__subscribed.length)) >
          0,
        'subscribe called',
      );
      const [first] = await page.evaluate(
        () => (globalThis as unknown as PageGlobals).__subscribed,
      );
      const subscribed = first!;
      expect(subscribed).toMatchObject({ key: vapid.publicKey, userVisibleOnly: true });
      const scriptUrl = await page.evaluate(
        async () =>
          (await (globalThis as unknown as PageGlobals).navigator.serviceWorker.ready).active
            ?.scriptURL,
      );
      expect(scriptUrl).toBe(`${suite.t.url}/sw.js`);

      await until(
        async () =>
          (
            await suite.t.app.storage.db
              .selectFrom('pushDevices')
              .select('token')
              .where('token', '=', subscribed.endpoint)
              .execute()
          ).length === 1,
        'device registered',
      );
      const [row] = await suite.t.app.storage.db
        .selectFrom('pushDevices')
        .selectAll()
        .where('token', '=', subscribed.endpoint)
        .execute();
      expect(row).toMatchObject({
        platform: 'webpush',
        p256dh: subscribed.keys.p256dh,
        auth: subscribed.keys.auth,
      });
      expect(row!.deviceId).toMatch(/^web-/);
    } finally {
      await context.close();
    }
  });
});
