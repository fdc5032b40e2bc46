/**
 * IM figures, each side by side with its baseline in the same run:
 *  1. memory per idle authenticated connection (easy-chat vs a bare `ws` server);
 *  2. private messages per second end to end, with ack and delivery latency
 *     (SQLite vs PostgreSQL);
 *  3. deliveries per second for a group with every member online.
 * Servers and load generators are separate processes on loopback.
 *
 *   npm run bench:im
 *   BENCH_IDLE=10000 BENCH_PAIRS=100 BENCH_DURATION=10 BENCH_GROUP=1000 BENCH_GROUP_MESSAGES=50
 */
import { fork } from 'node:child_process';
import pg from 'pg';
import { befriendPairs, createGroupOf, registerUsers, type BenchUser } from './support/fixtures.js';
import { rssOf } from './support/rss.js';
import { freePort, startServer, type ServerProcess } from './support/server-process.js';
import { percentile, Worker } from './support/worker-pool.js';

const IDLE = Number(process.env.BENCH_IDLE ?? 10_000);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 100);
const DURATION_MS = Number(process.env.BENCH_DURATION ?? 10) * 1000;
const GROUP = Number(process.env.BENCH_GROUP ?? 1000);
const GROUP_MESSAGES = Number(process.env.BENCH_GROUP_MESSAGES ?? 50);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const log = (...args: unknown[]) =>
  console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...args);

/** Settings that keep the benchmark measuring chat, not the limiters or password hashing. */
const BENCH_ENV = {
  EC_AUTH__ARGON2__MEMORY_KIB: '1024',
  EC_AUTH__ARGON2__TIME_COST: '1',
  EC_GATEWAY__FRAMES_PER_SEC: '100000',
  EC_GATEWAY__FRAME_BURST: '100000',
  EC_GATEWAY__IDLE_TIMEOUT_MS: '600000',
  EC_GATEWAY__MAX_PENDING_REQUESTS: '10000',
};

const schemas: string[] = [];
function postgresEnv(): Record<string, string> {
  const schema = `bench_${Date.now()}_${schemas.length}`;
  schemas.push(schema);
  return { EC_STORAGE__DRIVER: 'postgres', DATABASE_URL, EC_STORAGE__POSTGRES__SCHEMA: schema };
}

async function dropSchemas() {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  for (const s of schemas) await client.query(`drop schema if exists "${s}" cascade`);
  await client.end();
}

function split<T>(items: T[], parts: number): T[][] {
  const out: T[][] = Array.from({ length: parts }, () => []);
  items.forEach((item, i) => out[i % parts]!.push(item));
  return out;
}

