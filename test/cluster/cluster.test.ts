/**
 * Scale-out with real processes and real servers (loopback only): one api, two
 * gateways and one worker started from the CLI, on PostgreSQL, Redis and NATS
 * JetStream (and again with RabbitMQ). Gateways and the worker are killed with
 * SIGKILL while messages flow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterServersAvailable,
  startCluster,
  type Cluster,
  type Node,
} from '../support/cluster.js';
import { createUser, type RegisteredUser } from '../support/factories.js';
import { befriend, createGroupWith } from '../support/social.js';
import { until } from '../support/wait.js';
import { WsClient, type Frame } from '../support/ws-client.js';

/** PostgreSQL with either broker, and MySQL/MariaDB with NATS. */
const SETUPS = (
  [
    ['nats', 'postgres'],
    ['rabbitmq', 'postgres'],
    ['nats', 'mysql'],
  ] as const
).filter(([bus, storage]) => clusterServersAvailable(bus, storage));
const LONG = 120_000;

/** Chat pushes of a conversation; group notices (mType 10, pushed by the worker at any moment) left out. */
const chatPushes = (client: WsClient, conversationId: string) =>
  client.frames.filter(
    (f: Frame) =>
      f.method === 'push' &&
      f.data?.contentType === 0 &&
      f.data.conversationId === conversationId &&
      f.data.mType !== 10,
  );

// Vitest fails a file that declares no test, so without the servers the suite is
// declared and skipped, with the reason in its name.
describe.skipIf(SETUPS.length > 0)('cluster of processes', () => {
  it.skip('needs TEST_DATABASE_URL, TEST_REDIS_URL and TEST_NATS_URL or TEST_AMQP_URL', () => {});
});

