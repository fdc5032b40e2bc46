/**
 * Scale-out figures, side by side in one run on PostgreSQL + Redis + NATS:
 *  - private messages/s end to end with one gateway process vs two (pairs split
 *    so that senders and receivers sit on different gateways when there are two);
 *  - the cost of a delivery across gateways: the same cluster, pairs on one
 *    gateway vs pairs split across two.
 * Every server role and the load generators are separate processes.
 *
 *   npm run bench:scale   (BENCH_PAIRS=60 BENCH_DURATION=10 BENCH_ROUNDS=2)
 */
import pg from 'pg';
import { befriendPairs, registerUsers, type BenchUser } from './support/fixtures.js';
import { startServer, type ServerProcess } from './support/server-process.js';
import { percentile, Worker } from './support/worker-pool.js';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 60);
const DURATION_MS = Number(process.env.BENCH_DURATION ?? 10) * 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';

const log = (...args: unknown[]) =>
  console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...args);

interface Layout {
  api: ServerProcess;
  gateways: ServerProcess[];
  worker: ServerProcess;
  schema: string;
  stop(): Promise<void>;
}

async function startLayout(gatewayCount: number): Promise<Layout> {
  const schema = `bench_scale_${Date.now()}`;
  const prefix = `bs${Date.now()}`;
  const env = {
    EC_AUTH__ARGON2__MEMORY_KIB: '1024',
    EC_AUTH__ARGON2__TIME_COST: '1',
    EC_GATEWAY__FRAMES_PER_SEC: '100000',
    EC_GATEWAY__FRAME_BURST: '100000',
    EC_GATEWAY__MAX_PENDING_REQUESTS: '10000',
    EC_STORAGE__DRIVER: 'postgres',
    DATABASE_URL,
    EC_STORAGE__POSTGRES__SCHEMA: schema,
    EC_CACHE__DRIVER: 'redis',
    REDIS_URL,
    EC_CACHE__REDIS__KEY_PREFIX: `${prefix}:`,
    EC_BUS__DRIVER: 'nats',
    NATS_URL,
    EC_BUS__PREFIX: prefix,
    EC_CLUSTER__PRESENCE: 'redis',
    EC_CLUSTER__TRANSPORT: 'nats',
  };
  const api = await startServer({ ...env, NODE_ID: 'api' }, ['--roles', 'api']);
  const gateways = await Promise.all(
    Array.from({ length: gatewayCount }, (_, i) =>
      startServer({ ...env, NODE_ID: `gw${i}` }, ['--roles', 'gateway']),
    ),
  );
  const worker = await startServer({ ...env, NODE_ID: 'worker' }, ['--roles', 'worker']);
  return {
    api,
    gateways,
    worker,
    schema,
    async stop() {
      await Promise.all([api, ...gateways, worker].map((s) => s.stop()));
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    },
  };
}

/** Closed loop: every pair's sender keeps one message in flight; receivers are on `receiverGateway`. */
async function runPairs(
  senderUrl: string,
  receiverUrl: string,
  pairs: Array<[BenchUser, BenchUser]>,
): Promise<{ rate: number; p50: number; p99: number; delivered: number; sent: number }> {
  const workers = [Worker.start(), Worker.start()];
  try {
    const halves = [pairs.filter((_, i) => i % 2 === 0), pairs.filter((_, i) => i % 2 === 1)];
    await Promise.all(
      workers.map(async (w, i) => {
        await w.run('connect', { url: senderUrl, tokens: halves[i]!.map(([a]) => a.token) });
        await w.run('connect', { url: receiverUrl, tokens: halves[i]!.map(([, b]) => b.token) });
      }),
    );
    const results = await Promise.all(
      workers.map((w, i) =>
        w.run('pairs', {
          pairs: halves[i]!.map(([, b], k) => ({ sender: k, recvId: b.id })),
          durationMs: DURATION_MS,
        }),
      ),
    );
    const acks = results.flatMap((r) => r.ackLatencies as number[]);
    const deliveries = results.flatMap((r) => r.deliveryLatencies as number[]);
    return {
      rate: acks.length / (DURATION_MS / 1000),
      p50: percentile(deliveries, 50),
      p99: percentile(deliveries, 99),
      delivered: deliveries.length,
      sent: acks.length,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const figures: Record<string, Array<Awaited<ReturnType<typeof runPairs>>>> = {};
  const add = (label: string, r: Awaited<ReturnType<typeof runPairs>>) => {
    (figures[label] ??= []).push(r);
    log(
      `  ${label}: ${r.rate.toFixed(0)} msg/s, delivery p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms (${r.delivered}/${r.sent})`,
    );
  };
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const gatewayCount of [1, 2]) {
      log(`round ${round}: ${gatewayCount} gateway(s)`);
      const layout = await startLayout(gatewayCount);
      try {
        const users = await registerUsers(layout.api.url, PAIRS * 2);
        const pairs: Array<[BenchUser, BenchUser]> = [];
        for (let i = 0; i < PAIRS; i += 1) pairs.push([users[2 * i]!, users[2 * i + 1]!]);
        await befriendPairs(layout.api.url, pairs);
        const [gw0, gw1] = layout.gateways;
        if (gatewayCount === 1) {
          add('one gateway', await runPairs(gw0!.url, gw0!.url, pairs));
        } else {
          add('two gateways, pairs split across them', await runPairs(gw0!.url, gw1!.url, pairs));
          add('two gateways, each pair on one gateway', await runPairs(gw0!.url, gw0!.url, pairs));
        }
      } finally {
        await layout.stop();
      }
    }
  }
  const summary = (label: string) => {
    const rs = figures[label]!;
    return {
      rate: median(rs.map((r) => r.rate)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
    };
  };
  const one = summary('one gateway');
  const split = summary('two gateways, pairs split across them');
  const same = summary('two gateways, each pair on one gateway');
  console.log(
    `\nScale-out on PostgreSQL + Redis + NATS, ${PAIRS} pairs, ${DURATION_MS / 1000}s x ${ROUNDS} rounds (median), Node ${process.version}\n`,
  );
  console.log('| layout | msg/s | delivery p50 | delivery p99 | vs one gateway |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [label, s] of [
    ['one gateway', one],
    ['two gateways, pairs split across them', split],
    ['two gateways, each pair on one gateway', same],
  ] as const) {
    console.log(
      `| ${label} | ${s.rate.toFixed(0)} | ${s.p50.toFixed(1)} ms | ${s.p99.toFixed(1)} ms | ${(s.rate / one.rate).toFixed(2)} |`,
    );
  }
  console.log(
    `\nCost of a delivery across gateways (split vs same gateway, same cluster): throughput ${(split.rate / same.rate).toFixed(2)}x, p50 latency +${(split.p50 - same.p50).toFixed(1)} ms`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
