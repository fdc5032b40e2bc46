import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser } from '../../../test/support/factories.js';
import { logLines } from '../../../test/support/log-lines.js';
import { fetchMetrics } from '../../../test/support/metrics.js';
import { befriend } from '../../../test/support/social.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';
import { sleep } from '../../../test/support/fake-webhook.js';
import { until } from '../../../test/support/wait.js';
import { SuiteSockets } from '../../../test/support/ws-client.js';
import { NOTIFY_TOPIC } from '../notify/notify.events.js';

// With the default push driver (console), a push is a line at debug level: at info it
// leaves no trace, so a message to an offline recipient makes none (no read of its
// text and badge, no event), and at debug it does.
describe.each(STORAGES.filter((s) => s !== 'mysql'))(
  'push delivery with the console push driver on %s',
  (storage) => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    /** The notify.push events made for a message to an offline friend, at `level`. */
    const pushesAt = async (level: 'info' | 'debug') => {
      const t: TestApp = await startTestApp({
        storage,
        overrides: { log: { level }, notify: { push: { collapseWindowMs: 0 } } },
        logDestination: logLines([]),
      });
      const sockets = new SuiteSockets(() => t);
      cleanups.push(
        () => t.close(),
        () => sockets.closeAll(),
      );
      const pushes: unknown[] = [];
      await t.app.broker.subscribe(
        { topic: NOTIFY_TOPIC, types: ['notify.push'] },
        async ({ event }) => {
          pushes.push(event.payload);
        },
      );
      const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
      await befriend(alice, bob);
      const ws = await sockets.connect(alice);
      await ws.call('conversation.chat', {
        chatType: 2,
        recvId: bob.id,
        msg: { mType: 0, content: 'are you there' },
      });
      // Push delivery handled the message (a push it makes is published before that).
      await until(
        async () =>
          /easychat_bus_deliveries_total\{queue="push\.delivery",outcome="ack"[^}]*\} 1\b/.test(
            await (await fetchMetrics(t.url)).text(),
          ),
        'push delivery handled the message',
      );
      await sleep(100);
      return { pushes, unseen: t.app.events.pushesUnseen() };
    };

    it('makes no push at info, where the console driver writes none', async () => {
      expect(await pushesAt('info')).toEqual({ pushes: [], unseen: true });
    });

    it('makes the push at debug, where the console driver writes it', async () => {
      const { pushes, unseen } = await pushesAt('debug');
      expect(unseen).toBe(false);
      // Published through the outbox, so it may reach this subscriber after the ack.
      await until(async () => pushes.length > 0, 'the notify.push event arrived');
      expect(pushes).toMatchObject([{ body: 'are you there', data: { badge: '1' } }]);
    });
  },
);
