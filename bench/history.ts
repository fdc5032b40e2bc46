/**
 * Scenario 5, history reads: `GET /v1/im/chatlog` pages (50 messages, newest first,
 * from a random point of a conversation's history) per second with autocannon, on
 * SQLite, PostgreSQL and MariaDB (or MySQL), against `GET /healthz` on the same server
 * as the baseline. Rounds alternate between the servers; the median is reported, with
 * the server process's CPU-µs per request (steadier than req/s on a shared machine).
 *
 *   npm run bench:history  BENCH_HISTORY_PAIRS=10 BENCH_HISTORY_MESSAGES=500
 *                          BENCH_DURATION=5 BENCH_ROUNDS=3 BENCH_CONNECTIONS=50
 *                          BENCH_REF_DIR, BENCH_REF_LABEL, BENCH_REF_DROP_ENV: earlier
 *                          checkouts (built) served beside this one, each on a database
 *                          of its own filled the same way, in the same alternating rounds
 *                          (as bench:cpu takes them)
 *                          BENCH_HISTORY_BASELINE=0: skip the `/healthz` rounds (half the time)
 *
 * On PostgreSQL each row also keeps the CPU of the backends serving the server's own
 * connections per request (bench/support/db-cpu.ts), so Node + its backends compare with
 * the ceiling's Node + its backends: a page's SQL runs there, not in Node.
 */
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { connectUsers } from './support/clients.js';
import type { ClientUser } from './support/drivers.js';
import { cpuMicros, untilIdle } from './support/cpu.js';
import { cpuEach, cpuSince, databasePids } from './support/db-cpu.js';
import { finishRun, machine, type Meta } from './support/meta.js';
import {
  envNumber,
  isMain,
  log,
  main,
  onCleanup,
  withProgress,
  writeResult,
} from './support/run.js';
import { freePort } from './support/server-process.js';
import {
  checkoutsFromEnv,
  EASY_CHAT_ENV,
  startEasyChat,
  type Checkout,
  type Storage,
  type System,
} from './support/systems.js';
import { Pool } from './support/worker-pool.js';
import { roundOrder } from './support/round-order.js';

export interface HistoryOptions {
  pairs: number;
  messages: number;
  pageSize: number;
  durationSeconds: number;
  rounds: number;
  connections: number;
  storages: Storage[];
  /** Whether `GET /healthz` is measured too (the HTTP stack alone). */
  baseline?: boolean;
  /** Earlier checkouts (built) measured beside this one, easy-chat only. */
  references?: Checkout[];
}
export interface HistoryRow {
  system: string;
  endpoint: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of the server process per request, µs (median of the rounds). */
  cpuUs?: number;
  /** Lowest and highest CPU-µs per request of the rounds. */
  cpuRange?: [number, number];
  /** CPU-µs per request of each round, in round order. */
  cpuRounds?: number[];
  /** Requests per second of each round, in round order (absent in older files). */
  rpsRounds?: number[];
  /** p99 latency of each round, ms, in round order (absent in older files). */
  p99Rounds?: number[];
  /**
   * PostgreSQL: CPU-µs per request of the backends serving the server's own connections,
   * each round in round order (absent on the other engines and in older files).
   */
  dbCpuRounds?: number[];
}
export interface HistoryResult {
  meta: Meta;
  options: HistoryOptions;
  rows: HistoryRow[];
}

/** A server answering history pages: easy-chat, or the ceiling script reading its database. */
interface Target {
  label: string;
  url: string;
  pids(): number[];
  /** The database engine whose backends work for `pids` ('sqlite': none apart). */
  engine: Storage;
  readers: Array<{ token: string; conversationId: string }>;
  stop(): Promise<void>;
}

