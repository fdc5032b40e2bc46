/**
 * The SQL store (PostgreSQL, MySQL / MariaDB) going away and coming back under a running
 * system, through a TCP proxy this test owns (the shared server is never touched): every
 * open connection is cut, then new ones are reset for a while (block); or the proxy stops
 * forwarding without closing anything (freeze: a hung host), which only the query timeout
 * ends. Real processes from the CLI, all-in-one and split into api / two gateways /
 * worker. They must stay up, answer 503 / 100004 (not 500, not a hang) during the
 * outage, and serve again by themselves afterwards, with nothing acknowledged lost and
 * the worker's relay and consumers resumed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dropMysqlDatabase } from '../../src/adapters/storage/mysql.js';
import { mysqlUrlFor, TEST_DATABASE_URL, TEST_MYSQL_URL, uniqueName } from '../support/backends.js';
import { ChatStream, FollowingClient } from '../support/chat-stream.js';
import { until } from '../support/wait.js';
import {
  clusterServersAvailable,
  Node,
  startCluster,
  type Cluster,
  type ClusterOptions,
} from '../support/cluster.js';
import { createUser, type RegisteredUser } from '../support/factories.js';
import { HttpClient } from '../support/http-client.js';
import { befriend } from '../support/social.js';
import { hostPort, TcpProxy } from '../support/tcp-proxy.js';
import { dropSchema } from '../support/test-app.js';
import { WsClient } from '../support/ws-client.js';

const LONG = 180_000;
const OUTAGE_MS = 3_000;
/** A request during the outage must be answered within this (connect timeout 2 s, plus margin). */
const ANSWER_BOUND_MS = 8_000;

interface OutageLayout {
  api: Node;
  gatewayA: Node;
  gatewayB: Node;
  all: Node[];
}

const sockets: WsClient[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close().catch(() => undefined)));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
}, LONG);

/** What differs between the stores: where the server is, and how a process is pointed at it. */
interface Store {
  name: 'postgres' | 'mysql';
  url: string | undefined;
  port: number;
  /** An all-in-one process's storage environment through `proxy`, and how to clean up after it. */
  allInOne(proxy: TcpProxy, prefix: string): { env: Record<string, string>; drop(): Promise<void> };
  cluster(proxy: TcpProxy): ClusterOptions;
}

const STORES: Store[] = [
  {
    name: 'postgres',
    url: TEST_DATABASE_URL,
    port: 5432,
    allInOne(proxy, prefix) {
      const schema = uniqueName(prefix).toLowerCase();
      return {
        env: {
          EC_STORAGE__DRIVER: 'postgres',
          DATABASE_URL: proxy.url(TEST_DATABASE_URL!),
          EC_STORAGE__POSTGRES__SCHEMA: schema,
          EC_STORAGE__POSTGRES__CONNECT_TIMEOUT_MS: '2000',
        },
        drop: () => dropSchema(schema),
      };
    },
    cluster: (proxy) => ({
      databaseUrl: proxy.url(TEST_DATABASE_URL!),
      env: { EC_STORAGE__POSTGRES__CONNECT_TIMEOUT_MS: '2000' },
    }),
  },
  {
    name: 'mysql',
    url: TEST_MYSQL_URL,
    port: 3306,
    allInOne(proxy, prefix) {
      const database = uniqueName(prefix).toLowerCase();
      return {
        env: {
          EC_STORAGE__DRIVER: 'mysql',
          DATABASE_URL: mysqlUrlFor(database, proxy.url(TEST_MYSQL_URL!)),
          EC_STORAGE__MYSQL__CONNECT_TIMEOUT_MS: '2000',
        },
        // On the server itself, not through the proxy the test may have left blocked.
        drop: () => dropMysqlDatabase(mysqlUrlFor(database)),
      };
    },
    cluster: (proxy) => ({
      storage: 'mysql',
      databaseUrl: proxy.url(TEST_MYSQL_URL!),
      env: { EC_STORAGE__MYSQL__CONNECT_TIMEOUT_MS: '2000' },
    }),
  },
];

