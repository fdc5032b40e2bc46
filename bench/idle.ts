/**
 * Scenario 1, idle connections: server memory per authenticated, idle WebSocket, at
 * 10,000 and at the largest count this machine allows, for easy-chat, ejabberd,
 * Socket.IO (Redis adapter) and a bare `ws` server.
 *
 * A process may hold 20,000 open files, so past PER_PROCESS connections a system runs
 * several server processes (easy-chat: all-in-one processes on one PostgreSQL;
 * Socket.IO: processes sharing Redis; ws: independent processes) and the clients come
 * from several load generators. ejabberd is one Erlang node and stops at its limit.
 *
 * At the first count every system is measured BENCH_IDLE_ROUNDS times (3), each time on a
 * fresh server, alternating the systems' order; the figure is the median with its range.
 * The largest count runs once per system: a run of 60,000 sockets on four systems is
 * most of the script's time, and three of them do not fit a benchmark session.
 *
 *   npm run bench:idle     BENCH_IDLE=10000 BENCH_IDLE_MAX=60000 BENCH_IDLE_PER_PROCESS=15000
 *                          BENCH_IDLE_ROUNDS=3 BENCH_IDLE_SYSTEMS=easy-chat,ejabberd,socket.io,ws
 *
 * BENCH_REF_DIR=/tmp/ref[,/tmp/other] BENCH_REF_LABEL=ref[,other] (each built: npx tsc -p
 * tsconfig.build.json) measures those checkouts of easy-chat too, as systems of their own
 * in the same alternation: an A/B of the memory a socket costs.
 */
import { connectUsers } from './support/clients.js';
import { log, envNumber, isMain, main, sleep, writeResult } from './support/run.js';
import { rssOf } from './support/rss.js';
import { finishRun, machine, type Meta } from './support/meta.js';
import {
  ejabberdUnavailable,
  startEasyChat,
  startEjabberdSystem,
  startRawWs,
  startSocketIo,
  checkoutsFromEnv,
  type Checkout,
  type System,
} from './support/systems.js';
import { Pool } from './support/worker-pool.js';
import { roundOrder } from './support/round-order.js';

