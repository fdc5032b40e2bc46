import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { NatsBroker } from '../../src/adapters/bus/nats-broker.js';
import type { NodeMailbox } from '../../src/adapters/mailbox/mailbox.js';
import { NatsMailbox } from '../../src/adapters/mailbox/nats-mailbox.js';
import { RedisMailbox } from '../../src/adapters/mailbox/redis-mailbox.js';
import type { MailboxPush } from '../../src/realtime/push-delivery.js';
import {
  TEST_AMQP_URL,
  TEST_DATABASE_URL,
  TEST_MYSQL_URL,
  TEST_NATS_URL,
  TEST_REDIS_URL,
  mysqlUrlFor,
  uniqueName,
} from './backends.js';
import { testNatsOptions } from './brokers.js';
import { HttpClient } from './http-client.js';
import { freePort } from './ports.js';
import { dropMysqlDatabase } from '../../src/adapters/storage/mysql.js';
import { dropSchema } from './test-app.js';

const root = new URL('../..', import.meta.url).pathname;

export type BusKind = 'nats' | 'rabbitmq';

/** One easy-chat process of a cluster, started from the real CLI. */
export class Node {
  child: ChildProcess | undefined;
  output = '';
  /** Set by kill() and stop(): an exit the test asked for, not a crash to report. */
  private stopping = false;
  readonly url: string;

