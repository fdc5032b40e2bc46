/**
 * The one push path across gateways, in process: two complete apps (every role)
 * on one PostgreSQL schema, Redis presence and transport, and one NATS or
 * RabbitMQ bus. Social pushes are produced by whichever worker takes the event
 * and routed by presence, so a user with a device on each gateway gets each push
 * exactly once per device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { startTestApp, type TestApp } from '../support/test-app.js';
import { WsClient } from '../support/ws-client.js';

const BUSES = (
  [...(TEST_NATS_URL ? ['nats'] : []), ...(TEST_AMQP_URL ? ['rabbitmq'] : [])] as BrokerKind[]
).filter(() => TEST_DATABASE_URL !== undefined && TEST_REDIS_URL !== undefined);

describe.skipIf(BUSES.length > 0)('pushes across two gateways', () => {
  it.skip('needs TEST_DATABASE_URL, TEST_REDIS_URL and TEST_NATS_URL or TEST_AMQP_URL', () => {});
});

describe.runIf(BUSES.length > 0).each(BUSES)('pushes across two gateways on %s', (bus) => {
  let a: TestApp;
  let b: TestApp;
  const sockets: WsClient[] = [];
  beforeAll(async () => {
    const shared = {
      storage: {
        driver: 'postgres' as const,
        postgres: { schema: uniqueName('gw').toLowerCase() },
      },
      cache: { driver: 'redis' as const, redis: { keyPrefix: `${uniqueName('gw')}:` } },
      cluster: { presence: 'redis' as const, transport: 'redis' as const },
      ...busOverrides(bus),
      auth: { jwtSecret: 'two-gateways-test-secret-0123456789abcdef' },
    };
    a = await startTestApp({ storage: 'postgres', overrides: { ...shared, nodeId: 'gw-a' } });
    b = await startTestApp({ storage: 'postgres', overrides: { ...shared, nodeId: 'gw-b' } });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));
    await b?.close();
    await a?.close();
    if (a) await cleanupAppBroker(a.app);
  }, 60_000);

  /** One device of the user on each gateway. */
  const devices = async (user: RegisteredUser) => {
    const pair = await Promise.all(
      [a, b].map(async (t) => (await WsClient.connect(t.url, { token: user.token })).ready()),
    );
    sockets.push(...pair);
    return pair;
  };
  const count = (socket: WsClient, method: string) => socket.pushes(method).length;

  it('delivers each social push once to every socket of the users concerned', async () => {
    const [alice, bob, carol] = [
      await createUser(a.client),
      await createUser(a.client),
      await createUser(a.client),
    ];
    const aliceDevices = await devices(alice);
    const bobDevices = await devices(bob);
    const carolDevices = await devices(carol);

    await befriend(alice, bob);
    const groupId = await createGroupWith(alice, [carol]);
    for (const socket of [...aliceDevices, ...bobDevices]) {
      await socket.waitFor((f) => f.method === 'friend.added');
    }
    for (const socket of carolDevices) {
      await socket.waitFor((f) => f.method === 'group.member.joined');
    }
    // Anything delivered twice would have arrived by now: the second copy travels the same way.
    await new Promise((r) => setTimeout(r, 1_000));

    for (const socket of bobDevices) {
      expect(count(socket, 'friend.request')).toBe(1);
      expect(count(socket, 'friend.request.handled')).toBe(1);
      expect(count(socket, 'friend.added')).toBe(1);
    }
    for (const socket of aliceDevices) {
      expect(count(socket, 'friend.request')).toBe(0);
      expect(count(socket, 'friend.request.handled')).toBe(1);
      expect(count(socket, 'friend.added')).toBe(1);
    }
    for (const socket of carolDevices) {
      expect(count(socket, 'group.member.joined')).toBe(1);
      expect(count(socket, 'friend.added')).toBe(0);
    }
    // The same event reached both devices of a user under the same frame id.
    const [onA, onB] = bobDevices.map((s) => s.pushes('friend.added')[0]!.id);
    expect(onA).toBe(onB);
    expect(groupId).toBeTruthy();
  }, 60_000);
});