export interface IdleOptions {
  counts: number[];
  perProcess: number;
  /** Most connections one ejabberd node takes here (its open-file limit). */
  ejabberdMax: number;
  systems: SystemName[];
  /** Other checkouts of easy-chat measured beside it (BENCH_REF_DIR); absent: none. */
  checkouts?: Checkout[];
  /** Runs per system at the first count (absent in older files: 1); later counts run once. */
  rounds?: number;
}
const SYSTEM_NAMES = ['easy-chat', 'ejabberd', 'socket.io', 'ws'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

export interface IdleRow {
  system: string;
  requested: number;
  connections: number;
  processes: number;
  bytesPerConnection: number;
  connectPerSecond: number;
  totalRssMiB: number;
  /** bytesPerConnection of each run, in run order; the row holds their medians (absent in older files: one run). */
  bytesRounds?: number[];
}
export interface IdleResult {
  meta: Meta;
  options: IdleOptions;
  rows: IdleRow[];
  skipped: string[];
}

const CLIENTS_PER_WORKER = 12_000;
const WARM_PER_PROCESS = 50;

/** A system of a run: one of SystemName, or easy-chat built from another checkout. */
interface Measured {
  name: SystemName;
  checkout?: Checkout;
}

async function measure(
  { name, checkout }: Measured,
  requested: number,
  opts: IdleOptions,
): Promise<IdleRow | undefined> {
  const count = name === 'ejabberd' ? Math.min(requested, opts.ejabberdMax) : requested;
  const processes = name === 'ejabberd' ? 1 : Math.ceil(count / opts.perProcess);
  const system: System =
    name === 'easy-chat'
      ? await startEasyChat({
          storage: processes > 1 ? 'postgres' : 'sqlite',
          processes,
          checkout,
        })
      : name === 'ejabberd'
        ? await startEjabberdSystem()
        : name === 'socket.io'
          ? await startSocketIo(processes)
          : await startRawWs(processes);
  const pool = new Pool(Math.max(1, Math.ceil(count / CLIENTS_PER_WORKER)));
  try {
    log(`idle: ${system.label}, ${count} connections`);
    const users = await system.makeUsers(count);
    // A few sockets per server process first, so code paths are compiled and the
    // heap set up before measuring: what is left is the cost of each socket.
    const warm = users.slice(0, Math.min(WARM_PER_PROCESS * processes, Math.floor(count / 10)));
    const measured = users.slice(warm.length);
    await connectUsers(pool, system, 'warm-up', warm, 20);
    await sleep(1000);
    const before = system.pids().reduce((n, pid) => n + rssOf(pid), 0);
    await snapshotHeaps(system);
    const started = performance.now();
    await connectUsers(pool, system, 'idle', measured, 100);
    const connectSeconds = (performance.now() - started) / 1000;
    await sleep(5000);
    const after = system.pids().reduce((n, pid) => n + rssOf(pid), 0);
    await snapshotHeaps(system);
    const row: IdleRow = {
      system: system.label,
      requested,
      connections: count,
      processes,
      bytesPerConnection: (after - before) / measured.length,
      connectPerSecond: measured.length / connectSeconds,
      totalRssMiB: after / 2 ** 20,
    };
    log(
      `  ${(row.bytesPerConnection / 1024).toFixed(1)} KiB per connection, ${row.connectPerSecond.toFixed(0)} connections/s`,
    );
    return row;
  } finally {
    await pool.stop();
    await system.stop();
  }
}

/**
 * BENCH_IDLE_SNAPSHOT=<seconds>: SIGUSR2 to an easy-chat server, and that long to write a
 * heap snapshot, before its measured sockets connect and once they are measured, for a
 * server started with BENCH_SERVER_NODE_ARGS="--heapsnapshot-signal=SIGUSR2
 * --diagnostic-dir=DIR": the two snapshots' difference (bench/support/heap-summary.cjs on
 * each) is what the sockets hold. Each is taken after an RSS reading; the first one's full
 * collection does move the figure a little, so a run with snapshots is for looking, not
 * for quoting.
 */
async function snapshotHeaps(system: System): Promise<void> {
  const seconds = envNumber('BENCH_IDLE_SNAPSHOT', 0);
  if (seconds <= 0 || system.driver !== 'easy-chat') return;
  for (const pid of system.pids()) process.kill(pid, 'SIGUSR2');
  log(`  heap snapshot requested; waiting ${seconds} s`);
  await sleep(seconds * 1000);
}

/** BENCH_IDLE_SYSTEMS: names from SYSTEM_NAMES, comma-separated (default: all of them). */
function systemsFromEnv(value: string | undefined): SystemName[] {
  if (!value) return [...SYSTEM_NAMES];
  return value.split(',').map((name) => {
    if (!(SYSTEM_NAMES as readonly string[]).includes(name))
      throw new Error(`BENCH_IDLE_SYSTEMS: unknown system ${name} (${SYSTEM_NAMES.join(', ')})`);
    return name as SystemName;
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One system's runs at one count as one row: medians, with every run's bytes per socket. */
function medianRow(runs: IdleRow[]): IdleRow {
  return {
    ...runs[0]!,
    bytesPerConnection: median(runs.map((r) => r.bytesPerConnection)),
    connectPerSecond: median(runs.map((r) => r.connectPerSecond)),
    totalRssMiB: median(runs.map((r) => r.totalRssMiB)),
    bytesRounds: runs.map((r) => r.bytesPerConnection),
  };
}

export async function runIdle(opts: IdleOptions): Promise<IdleResult> {
  const meta = machine();
  const rows: IdleRow[] = [];
  const skipped: string[] = [];
  const why = ejabberdUnavailable();
  const systems: Measured[] = opts.systems
    .filter((s) => {
      if (s === 'ejabberd' && why) {
        skipped.push(`ejabberd: ${why}`);
        log(`idle: skipping ejabberd: ${why}`);
        return false;
      }
      return true;
    })
    .flatMap((name): Measured[] =>
      name === 'easy-chat'
        ? [{ name }, ...(opts.checkouts ?? []).map((checkout) => ({ name, checkout }))]
        : [{ name }],
    );
  for (const [i, count] of opts.counts.entries()) {
    const runs = new Map<Measured, IdleRow[]>();
    const rounds = i === 0 ? (opts.rounds ?? 1) : 1;
    for (let k = 0; k < rounds; k += 1)
      for (const system of roundOrder(systems, k)) {
        const row = await measure(system, count, opts);
        if (row) runs.set(system, [...(runs.get(system) ?? []), row]);
      }
    for (const system of systems) {
      const got = runs.get(system);
      if (got) rows.push(medianRow(got));
    }
  }
  finishRun(meta);
  return { meta, options: opts, rows, skipped };
}

if (isMain(import.meta))
  main(async () => {
    const opts: IdleOptions = {
      // BENCH_IDLE_MAX=0: the first count only.
      counts: [envNumber('BENCH_IDLE', 10_000), envNumber('BENCH_IDLE_MAX', 60_000)].filter(
        (count) => count > 0,
      ),
      perProcess: envNumber('BENCH_IDLE_PER_PROCESS', 15_000),
      ejabberdMax: envNumber('BENCH_IDLE_EJABBERD_MAX', 19_500),
      systems: systemsFromEnv(process.env.BENCH_IDLE_SYSTEMS),
      checkouts: checkoutsFromEnv(),
      rounds: envNumber('BENCH_IDLE_ROUNDS', 3),
    };
    const result = await runIdle(opts);
    writeResult('idle', result);
    const { writeReport } = await import('./report.js');
    writeReport();
  });