  constructor(
    readonly name: string,
    readonly roles: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Started and not exited (a crash on an unhandled error shows here). */
  get alive(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** Starts a process on a free port (call start() to run it). */
  static async create(name: string, roles: string, env: Record<string, string>): Promise<Node> {
    return new Node(name, roles, await freePort(), env);
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'start', '--roles', this.roles],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...this.env,
          NODE_ID: this.name,
          PORT: String(this.port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    // A node that dies on its own fails a later step with ECONNREFUSED and no cause:
    // print why it died into the test's log.
    this.child.once('exit', (code, signal) => {
      if (this.stopping) return;
      process.stderr.write(
        `${this.name} exited unasked (code ${code}, signal ${signal}); its output ends:\n` +
          `${this.output.slice(-8_000)}\n`,
      );
    });
    // Generous: tsx compiles the sources on start, slow on a loaded machine.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited:\n${this.output}`);
      try {
        if ((await fetch(`${this.url}/readyz`)).ok) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline)
        throw new Error(`${this.name} did not become ready:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL: no clean-up of any kind, like a crash. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    this.stopping = true;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM, then SIGKILL if the process is still there after `ms`. */
  async stop(ms = 20_000): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    this.stopping = true;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(timer);
  }
}

export interface Cluster {
  api: Node;
  gatewayA: Node;
  gatewayB: Node;
  worker: Node;
  client: HttpClient;
  nodeTimeoutMs: number;
  /** Listens beside `node` on its mailbox: what other processes route to it. */
  tapMailbox(node: Node): Promise<MailboxTap>;
  stop(): Promise<void>;
}

/** The pushes routed to one node's mailbox since the tap opened, in arrival order. */
export interface MailboxTap {
  readonly routed: Array<{ users: string[]; frame: string }>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** The SQL server every process shares: PostgreSQL (default) or MySQL/MariaDB. */
  storage?: 'postgres' | 'mysql';
  /**
   * The SQL server to use instead of TEST_DATABASE_URL or TEST_MYSQL_URL (a
   * fault-injecting proxy, say); on MySQL the cluster's database replaces its path.
   */
  databaseUrl?: string;
  /** Redis to use instead of TEST_REDIS_URL (one the test may restart). */
  redisUrl?: string;
  /** More environment for every process. */
  env?: Record<string, string>;
}

export const clusterServersAvailable = (bus: BusKind, storage: 'postgres' | 'mysql' = 'postgres') =>
  Boolean(
    (storage === 'postgres' ? TEST_DATABASE_URL : TEST_MYSQL_URL) &&
    TEST_REDIS_URL &&
    (bus === 'nats' ? TEST_NATS_URL : TEST_AMQP_URL),
  );

/**
 * Four processes on PostgreSQL (or MySQL), Redis and the broker: one api, two
 * gateways, one worker, each with a schema (database on MySQL), key prefix and bus
 * prefix of this run.
 */
export async function startCluster(bus: BusKind, options: ClusterOptions = {}): Promise<Cluster> {
  const schema = uniqueName('cl').toLowerCase();
  const prefix = uniqueName('cl');
  const nodeTimeoutMs = 1_500;
  const mysqlUrl = options.storage === 'mysql' ? mysqlUrlFor(schema) : undefined;
  const storageEnv: Record<string, string> = mysqlUrl
    ? {
        EC_STORAGE__DRIVER: 'mysql',
        DATABASE_URL: options.databaseUrl ? mysqlUrlFor(schema, options.databaseUrl) : mysqlUrl,
      }
    : {
        EC_STORAGE__DRIVER: 'postgres',
        DATABASE_URL: options.databaseUrl ?? TEST_DATABASE_URL!,
        EC_STORAGE__POSTGRES__SCHEMA: schema,
      };
  const env: Record<string, string> = {
    EASY_CHAT_ENV: 'test',
    // Every process of the cluster signs and checks tokens with one secret.
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    ...storageEnv,
    EC_CACHE__DRIVER: 'redis',
    REDIS_URL: options.redisUrl ?? TEST_REDIS_URL!,
    EC_CACHE__REDIS__KEY_PREFIX: `${prefix}:`,
    EC_BUS__DRIVER: bus,
    EC_BUS__PREFIX: prefix,
    ...(bus === 'nats' ? { NATS_URL: TEST_NATS_URL! } : { AMQP_URL: TEST_AMQP_URL! }),
    EC_BUS__NATS__ACK_WAIT_SEC: '2',
    EC_CLUSTER__PRESENCE: 'redis',
    EC_CLUSTER__TRANSPORT: bus === 'nats' ? 'nats' : 'redis',
    EC_CLUSTER__HEARTBEAT_MS: '300',
    EC_CLUSTER__NODE_TIMEOUT_MS: String(nodeTimeoutMs),
    // Groups above two recipients go through the worker, so the tests exercise it.
    EC_CLUSTER__WORKER_FANOUT_MIN: '2',
    EC_CLUSTER__FANOUT_PARTITIONS: '4',
    ...options.env,
  };
  const make = (name: string, roles: string) => Node.create(name, roles, env);
  const api = await make('api-1', 'api');
  const gatewayA = await make('gw-a', 'gateway');
  const gatewayB = await make('gw-b', 'gateway');
  const worker = await make('worker-1', 'worker');
  // The api migrates first; the others find the schema ready.
  await api.start();
  await Promise.all([gatewayA.start(), gatewayB.start(), worker.start()]);
  return {
    api,
    gatewayA,
    gatewayB,
    worker,
    client: new HttpClient(api.url),
    nodeTimeoutMs,
    async tapMailbox(node) {
      // The transport the cluster's processes use, with their prefix.
      const mailbox: NodeMailbox =
        env.EC_CLUSTER__TRANSPORT === 'nats'
          ? await NatsMailbox.connect({
              url: env.NATS_URL!,
              prefix: env.EC_BUS__PREFIX!,
              name: 'cluster-test-tap',
            })
          : new RedisMailbox({ url: env.REDIS_URL!, prefix: env.EC_CACHE__REDIS__KEY_PREFIX! });
      const routed: MailboxTap['routed'] = [];
      await mailbox.listen(node.name, (raw) => {
        const { u, f } = JSON.parse(raw) as MailboxPush;
        routed.push({ users: u, frame: f });
      });
      return { routed, close: () => mailbox.close() };
    },
    async stop() {
      await Promise.all([api, gatewayA, gatewayB, worker].map((n) => n.stop()));
      if (mysqlUrl) await dropMysqlDatabase(mysqlUrl);
      else await dropSchema(schema);
      await deleteBusNames(bus, prefix);
    },
  };
}

/** Deletes the streams, or the queues and exchanges, that the cluster's processes created. */
async function deleteBusNames(bus: BusKind, prefix: string): Promise<void> {
  if (bus === 'nats') {
    const admin = await NatsBroker.connect(testNatsOptions(prefix));
    await admin.deleteEverything();
    await admin.close();
    return;
  }
  const list = (what: string) =>
    execFileSync('rabbitmqctl', [`list_${what}`, '-q', '--no-table-headers', 'name'], {
      encoding: 'utf8',
    })
      .split('\n')
      .map((n) => n.trim())
      .filter((n) => n.startsWith(`${prefix}.`));
  const conn = await amqp.connect(TEST_AMQP_URL!);
  try {
    const ch = await conn.createChannel();
    for (const queue of list('queues')) await ch.deleteQueue(queue);
    for (const exchange of list('exchanges')) await ch.deleteExchange(exchange);
    await ch.close();
  } finally {
    await conn.close();
  }
}