async function prepare(
  storage: Storage,
  opts: HistoryOptions,
  checkout?: Checkout,
): Promise<Target[]> {
  const system = await startEasyChat({ storage, ...(checkout ? { checkout } : {}) });
  const users = await system.makeUsers(opts.pairs * 2);
  const pairs = Array.from(
    { length: opts.pairs },
    (_, i) => [users[2 * i]!, users[2 * i + 1]!] as [ClientUser, ClientUser],
  );
  await system.pair(pairs);
  const pool = new Pool(1);
  try {
    const placed = await connectUsers(
      pool,
      system,
      'writers',
      pairs.map(([a]) => a),
      20,
    );
    await withProgress(
      `${system.label}: writing ${opts.pairs} x ${opts.messages} messages`,
      () => `${pool.total('sent')}`,
      () =>
        Promise.all(
          pairs.map(([, b], i) =>
            pool.workers[0]!.run('sendSequence', {
              set: 'writers',
              sender: placed[i]!.index,
              to: { kind: 'user', id: b.id },
              count: opts.messages,
            }),
          ),
        ),
    );
  } finally {
    await pool.stop();
  }
  const readers = pairs.map(([a, b]) => ({
    token: b.token!,
    conversationId: [a.id, b.id].sort().join('_'),
  }));
  const easyChat: Target = {
    label: system.label,
    url: system.urls[0]!,
    pids: () => system.pids(),
    engine: storage,
    readers,
    stop: () => system.stop(),
  };
  // An earlier checkout is measured against the ceiling beside this checkout's own.
  if (!system.database || checkout) return [easyChat];
  const ceiling = await startCeiling(system.database);
  const engine = system.database.driver === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  return [
    {
      label: `ceiling (${engine})`,
      url: ceiling.url,
      pids: () => [ceiling.pid],
      engine: storage,
      readers,
      stop: ceiling.stop,
    },
    easyChat,
  ];
}