async function proxyTo(store: Store): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(hostPort(store.url!, store.port));
  cleanups.push(() => proxy.close());
  return proxy;
}

/** An all-in-one process on `store` through `proxy`, in a schema (database) of its own. */
async function startAllInOne(
  store: Store,
  proxy: TcpProxy,
  prefix: string,
  env: Record<string, string> = {},
): Promise<Node> {
  const storage = store.allInOne(proxy, prefix);
  const node = await Node.create('all-in-one', 'api,gateway,worker', {
    EASY_CHAT_ENV: 'test',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    ...storage.env,
    ...env,
  });
  cleanups.push(() => storage.drop());
  cleanups.push(() => node.stop());
  await node.start();
  return node;
}

const connect = async (node: Node, user: RegisteredUser) => {
  const socket = await (await WsClient.connect(node.url, { token: user.token })).ready();
  sockets.push(socket);
  return socket;
};

/**
 * The fault and its checks, the same for every layout and store. Returns what was measured.
 */
async function outage(
  layout: OutageLayout,
  proxy: TcpProxy,
  { fault = 'block', store }: { fault?: 'block' | 'freeze'; store: string },
) {
  const client = new HttpClient(layout.api.url);
  const [alice, bob] = [await createUser(client), await createUser(client)];
  await befriend(alice, bob);
  const a = await connect(layout.gatewayA, alice);
  const b = await connect(layout.gatewayB, bob);
  const conversationId = [alice.id, bob.id].sort().join('_');
  const follower = new FollowingClient(b, conversationId);
  const stream = new ChatStream(() => a, { chatType: 2, recvId: bob.id }, { label: store }).start();
  await until(() => stream.acked.size >= 10, 'messages before the fault');

  // A cut alone: pooled connections die under the app; it reconnects on its own.
  proxy.cut();
  const afterCut = await alice.client.get('/v1/user/user', { timeoutMs: ANSWER_BOUND_MS });
  expect([200, 503]).toContain(afterCut.status);
  await until(
    async () => (await alice.client.get('/v1/user/user')).status === 200,
    'serving after a cut',
  );

  // The outage: every connection cut and new ones reset (block), or nothing answers
  // and nothing closes (freeze: a hung host; only the query timeout ends a query).
  if (fault === 'freeze') proxy.freeze();
  else proxy.block();
  const blockedAt = Date.now();
  const answers: Array<{ status: number; code: number; ms: number }> = [];
  while (Date.now() - blockedAt < OUTAGE_MS) {
    for (const probe of [
      () => alice.client.get('/v1/user/user', { timeoutMs: ANSWER_BOUND_MS }),
      () => alice.client.get('/v1/im/conversation', { timeoutMs: ANSWER_BOUND_MS }),
      () => alice.client.get('/v1/social/friends', { timeoutMs: ANSWER_BOUND_MS }),
      () =>
        alice.client.put('/v1/user/user', { nickname: 'during' }, { timeoutMs: ANSWER_BOUND_MS }),
    ]) {
      const started = Date.now();
      const res = await probe();
      answers.push({ status: res.status, code: res.body.code, ms: Date.now() - started });
    }
  }
  for (const node of layout.all) expect(node.alive, `${node.name} is up`).toBe(true);
  expect(answers.length).toBeGreaterThan(0);
  for (const answer of answers) expect(answer).toMatchObject({ status: 503, code: 100004 });
  const ready = await fetch(`${layout.api.url}/readyz`, {
    signal: AbortSignal.timeout(ANSWER_BOUND_MS),
  });
  expect(ready.status).toBe(503);

  // PostgreSQL is back: everything serves again by itself.
  const ackedBefore = stream.acked.size;
  proxy.restore();
  const restoredAt = Date.now();
  await until(
    async () =>
      (await alice.client.get('/v1/user/user', { timeoutMs: ANSWER_BOUND_MS })).status === 200,
    'HTTP after the outage',
  );
  await until(() => stream.acked.size >= ackedBefore + 10, 'WebSocket chat after the outage');
  const recoveredMs = Date.now() - restoredAt;
  await stream.stop();

  // The worker relays the outbox again and its consumers run: a friend request made
  // now reaches its addressee as a social push (outbox → broker → gateway).
  const carol = await createUser(client);
  const asked = await carol.client.post('/v1/social/friend/putIn', { userId: bob.id });
  expect(asked.status).toBe(200);
  await b.waitFor((f) => f.method === 'friend.request' && f.data?.reqUid === carol.id, 20_000);

  // Nothing acknowledged is lost: every acked message reached Bob (live or by sync).
  await until(
    () => stream.ackedSeqs.every((seq) => follower.seqs.has(seq)),
    'every acknowledged message at the recipient',
    10_000,
  ).catch(() => undefined);
  await follower.idle();
  // A send that failed was answered 503 / 100004, never 500 (or left without answer).
  const serverErrors = layout.all.flatMap((n) =>
    n.output.split('\n').filter((line) => line.includes('"level":50')),
  );
  expect(serverErrors).toEqual([]);
  expect([...stream.failures.keys()].filter((code) => code !== '100004')).toEqual([]);
  const missing = stream.ackedSeqs.filter((seq) => !follower.seqs.has(seq));
  expect(missing).toEqual([]);
  const history = await bob.client.get('/v1/im/chatlog', {
    query: { conversationId, count: 200 },
  });
  const stored = new Set((history.body.data.list as Array<{ seq: number }>).map((m) => m.seq));
  expect(stream.ackedSeqs.filter((seq) => !stored.has(seq))).toEqual([]);
  for (const node of layout.all) expect(node.alive, `${node.name} is up`).toBe(true);

  const figures = {
    acked: stream.acked.size,
    lost: missing.length,
    failedSends: Object.fromEntries(stream.failures),
    outageAnswers: answers.length,
    slowestAnswerMs: Math.max(...answers.map((x) => x.ms)),
    recoveredMs,
  };
  console.log(`[fault] ${store} outage (${fault}): ${JSON.stringify(figures)}`);
  return figures;
}

