/**
 * Redis restarted empty while messages flow, under real processes (api, two
 * gateways, worker) on a Redis of the test's own. Presence (and, with the Redis
 * transport, the gateways' mailboxes) live there, so routing is lost for a while.
 * Chat must keep being acknowledged, every acknowledged message must reach every
 * recipient (live, or by the sync the server tells it to run), and live pushes
 * must resume within a few seconds of Redis coming back, with no client action.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChatStream, FollowingClient } from '../support/chat-stream.js';
import { until } from '../support/wait.js';
import {
  clusterServersAvailable,
  startCluster,
  type Cluster,
  type Node,
} from '../support/cluster.js';
import { createUser, type RegisteredUser } from '../support/factories.js';
import { OwnRedis, redisServerAvailable } from '../support/redis-server.js';
import { createGroupWith } from '../support/social.js';
import { WsClient } from '../support/ws-client.js';

const LONG = 180_000;
const OUTAGE_MS = 2_000;
/** Live pushes must flow again this soon after Redis is back ("within a few seconds"). */
const LIVE_AGAIN_WITHIN_MS = 8_000;

const TRANSPORTS = ['nats', 'redis'] as const;

describe.runIf(redisServerAvailable && clusterServersAvailable('nats')).each(TRANSPORTS)(
  'Redis restarted empty (push transport: %s)',
  (transport) => {
    let redis: OwnRedis | undefined;
    let cluster: Cluster | undefined;
    const sockets: WsClient[] = [];
    afterEach(async () => {
      await Promise.all(sockets.splice(0).map((s) => s.close().catch(() => undefined)));
      await cluster?.stop();
      await redis?.stop();
      cluster = redis = undefined;
    }, LONG);

    const connect = async (node: Node, user: RegisteredUser) => {
      const socket = await (await WsClient.connect(node.url, { token: user.token })).ready();
      sockets.push(socket);
      return socket;
    };

    it(
      'keeps acknowledging, loses nothing, and pushes live again within seconds',
      async () => {
        redis = await OwnRedis.start();
        cluster = await startCluster('nats', {
          redisUrl: redis.url,
          env: { EC_CLUSTER__TRANSPORT: transport },
        });
        const c = cluster;
        const [alice, bob, carol] = [
          await createUser(c.client),
          await createUser(c.client),
          await createUser(c.client),
        ];
        // Above cluster.workerFanoutMin: the worker routes this group's pushes.
        const groupId = await createGroupWith(alice, [bob, carol]);
        const sender = await connect(c.gatewayA, alice);
        const followers = [
          new FollowingClient(await connect(c.gatewayB, bob), groupId),
          new FollowingClient(await connect(c.gatewayA, carol), groupId),
        ];
        const stream = new ChatStream(
          () => sender,
          { chatType: 1, recvId: groupId },
          { label: `redis-${transport}` },
        ).start();
        await until(() => stream.acked.size >= 10, 'messages before the restart');

        // Redis goes away: chat keeps being stored and acknowledged (PostgreSQL is fine).
        await redis.down();
        const ackedAtStop = stream.acked.size;
        await new Promise((r) => setTimeout(r, OUTAGE_MS));
        const ackedDuringOutage = stream.acked.size - ackedAtStop;
        // Nothing is sent after this, so no later push can reveal a gap: only the
        // server telling the clients to resync can complete them.
        await stream.stop();

        await redis.up();
        const upAt = Date.now();
        const holdsAll = () =>
          followers.every((f) => stream.ackedSeqs.every((seq) => f.seqs.has(seq)));
        await until(holdsAll, 'every acknowledged message at every recipient', 20_000).catch(
          () => undefined,
        );
        await Promise.all(followers.map((f) => f.idle()));
        const missing = followers.map((f) => stream.ackedSeqs.filter((seq) => !f.seqs.has(seq)));
        const repairedMs = Date.now() - upAt;

        // Live delivery is back: a message sent now reaches both recipients as a push.
        let liveMs = -1;
        const deadline = upAt + LIVE_AGAIN_WITHIN_MS;
        while (Date.now() < deadline) {
          const seq = await stream.sendOne();
          if (seq !== undefined) {
            const live = await Promise.all(
              followers.map((f) =>
                until(() => f.live.has(seq), 'live push', 1_000).then(
                  () => true,
                  () => false,
                ),
              ),
            );
            if (live.every(Boolean)) {
              liveMs = Date.now() - upAt;
              break;
            }
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        console.log(
          `[fault] redis restart (${transport}): ${JSON.stringify({
            acked: stream.acked.size,
            ackedDuringOutage,
            lost: missing.map((m) => m.length),
            hints: followers.map((f) => f.hints),
            repairedMs,
            liveAgainMs: liveMs,
          })}`,
        );
        expect(missing).toEqual([[], []]);
        expect(liveMs, 'live pushes resumed').toBeGreaterThanOrEqual(0);
        for (const node of [c.api, c.gatewayA, c.gatewayB, c.worker]) {
          expect(node.alive, `${node.name} is up`).toBe(true);
        }
        expect(ackedDuringOutage).toBeGreaterThan(0);
      },
      LONG,
    );
  },
);
