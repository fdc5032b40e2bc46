/**
 * Scale-out figures on PostgreSQL + Redis + NATS, side by side in one run, with the
 * private-chat scenario's method (open-loop questions A → B answered at once, rising
 * offered rates until the p99 round trip passes BENCH_BREAK_MS):
 *  - capacity with one gateway process against two (each pair split across the two);
 *  - the cost of a delivery across gateways: in the two-gateway cluster, pairs split
 *    across the gateways against pairs whose ends share a gateway (half the pairs on
 *    each, so both layouts load both gateways alike).
 * The api, the gateways, the worker and the load generators are separate processes.
 *
 *   npm run bench:scale   BENCH_PAIRS=60 BENCH_STEP=6 BENCH_RATES=100,200,... BENCH_BREAK_MS=1000
 */
import pg from 'pg';
import type { Entry, StepOptions } from './private-chat.js';
import { step } from './private-chat.js';
import { befriendPairs, registerUsers, type BenchUser } from './support/fixtures.js';
import { envNumber, isMain, log, main, sleep } from './support/run.js';
import { startServer, type ServerProcess } from './support/server-process.js';
import { DATABASE_URL, EASY_CHAT_ENV, REDIS_URL } from './support/systems.js';
import { Pool } from './support/worker-pool.js';
import { roundOrder } from './support/round-order.js';

interface Cluster {
  api: ServerProcess;
  gateways: ServerProcess[];
  stop(): Promise<void>;
}

async function startCluster(gatewayCount: number): Promise<Cluster> {
  const id = `${Date.now().toString(36)}${gatewayCount}`;
  const env = {
    ...EASY_CHAT_ENV,
    EC_STORAGE__DRIVER: 'postgres',
    DATABASE_URL,
    EC_STORAGE__POSTGRES__SCHEMA: `bench_scale_${id}`,
    EC_CACHE__DRIVER: 'redis',
    REDIS_URL,
    EC_CACHE__REDIS__KEY_PREFIX: `bs${id}:`,
    EC_BUS__DRIVER: 'nats',
    NATS_URL: process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222',
    EC_BUS__PREFIX: `bs${id}`,
    EC_CLUSTER__PRESENCE: 'redis',
    EC_CLUSTER__TRANSPORT: 'nats',
  };
  const api = await startServer({ ...env, NODE_ID: `api-${id}` }, ['--roles', 'api']);
  const gateways = await Promise.all(
    Array.from({ length: gatewayCount }, (_, i) =>
      startServer({ ...env, NODE_ID: `gw${i}-${id}` }, ['--roles', 'gateway']),
    ),
  );
  const worker = await startServer({ ...env, NODE_ID: `wk-${id}` }, ['--roles', 'worker']);
  return {
    api,
    gateways,
    async stop() {
      await Promise.all([api, ...gateways, worker].map((s) => s.stop()));
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`drop schema if exists "${env.EC_STORAGE__POSTGRES__SCHEMA}" cascade`);
      await client.end();
    },
  };
}

/**
 * Connects every pair (both ends in one load generator) and returns the entry the
 * private-chat step runs: `where(i)` gives the gateway URLs of pair i's two ends.
 */
async function place(
  label: string,
  pool: Pool,
  cluster: Cluster,
  pairs: Array<[BenchUser, BenchUser]>,
  where: (i: number) => [string, string],
): Promise<Entry> {
  const perWorker: Entry['pairs'] = pool.workers.map(() => []);
  const counts = pool.workers.map(() => 0);
  for (const [i, [a, b]] of pairs.entries()) {
    const w = i % pool.size;
    const [urlA, urlB] = where(i);
    for (const [user, url] of [
      [a, urlA],
      [b, urlB],
    ] as const) {
      const r = await pool.workers[w]!.run<{ connected: number; failed: number }>('connect', {
        set: label,
        driver: 'easy-chat',
        url,
        users: [user],
      });
      if (r.failed > 0) throw new Error(`${label}: a socket failed to connect`);
      counts[w] = r.connected;
    }
    perWorker[w]!.push({ a: counts[w]! - 2, b: counts[w]! - 1 });
  }
  return {
    system: {
      label,
      driver: 'easy-chat',
      urls: cluster.gateways.map((g) => g.url),
    } as Entry['system'],
    set: label,
    pairs: perWorker,
    row: { system: label, steps: [], capacity: 0 },
    done: false,
  };
}