describe.each(STORES)('$name outage', (store) => {
  const queryTimeout = `EC_STORAGE__${store.name.toUpperCase()}__QUERY_TIMEOUT_MS`;

  it.runIf(store.url)(
    'the all-in-one process stays up, answers 503 / 100004, and recovers by itself',
    async () => {
      const proxy = await proxyTo(store);
      const node = await startAllInOne(store, proxy, `${store.name.slice(0, 2)}out`);
      await outage({ api: node, gatewayA: node, gatewayB: node, all: [node] }, proxy, {
        store: store.name,
      });
    },
    LONG,
  );

  it.runIf(store.url)(
    'a server that stops answering without closing: 503 / 100004 within the query timeout, then recovery',
    async () => {
      const proxy = await proxyTo(store);
      const node = await startAllInOne(store, proxy, `${store.name.slice(0, 2)}freeze`, {
        [queryTimeout]: '2000',
      });
      const figures = await outage(
        { api: node, gatewayA: node, gatewayB: node, all: [node] },
        proxy,
        { fault: 'freeze', store: store.name },
      );
      // Every answer came within the bound: nothing waited on the frozen connections.
      expect(figures.slowestAnswerMs).toBeLessThan(ANSWER_BOUND_MS);
    },
    LONG,
  );

  it.runIf(clusterServersAvailable('nats', store.name))(
    'api, two gateways and the worker stay up, answer 503 / 100004, and recover by themselves',
    async () => {
      const proxy = await proxyTo(store);
      const cluster: Cluster = await startCluster('nats', store.cluster(proxy));
      cleanups.push(() => cluster.stop());
      const { api, gatewayA, gatewayB, worker } = cluster;
      await outage({ api, gatewayA, gatewayB, all: [api, gatewayA, gatewayB, worker] }, proxy, {
        store: store.name,
      });
    },
    LONG,
  );
});