/** bench/peers/ceiling-history.ts on the database easy-chat just filled. */
async function startCeiling(
  database: NonNullable<System['database']>,
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const target = database.driver === 'sqlite' ? [database.file] : [database.url, database.schema];
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/peers/ceiling-history.ts', String(port), database.driver, ...target],
    {
      cwd: root,
      env: { ...process.env, JWT_SECRET: EASY_CHAT_ENV.JWT_SECRET },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  onCleanup(stop);
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`history ceiling exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop };
}

/**
 * Waits until no server works any more (under 5 % of a core over a second, at most
 * 60 s): writing the conversations leaves offline pushes to the reader queued, and
 * their badge counts ran into the first rounds' CPU (seen in a profile, twenty-first
 * session).
 */
async function settle(targets: Target[]): Promise<void> {
  const pids = () => targets.flatMap((t) => t.pids());
  if (!(await untilIdle(pids, { share: 0.05, windowMs: 1000, maxMs: 60_000 })))
    log('history: the servers were still busy after 60 s; measuring anyway');
}

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return autocannon(options);
}

const root = new URL('..', import.meta.url).pathname;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runHistory(opts: HistoryOptions): Promise<HistoryResult> {
  const meta = machine();
  const targets: Target[] = [];
  const samples = new Map<
    string,
    {
      system: string;
      endpoint: string;
      rps: number[];
      p50: number[];
      p99: number[];
      cpuUs: number[];
      dbCpuUs: number[];
      errors: number;
    }
  >();
  try {
    for (const storage of opts.storages) {
      log(`history: ${storage}`);
      targets.push(...(await prepare(storage, opts)));
      for (const reference of opts.references ?? [])
        targets.push(...(await prepare(storage, opts, reference)));
    }
    await settle(targets);
    type Endpoint = [string, (t: Target) => autocannon.Options];
    const baseline: Endpoint = ['GET /healthz (baseline)', (t) => ({ url: `${t.url}/healthz` })];
    const endpoints: Endpoint[] = [
      ...(opts.baseline === false ? [] : [baseline]),
      [
        `GET /v1/im/chatlog (${opts.pageSize} per page)`,
        (t) => {
          let k = 0;
          return {
            url: `${t.url}/v1/im/chatlog`,
            requests: [
              {
                setupRequest: (req) => {
                  const reader = t.readers[k++ % t.readers.length]!;
                  const endSeq =
                    opts.pageSize + Math.floor(Math.random() * (opts.messages - opts.pageSize + 1));
                  return {
                    ...req,
                    path: `/v1/im/chatlog?conversationId=${reader.conversationId}&endSeq=${endSeq}&count=${opts.pageSize}`,
                    headers: { authorization: `Bearer ${reader.token}` },
                  };
                },
              },
            ],
          };
        },
      ],
    ];
    for (let round = 1; round <= opts.rounds; round += 1)
      for (const [endpoint, options] of endpoints) {
        const order = roundOrder(targets, round - 1);
        for (const t of order) {
          const dbBefore =
            t.engine === 'postgres' ? cpuEach(databasePids('postgres', t.pids())) : undefined;
          const cpuBefore = cpuMicros(t.pids());
          const r = await run({
            connections: opts.connections,
            duration: opts.durationSeconds,
            ...options(t),
          });
          const cpuUs = (cpuMicros(t.pids()) - cpuBefore) / Math.max(1, r.requests.total);
          // Backends opened during the round count whole (cpuSince).
          const dbCpuUs = dbBefore
            ? cpuSince(dbBefore, databasePids('postgres', t.pids())) / Math.max(1, r.requests.total)
            : undefined;
          const key = `${endpoint}|${t.label}`;
          const s = samples.get(key) ?? {
            system: t.label,
            endpoint,
            rps: [],
            p50: [],
            p99: [],
            cpuUs: [],
            dbCpuUs: [],
            errors: 0,
          };
          s.rps.push(r.requests.average);
          s.p50.push(r.latency.p50);
          s.p99.push(r.latency.p99);
          s.cpuUs.push(cpuUs);
          if (dbCpuUs !== undefined) s.dbCpuUs.push(dbCpuUs);
          s.errors += r.non2xx + r.errors;
          samples.set(key, s);
          log(
            `  round ${round}/${opts.rounds} ${endpoint.padEnd(32)} ${t.label.padEnd(22)} ${r.requests.average.toFixed(0).padStart(6)} req/s p99 ${r.latency.p99} ms, ${cpuUs.toFixed(0)} CPU-µs/req${dbCpuUs === undefined ? '' : ` + ${dbCpuUs.toFixed(0)} its backends`}`,
          );
        }
      }
  } finally {
    for (const t of targets) await t.stop();
  }
  finishRun(meta);
  return {
    meta,
    options: opts,
    rows: [...samples.values()].map((s) => ({
      system: s.system,
      endpoint: s.endpoint,
      rps: median(s.rps),
      p50: median(s.p50),
      p99: median(s.p99),
      cpuUs: median(s.cpuUs),
      cpuRange: [Math.min(...s.cpuUs), Math.max(...s.cpuUs)],
      cpuRounds: s.cpuUs,
      rpsRounds: s.rps,
      p99Rounds: s.p99,
      ...(s.dbCpuUs.length ? { dbCpuRounds: s.dbCpuUs } : {}),
      errors: s.errors,
    })),
  };
}

if (isMain(import.meta))
  main(async () => {
    const result = await runHistory({
      pairs: envNumber('BENCH_HISTORY_PAIRS', 10),
      messages: envNumber('BENCH_HISTORY_MESSAGES', 500),
      pageSize: 50,
      durationSeconds: envNumber('BENCH_DURATION', 5),
      rounds: envNumber('BENCH_ROUNDS', 3),
      connections: envNumber('BENCH_CONNECTIONS', 50),
      baseline: process.env.BENCH_HISTORY_BASELINE !== '0',
      storages: (process.env.BENCH_HISTORY_STORAGES?.split(',') ?? [
        'sqlite',
        'postgres',
        'mysql',
      ]) as Storage[],
      references: checkoutsFromEnv(),
    });
    writeResult('history', result);
    const { writeReport } = await import('./report.js');
    writeReport();
  });