async function withWorkers<T>(count: number, work: (workers: Worker[]) => Promise<T>): Promise<T> {
  const workers = Array.from({ length: count }, () => Worker.start());
  try {
    return await work(workers);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

async function idleMemory(url: string, pid: number, tokens: string[]): Promise<number> {
  return withWorkers(WORKERS, async (workers) => {
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssOf(pid);
    const parts = split(tokens, workers.length);
    const results = await Promise.all(
      workers.map((w, i) => w.run('connect', { url, tokens: parts[i], concurrency: 100 })),
    );
    const connected = results.reduce((n, r) => n + (r.connected as number), 0);
    if (connected !== tokens.length)
      throw new Error(`only ${connected}/${tokens.length} connected`);
    await new Promise((r) => setTimeout(r, 2000));
    return (rssOf(pid) - before) / connected;
  });
}

async function startRawWs(): Promise<{ url: string; pid: number; stop: () => void }> {
  const port = await freePort();
  const child = fork(new URL('./support/raw-ws-server.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, PORT: String(port) },
  });
  await new Promise((r) => child.once('message', r));
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => child.kill() };
}

async function scenarioIdle() {
  log(`idle: registering ${IDLE} users`);
  const server = await startServer({ ...BENCH_ENV });
  try {
    const users = await registerUsers(server.url, IDLE, (n) => log(`  registered ${n}`));
    log(`idle: connecting ${IDLE} sockets to easy-chat`);
    const easy = await idleMemory(
      server.url,
      server.child.pid!,
      users.map((u) => u.token),
    );
    const raw = await startRawWs();
    try {
      log(`idle: connecting ${IDLE} sockets to a bare ws server`);
      const bare = await idleMemory(
        raw.url,
        raw.pid,
        users.map(() => 'x'),
      );
      return { easy, bare };
    } finally {
      raw.stop();
    }
  } finally {
    await server.stop();
  }
}

async function scenarioPairs(label: string, server: ServerProcess) {
  log(`${label}: ${PAIRS} friend pairs`);
  const users = await registerUsers(server.url, PAIRS * 2);
  const pairs: Array<[BenchUser, BenchUser]> = [];
  for (let i = 0; i < PAIRS; i += 1) pairs.push([users[2 * i]!, users[2 * i + 1]!]);
  await befriendPairs(server.url, pairs);
  return withWorkers(WORKERS, async (workers) => {
    const perWorker = split(pairs, workers.length);
    await Promise.all(
      workers.map((w, i) =>
        w.run('connect', {
          url: server.url,
          tokens: perWorker[i]!.flatMap(([a, b]) => [a.token, b.token]),
        }),
      ),
    );
    log(`${label}: running ${DURATION_MS / 1000}s closed loop`);
    const results = await Promise.all(
      workers.map((w, i) =>
        w.run('pairs', {
          pairs: perWorker[i]!.map(([, b], k) => ({ sender: 2 * k, recvId: b.id })),
          durationMs: DURATION_MS,
        }),
      ),
    );
    const acks = results.flatMap((r) => r.ackLatencies as number[]);
    const deliveries = results.flatMap((r) => r.deliveryLatencies as number[]);
    const errors = results.reduce((n, r) => n + (r.errors as number), 0);
    return {
      rate: acks.length / (DURATION_MS / 1000),
      ackP50: percentile(acks, 50),
      ackP99: percentile(acks, 99),
      delP50: percentile(deliveries, 50),
      delP99: percentile(deliveries, 99),
      delivered: deliveries.length,
      sent: acks.length,
      errors,
    };
  });
}

async function scenarioGroup(label: string, server: ServerProcess) {
  log(`${label}: group of ${GROUP}, registering`);
  const users = await registerUsers(server.url, GROUP, (n) => log(`  registered ${n}`));
  const [owner, ...members] = users;
  const groupId = await createGroupOf(server.url, owner!, members);
  return withWorkers(WORKERS, async (workers) => {
    const parts = split(users, workers.length);
    await Promise.all(
      workers.map((w, i) =>
        w.run('connect', { url: server.url, tokens: parts[i]!.map((u) => u.token) }),
      ),
    );
    log(`${label}: sending ${GROUP_MESSAGES} messages to ${GROUP} online members`);
    const start = performance.timeOrigin + performance.now();
    const { sentAt } = await workers[0]!.run('send', {
      sender: 0,
      data: { chatType: 1, recvId: groupId },
      count: GROUP_MESSAGES,
    });
    const expected = (GROUP - 1) * GROUP_MESSAGES;
    let arrivals: Array<{ pushCount: number; arrivals: Record<string, number> }> = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      arrivals = await Promise.all(workers.map((w) => w.run('arrivals')));
      const total = arrivals.reduce((n, a) => n + a.pushCount, 0);
      if (total >= expected || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const total = arrivals.reduce((n, a) => n + a.pushCount, 0);
    const last: Record<string, number> = {};
    for (const a of arrivals)
      for (const [key, t] of Object.entries(a.arrivals)) last[key] = Math.max(last[key] ?? 0, t);
    const completion = Object.entries(sentAt as Record<string, number>).map(
      ([seq, t]) => last[`${groupId}:${seq}`]! - t,
    );
    const end = Math.max(...Object.values(last));
    return {
      deliveries: total,
      expected,
      perSecond: total / ((end - start) / 1000),
      completionP50: percentile(completion, 50),
      completionMax: Math.max(...completion),
    };
  });
}

async function main() {
  const rows: string[] = [];
  const idle = await scenarioIdle();
  rows.push(
    `| memory per idle connection (${IDLE}) | ${(idle.easy / 1024).toFixed(1)} KiB | bare ws: ${(idle.bare / 1024).toFixed(1)} KiB | ${(idle.easy / idle.bare).toFixed(2)}x |`,
  );

  const chat: Record<string, Awaited<ReturnType<typeof scenarioPairs>>> = {};
  for (const [label, env] of [
    ['SQLite', {}],
    ['PostgreSQL', postgresEnv()],
  ] as const) {
    const server = await startServer({ ...BENCH_ENV, ...env });
    try {
      chat[label] = await scenarioPairs(label, server);
    } finally {
      await server.stop();
    }
  }
  const s = chat.SQLite!;
  const p = chat.PostgreSQL!;
  rows.push(
    `| private msgs/s end to end (${PAIRS} pairs, closed loop) | SQLite ${s.rate.toFixed(0)} | PostgreSQL ${p.rate.toFixed(0)} | PG/SQLite ${(p.rate / s.rate).toFixed(2)} |`,
  );
  for (const [label, r] of Object.entries(chat)) {
    rows.push(
      `| ${label}: ack p50/p99, delivery p50/p99 | ${r.ackP50.toFixed(1)} / ${r.ackP99.toFixed(1)} ms | ${r.delP50.toFixed(1)} / ${r.delP99.toFixed(1)} ms | delivered ${r.delivered}/${r.sent}, errors ${r.errors} |`,
    );
  }

  const groupServer = await startServer({ ...BENCH_ENV });
  try {
    const g = await scenarioGroup('group', groupServer);
    rows.push(
      `| group of ${GROUP}, ${GROUP_MESSAGES} msgs: deliveries/s | ${g.perSecond.toFixed(0)} | ${g.deliveries}/${g.expected} delivered | last member: p50 ${g.completionP50.toFixed(0)} ms, max ${g.completionMax.toFixed(0)} ms |`,
    );
  } finally {
    await groupServer.stop();
  }
  await dropSchemas();

  console.log(`\nIM benchmark, Node ${process.version}, ${WORKERS} client processes\n`);
  console.log('| scenario | easy-chat | baseline / other | ratio / notes |');
  console.log('| --- | ---: | ---: | --- |');
  for (const row of rows) console.log(row);
}

main().catch(async (err: unknown) => {
  console.error(err);
  await dropSchemas().catch(() => undefined);
  process.exit(1);
});
