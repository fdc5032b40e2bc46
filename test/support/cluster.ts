import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { createServer } from 'node:net';
import pg from 'pg';
import { NatsBroker } from '../../src/adapters/bus/nats-broker.js';
import {
  TEST_AMQP_URL,
  TEST_DATABASE_URL,
  TEST_NATS_URL,
  TEST_REDIS_URL,
  uniqueName,
} from './backends.js';
import { testNatsOptions } from './brokers.js';
import { HttpClient } from './http-client.js';

const root = new URL('../..', import.meta.url).pathname;

export type BusKind = 'nats' | 'rabbitmq';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One easy-chat process of a cluster, started from the real CLI. */
export class Node {
  child: ChildProcess | undefined;
  output = '';
  readonly url: string;

  constructor(
    readonly name: string,
    readonly roles: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
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
    const deadline = Date.now() + 30_000;
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
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

export interface Cluster {
  api: Node;
  gatewayA: Node;
  gatewayB: Node;
  worker: Node;
  client: HttpClient;
  nodeTimeoutMs: number;
  stop(): Promise<void>;
}

export const clusterServersAvailable = (bus: BusKind) =>
  Boolean(TEST_DATABASE_URL && TEST_REDIS_URL && (bus === 'nats' ? TEST_NATS_URL : TEST_AMQP_URL));

/**
 * Four processes on PostgreSQL, Redis and the broker: one api, two gateways,
 * one worker, each with a schema, key prefix and bus prefix of this run.
 */
export async function startCluster(bus: BusKind): Promise<Cluster> {
  const schema = uniqueName('cl').toLowerCase();
  const prefix = uniqueName('cl');
  const nodeTimeoutMs = 1_500;
  const env: Record<string, string> = {
    EASY_CHAT_ENV: 'test',
    // Every process of the cluster signs and checks tokens with one secret.
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    EC_STORAGE__DRIVER: 'postgres',
    DATABASE_URL: TEST_DATABASE_URL!,
    EC_STORAGE__POSTGRES__SCHEMA: schema,
    EC_CACHE__DRIVER: 'redis',
    REDIS_URL: TEST_REDIS_URL!,
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
  };
  const make = async (name: string, roles: string) => new Node(name, roles, await freePort(), env);
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
    async stop() {
      await Promise.all([api, gatewayA, gatewayB, worker].map((n) => n.stop()));
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
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
