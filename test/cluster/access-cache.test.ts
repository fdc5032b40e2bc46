/**
 * The social access cache across processes: two complete apps on one PostgreSQL
 * schema and one NATS or RabbitMQ bus. A change made through one (A, which also
 * runs the outbox relay) is refused on the other (B, api and gateway only) once
 * its event came over the bus — with the same codes, and long before the TTL,
 * which is set to ten minutes here so that only the bus can explain a refusal. B's
 * bus connection goes through a proxy: events published while it is cut are lost,
 * and B forgets every cached answer when it is back. The names a worker holds for
 * notifications are dropped the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImErrors } from '../../src/modules/im/im.errors.js';
import {
  TEST_AMQP_URL,
  TEST_DATABASE_URL,
  TEST_NATS_URL,
  TEST_REDIS_URL,
  uniqueName,
} from '../support/backends.js';
import { busOverrides, cleanupAppBroker, type BrokerKind } from '../support/brokers.js';
import { createUser, type RegisteredUser } from '../support/factories.js';
import { befriend, createGroupWith } from '../support/social.js';
import { hostPort, TcpProxy } from '../support/tcp-proxy.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { WsClient } from '../support/ws-client.js';

const BUSES = (
  [...(TEST_NATS_URL ? ['nats'] : []), ...(TEST_AMQP_URL ? ['rabbitmq'] : [])] as BrokerKind[]
).filter(() => TEST_DATABASE_URL !== undefined && TEST_REDIS_URL !== undefined);

describe.skipIf(BUSES.length > 0)('social access cache across processes', () => {
  it.skip('needs TEST_DATABASE_URL, TEST_REDIS_URL and TEST_NATS_URL or TEST_AMQP_URL', () => {});
});

const TEN_MINUTES = 600_000;

describe.runIf(BUSES.length > 0).each(BUSES)(
  'social access cache across processes on %s',
  (bus) => {
    let a: TestApp;
    let b: TestApp;
    let busProxy: TcpProxy;
    const sockets: WsClient[] = [];
    beforeAll(async () => {
      const busUrl = bus === 'nats' ? TEST_NATS_URL! : TEST_AMQP_URL!;
      busProxy = await TcpProxy.start(hostPort(busUrl, bus === 'nats' ? 4222 : 5672));
      const bused = busOverrides(bus);
      const shared = {
        storage: {
          driver: 'postgres' as const,
          postgres: { schema: uniqueName('ac').toLowerCase() },
        },
        cache: { driver: 'redis' as const, redis: { keyPrefix: `${uniqueName('ac')}:` } },
        cluster: { presence: 'redis' as const, transport: 'redis' as const },
        ...bused,
        social: { accessCache: { ttlMs: TEN_MINUTES } },
        auth: { jwtSecret: 'access-cache-test-secret-0123456789abcdef' },
      };
      a = await startTestApp({ storage: 'postgres', overrides: { ...shared, nodeId: 'ac-a' } });
      b = await startTestApp({
        storage: 'postgres',
        overrides: {
          ...shared,
          nodeId: 'ac-b',
          roles: ['api', 'gateway'],
          bus: {
            ...bused.bus,
            ...(bus === 'nats'
              ? { nats: { url: busProxy.url(busUrl) } }
              : { rabbitmq: { url: busProxy.url(busUrl) } }),
          },
        },
      });
    }, 60_000);
    afterAll(async () => {
      await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));
      await b?.close();
      await a?.close();
      if (a) await cleanupAppBroker(a.app);
      await busProxy?.close();
    }, 60_000);

    async function onB(user: RegisteredUser): Promise<WsClient> {
      const socket = await WsClient.connect(b.url, { token: user.token });
      sockets.push(socket);
      return socket.ready();
    }

    /** The send's outcome: 'ok', or the refusal's error code. */
    async function send(socket: WsClient, chatType: 1 | 2, recvId: string): Promise<number | 'ok'> {
      const frame = await socket.request('conversation.chat', {
        chatType,
        recvId,
        msg: { mType: 0, content: 'hello' },
      });
      return frame.frameType === 2 ? 'ok' : (frame.data as { code: number }).code;
    }

    /** Sends until the outcome is `expected`; how long that took (fails after `withinMs`). */
    async function sendUntil(
      attempt: () => Promise<number | 'ok'>,
      expected: number | 'ok',
      withinMs = 10_000,
    ): Promise<number> {
      const started = Date.now();
      let last: number | 'ok' = await attempt();
      while (last !== expected) {
        if (Date.now() - started > withinMs) {
          throw new Error(
            `still ${String(last)} after ${withinMs} ms, expected ${String(expected)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
        last = await attempt();
      }
      return Date.now() - started;
    }

    /** Waits until A's relay published every event recorded so far. */
    async function relayed(): Promise<void> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        // The relay deletes each row once the broker confirmed it.
        const pending = await a.app.storage.db.selectFrom('outboxEvents').select('id').execute();
        if (pending.length === 0) return;
        if (Date.now() > deadline) throw new Error(`${pending.length} outbox events unpublished`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    it('refuses on the other process once the change came over the bus, with the usual codes', async () => {
      const [alice, bob, carol] = [
        await createUser(a.client),
        await createUser(a.client),
        await createUser(a.client),
      ];
      await befriend(alice, bob);
      await befriend(alice, carol);
      const groupId = await createGroupWith(alice, [bob, carol]);
      const [bobOnB, carolOnB] = [await onB(bob), await onB(carol)];
      const single = (socket: WsClient, to: RegisteredUser) => () => send(socket, 2, to.id);
      const group = (socket: WsClient) => () => send(socket, 1, groupId);
      await relayed();
      // B reads and keeps the answers; each pair's second send finds them held at once
      // (its "may send", SocialAccessCache.maySendHeld), which the changes must drop too.
      for (let i = 0; i < 2; i += 1) {
        expect(await single(bobOnB, alice)()).toBe('ok');
        expect(await single(carolOnB, alice)()).toBe('ok');
      }
      expect(await group(bobOnB)()).toBe('ok');
      expect(await group(carolOnB)()).toBe('ok');
      expect(b.app.services.accessCache.size).toBeGreaterThanOrEqual(6);

      const delays: number[] = [];
      const change = async (
        done: Promise<{ status: number }>,
        attempt: () => Promise<number | 'ok'>,
        expected: number | 'ok',
      ) => {
        expect((await done).status).toBe(200);
        delays.push(await sendUntil(attempt, expected));
      };
      await change(
        alice.client.post('/v1/social/blacklist', { userId: bob.id }),
        single(bobOnB, alice),
        ImErrors.blockedByRecipient.code,
      );
      await change(
        alice.client.delete('/v1/social/blacklist', { query: { userId: bob.id } }),
        single(bobOnB, alice),
        'ok',
      );
      await change(
        alice.client.delete('/v1/social/friend', { query: { friendUid: carol.id } }),
        single(carolOnB, alice),
        ImErrors.notFriends.code,
      );
      await change(
        alice.client.put('/v1/social/group/member/mute', { groupId, userId: bob.id, seconds: 600 }),
        group(bobOnB),
        ImErrors.memberMuted.code,
      );
      await change(
        alice.client.put('/v1/social/group/mute', { groupId, muted: true }),
        group(carolOnB),
        ImErrors.groupMuted.code,
      );
      await change(
        alice.client.delete('/v1/social/group/member', { query: { groupId, userId: bob.id } }),
        group(bobOnB),
        ImErrors.notGroupMember.code,
      );
      // Far below the ten-minute TTL: the bus brought every one.
      expect(Math.max(...delays)).toBeLessThan(10_000);
    }, 60_000);

    it('forgets every answer when its bus connection comes back (events sent meanwhile are lost)', async () => {
      const [dave, erin] = [await createUser(a.client), await createUser(a.client)];
      await befriend(dave, erin);
      const erinOnB = await onB(erin);
      await relayed();
      expect(await send(erinOnB, 2, dave.id)).toBe('ok');

      busProxy.block();
      expect((await dave.client.post('/v1/social/blacklist', { userId: erin.id })).status).toBe(
        200,
      );
      await relayed();
      // The event went by while B was cut off: B still holds its old answer (the
      // staleness docs/architecture.md states, at most the TTL without a reconnect).
      expect(await send(erinOnB, 2, dave.id)).toBe('ok');

      busProxy.restore();
      await sendUntil(() => send(erinOnB, 2, dave.id), ImErrors.blockedByRecipient.code, 20_000);
    }, 60_000);

    it('drops a name the worker holds for notifications when it is changed on the other process', async () => {
      // A runs the worker (the push's names); the rename goes through B.
      const frank = await createUser(b.client, { nickname: 'Frank' });
      const names = a.app.services.notificationNames;
      expect(await names.nickname(frank.id)).toBe('Frank');
      expect((await frank.client.put('/v1/user/user', { nickname: 'Franz' })).status).toBe(200);
      // A name is held a minute: only the event over the bus drops it within 10 s.
      const started = Date.now();
      while ((await names.nickname(frank.id)) !== 'Franz') {
        if (Date.now() - started > 10_000) throw new Error('the held name was not dropped');
        await new Promise((r) => setTimeout(r, 25));
      }
    }, 60_000);
  },
);