async function prepare(cluster: Cluster, count: number): Promise<Array<[BenchUser, BenchUser]>> {
  const users = await registerUsers(cluster.api.url, count * 2);
  const pairs = Array.from(
    { length: count },
    (_, i) => [users[2 * i]!, users[2 * i + 1]!] as [BenchUser, BenchUser],
  );
  await befriendPairs(cluster.api.url, pairs);
  return pairs;
}

export interface ScaleOptions extends StepOptions {
  pairs: number;
  /** Questions/s offered at each step, climbing until a layout breaks. */
  rates: number[];
  workers: number;
}

export async function runScaleOut(opts: ScaleOptions) {
  const pool = new Pool(opts.workers);
  const one = await startCluster(1);
  const two = await startCluster(2);
  const entries: Entry[] = [];
  try {
    const [g] = one.gateways;
    const [g0, g1] = two.gateways;
    entries.push(
      await place('one gateway', pool, one, await prepare(one, opts.pairs), () => [g!.url, g!.url]),
    );
    entries.push(
      await place(
        'two gateways, ends on different gateways',
        pool,
        two,
        await prepare(two, opts.pairs),
        () => [g0!.url, g1!.url],
      ),
    );
    entries.push(
      await place(
        'two gateways, ends on the same gateway',
        pool,
        two,
        await prepare(two, opts.pairs),
        (i) => (i % 2 === 0 ? [g0!.url, g0!.url] : [g1!.url, g1!.url]),
      ),
    );
    for (const entry of entries)
      await step(entry, pool, opts.rates[0]!, { ...opts, stepSeconds: 2 });
    for (const [k, rate] of opts.rates.entries()) {
      const live = entries.filter((e) => !e.done);
      if (live.length === 0) break;
      for (const entry of roundOrder(live, k)) {
        const s = await step(entry, pool, rate, opts);
        entry.row.steps.push(s);
        if (s.broken) entry.done = true;
        else entry.row.capacity = rate;
        await sleep(1000);
      }
    }
  } finally {
    await pool.stop();
    await Promise.all([one.stop(), two.stop()]);
  }
  return entries.map((e) => e.row);
}

if (isMain(import.meta))
  main(async () => {
    const rows = await runScaleOut({
      pairs: envNumber('BENCH_PAIRS', 60),
      stepSeconds: envNumber('BENCH_STEP', 6),
      rates: (process.env.BENCH_RATES ?? '100,150,200,250,300,400,500,600,800,1000')
        .split(',')
        .map(Number),
      breakMs: envNumber('BENCH_BREAK_MS', 1000),
      workers: envNumber('BENCH_WORKERS', 2),
    });
    const base = rows[0]!;
    const at = (row: (typeof rows)[number], rate: number) => row.steps.find((s) => s.rate === rate);
    console.log(`\nScale-out on PostgreSQL + Redis + NATS, Node ${process.version}\n`);
    console.log(
      '| layout | capacity (questions/s) | vs one gateway | round trip p50 / p99 at the highest rate all kept |',
    );
    console.log('| --- | ---: | ---: | ---: |');
    const common = Math.min(...rows.map((r) => r.capacity));
    for (const row of rows) {
      const s = at(row, common);
      console.log(
        `| ${row.system} | ${row.capacity} | ${(row.capacity / base.capacity).toFixed(2)} | ${s ? `${s.rtt.p50.toFixed(1)} / ${s.rtt.p99.toFixed(1)} ms @ ${common}/s` : '–'} |`,
      );
    }
    const split = at(rows[1]!, common);
    const same = at(rows[2]!, common);
    if (split && same)
      log(
        `cost of crossing gateways at ${common}/s: round trip p50 +${(split.rtt.p50 - same.rtt.p50).toFixed(1)} ms, one-way p50 +${(split.oneWay.p50 - same.oneWay.p50).toFixed(1)} ms`,
      );
  });