describe.runIf(SETUPS.length > 0).each(SETUPS)(
  'cluster of processes on %s and %s',
  (bus, storage) => {
    let c: Cluster;
    const sockets: WsClient[] = [];
    beforeAll(async () => {
      c = await startCluster(bus, { storage });
    }, LONG);
    afterAll(async () => {
      await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));
      await c?.stop();
    }, LONG);

    const connect = async (node: Node, user: RegisteredUser) => {
      const socket = await (await WsClient.connect(node.url, { token: user.token })).ready();
      sockets.push(socket);
      return socket;
    };
    const users = (n: number) => Promise.all(Array.from({ length: n }, () => createUser(c.client)));
    const text = (content: string) => ({ msg: { mType: 0, content } });

    /** Everything in a conversation's history, by seq (what a sync would give a fresh client). */
    const historySeqs = async (user: RegisteredUser, conversationId: string) => {
      const list = (
        await user.client.get('/v1/im/chatlog', { query: { conversationId, count: 200 } })
      ).body.data.list as Array<{ seq: number; msgId: string; mType: number }>;
      return list.sort((a, b) => a.seq - b.seq);
    };

    /** A client's view after reconnecting: live pushes plus a sync from its last contiguous seq. */
    const repaired = async (socket: WsClient, conversationId: string) => {
      const seqs = new Set(chatPushes(socket, conversationId).map((f) => f.data.seq as number));
      let last = 0;
      while (seqs.has(last + 1)) last += 1;
      for (;;) {
        const page = (
          await socket.call('conversation.sync', { conversations: { [conversationId]: last } })
        ).conversations[conversationId];
        for (const m of page.messages) seqs.add(m.seq);
        if (!page.hasMore) break;
        last = page.messages[page.messages.length - 1].seq;
      }
      return [...seqs].sort((a, b) => a - b);
    };

    it(
      'chats privately and in a group across gateways, once per device, routing only to gateways holding recipients',
      async () => {
        const [alice, bob, carol, dave, erin, frank] = await users(6);
        await befriend(alice!, bob!);
        const a = await connect(c.gatewayA, alice!);
        const b = await connect(c.gatewayB, bob!);
        const sent = await a.call('conversation.chat', {
          chatType: 2,
          recvId: bob!.id,
          ...text('over there'),
        });
        expect(
          (await b.waitFor((f) => f.method === 'push' && f.data?.msgId === sent.msgId)).formId,
        ).toBe(alice!.id);
        const reply = await b.call('conversation.chat', {
          chatType: 2,
          recvId: alice!.id,
          ...text('and back'),
        });
        await a.waitFor((f) => f.method === 'push' && f.data?.msgId === reply.msgId);

        // Two users both on gateway B: nothing of theirs is routed to gateway A. Read
        // beside gateway A on its mailbox, so Alice's own pushes (presence, a resync
        // hint) do not blur the check.
        const routedToA = await c.tapMailbox(c.gatewayA);
        try {
          const [e, f] = [await connect(c.gatewayB, erin!), await connect(c.gatewayB, frank!)];
          await befriend(erin!, frank!);
          await e.waitFor((x) => x.method === 'friend.added');
          await f.waitFor((x) => x.method === 'friend.added');
          const local = await e.call('conversation.chat', {
            chatType: 2,
            recvId: frank!.id,
            ...text('local'),
          });
          await f.waitFor((x) => x.data?.msgId === local.msgId);
          // Gateway B sends in order: once its next push for Alice is on A's mailbox,
          // a push of the local chat sent there would be too.
          const after = await b.call('conversation.chat', {
            chatType: 2,
            recvId: alice!.id,
            ...text('after the local chat'),
          });
          await a.waitFor((x) => x.data?.msgId === after.msgId);
          await until(
            () => routedToA.routed.some((m) => m.frame.includes(after.msgId)),
            'the later push for Alice on gateway A’s mailbox',
          );
          const recipients = routedToA.routed.flatMap((m) => m.users);
          expect(recipients).not.toContain(erin!.id);
          expect(recipients).not.toContain(frank!.id);
        } finally {
          await routedToA.close();
        }

        // A group above the inline threshold goes through the worker.
        const groupId = await createGroupWith(alice!, [bob!, carol!, dave!]);
        const carolA = await connect(c.gatewayA, carol!);
        const carolB = await connect(c.gatewayB, carol!);
        const d = await connect(c.gatewayB, dave!);
        const seqs: number[] = [];
        for (let i = 0; i < 10; i += 1) {
          seqs.push(
            (await a.call('conversation.chat', { chatType: 1, recvId: groupId, ...text(`g${i}`) }))
              .seq,
          );
        }
        for (const device of [b, carolA, carolB, d]) {
          await until(() => chatPushes(device, groupId).length >= 10, 'group pushes');
        }
        await new Promise((r) => setTimeout(r, 300));
        for (const device of [b, carolA, carolB, d]) {
          expect(chatPushes(device, groupId).map((x) => x.data.seq)).toEqual(seqs);
        }
        expect(chatPushes(a, groupId)).toEqual([]);
      },
      LONG,
    );

    it(
      'loses no acknowledged message when a gateway is killed mid-stream, and shows its users offline within the bound',
      async () => {
        const [sender, receiver, twoDevices, loner, watcher] = await users(5);
        await befriend(watcher!, loner!);
        const groupId = await createGroupWith(sender!, [receiver!, twoDevices!]);
        let s = await connect(c.gatewayA, sender!);
        const r = await connect(c.gatewayB, receiver!);
        const onA = await connect(c.gatewayA, twoDevices!);
        const onB = await connect(c.gatewayB, twoDevices!);
        await connect(c.gatewayA, loner!);
        const online = async () =>
          Object.keys(
            (await watcher!.client.get('/v1/social/friends/online')).body.data.onlineList as object,
          );
        expect(await online()).toEqual([loner!.id]);

        const acked = new Map<string, number>();
        let killedAt = 0;
        // Watched from the kill on, beside the sends, so the bound measures presence alone.
        let offline: Promise<number> | undefined;
        for (let i = 0; i < 40; i += 1) {
          const clientMsgId = `stream-${i}`;
          if (i === 20) {
            killedAt = Date.now();
            void c.gatewayA.kill();
            offline = until(
              async () => !(await online()).includes(loner!.id),
              'loner offline',
            ).then(() => Date.now() - killedAt);
          }
          for (;;) {
            const answer = await s
              .request(
                'conversation.chat',
                { chatType: 1, recvId: groupId, clientMsgId, ...text(`m${i}`) },
                3_000,
              )
              .catch(() => undefined);
            if (answer?.frameType === 2) {
              acked.set(clientMsgId, answer.data.seq as number);
              break;
            }
            // The gateway died under this request: reconnect elsewhere and retry with the same id.
            if (!s.isOpen) s = await connect(c.gatewayB, sender!);
          }
        }
        const offlineAfter = await offline!;
        expect(offlineAfter).toBeLessThan(c.nodeTimeoutMs + 2_500);

        const history = await historySeqs(receiver!, groupId);
        // Dense, from the receiver's own join notice on; 40 of them are the chat messages.
        const first = history[0]!.seq;
        expect(history.map((m) => m.seq)).toEqual(
          Array.from({ length: history.length }, (_, i) => first + i),
        );
        const chatSeqs = history.filter((m) => m.mType !== 10).map((m) => m.seq);
        expect(chatSeqs).toHaveLength(40);
        // Each device's view holds every chat message (its notices start at its own join).
        const chatOf = (seqs: number[]) => seqs.filter((q) => chatSeqs.includes(q));
        expect(new Set(acked.values()).size).toBe(40);
        for (const seq of acked.values()) expect(history.some((m) => m.seq === seq)).toBe(true);

        // Devices on the surviving gateway got live pushes; after sync, every device has everything.
        await until(
          () => chatPushes(r, groupId).length >= 30,
          'live pushes on the surviving gateway',
        );
        expect(chatOf(await repaired(r, groupId))).toEqual(chatSeqs);
        expect(chatOf(await repaired(onB, groupId))).toEqual(chatSeqs);
        expect(onA.isOpen).toBe(false);
        const reconnected = await connect(c.gatewayB, twoDevices!);
        const partial = chatPushes(onA, groupId);
        for (const frame of partial) reconnected.frames.push(frame);
        expect(chatOf(await repaired(reconnected, groupId))).toEqual(chatSeqs);

        await c.gatewayA.start();
      },
      LONG,
    );

    it(
      'completes every delivery after the worker is killed mid fan-out and restarted',
      async () => {
        // The test before restarts the gateway it kills; if it failed early, do it here.
        if (!c.gatewayA.alive) await c.gatewayA.start();
        const members = await users(6);
        const [owner, ...rest] = members;
        const groupId = await createGroupWith(owner!, rest);
        const sender = await connect(c.gatewayA, owner!);
        const devices = await Promise.all(
          rest.map((m, i) => connect(i % 2 === 0 ? c.gatewayA : c.gatewayB, m)),
        );
        const total = 30;
        const sending = (async () => {
          for (let i = 0; i < total; i += 1) {
            await sender.call('conversation.chat', {
              chatType: 1,
              recvId: groupId,
              ...text(`w${i}`),
            });
          }
        })();
        await until(() => devices.some((d) => chatPushes(d, groupId).length > 0), 'first delivery');
        await c.worker.kill();
        await sending;
        await new Promise((r) => setTimeout(r, 500));
        await c.worker.start();
        for (const device of devices) {
          await until(
            () => new Set(chatPushes(device, groupId).map((f) => f.data.seq)).size === total,
            'every seq on every device',
            30_000,
          );
          const got = [
            ...new Set(chatPushes(device, groupId).map((f) => f.data.seq as number)),
          ].sort((a, b) => a - b);
          // Dense after the group's membership notices (the chat starts past them).
          expect(got).toEqual(Array.from({ length: total }, (_, i) => got[0]! + i));
        }
      },
      LONG,
    );
  },
);
