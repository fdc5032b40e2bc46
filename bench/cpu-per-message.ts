/**
 * Server CPU per private message (stored, answered, pushed), against the ceiling
 * script (bench/peers/ceiling-chat.ts: bare `ws`, prepared SQL, group commit) run side
 * by side: on SQLite (synchronous = FULL) for the SQLite and MySQL rows, on PostgreSQL
 * (bench/peers/ceiling-chat-pg.ts, its `postgres` processes counted too) for the
 * PostgreSQL rows. CPU time is the figure that survives a noisy
 * machine; throughput alone moves 2x between runs.
 *
 * Every system is started and connected first; then each round offers the same paced
 * load (BENCH_RATE messages/s over BENCH_PAIRS pairs for BENCH_SECONDS) to each system
 * in turn, alternating the order, and reads the server's user + system CPU from
 * /proc/<pid>/stat around it (on PostgreSQL also the CPU of every `postgres` process,
 * on MySQL/MariaDB that of `mysqld`/`mariadbd`: run it on an otherwise idle machine). Figures: the median of BENCH_ROUNDS rounds
 * with its range, and the ratio to the ceiling's median.
 *
 *   npm run bench:cpu     BENCH_RATE=1000 BENCH_PAIRS=50 BENCH_SECONDS=5 BENCH_ROUNDS=3
 *                         BENCH_STORES=sqlite,postgres (mysql: MariaDB or MySQL too)
 *                         BENCH_THREADS=1 (each round: CPU-µs per message by thread)
 *                         BENCH_REF_DIR=/path/to/other/checkout (built: npm run build;
 *                           several, comma-separated, each measured side by side)
 *                         BENCH_REF_LABEL=978e253 (one per directory)
 *                         BENCH_REF_DROP_ENV=EC_X,EC_Y;EC_Z (settings each earlier version
 *                           lacks: comma-separated, one list per directory, lists split by ;)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { CEILING_LABEL, startCeilingChat } from './support/ceiling-system.js';
import { cpuByThread } from './support/cpu.js';
import { cpuEach, cpuSince, databasePids } from './support/db-cpu.js';
import { drivers, type Conn, type Target } from './support/drivers.js';
import { envNumber, isMain, log, main, sleep, writeResult } from './support/run.js';
import { startEasyChat, type Storage } from './support/systems.js';

export { cpuEach, cpuSince };

export interface CpuOptions {
  rate: number;
  pairs: number;
  seconds: number;
  rounds: number;
  stores: Storage[];
  references?: Array<{ dir: string; label: string; dropEnv?: string[] }>;
}

interface Figure {
  median: number;
  min: number;
  max: number;
}

export interface CpuRow {
  system: string;
  /** Server (and database server) CPU-µs per message, per round. */
  rounds: number[];
  cpuUsPerMessage: Figure;
  /** Of which the database server's processes (PostgreSQL, MariaDB; 0 on SQLite). */
  dbUsPerMessage: Figure;
  /**
   * Of those, the backends of the system's own connections (bench/support/db-cpu.ts):
   * on PostgreSQL without the server's shared processes and other clients' backends,
   * which on a shared machine are other sessions' tests.
   */
  ownDbUsPerMessage: Figure;
  /** Median against the median of the ceiling on the same store. */
  ratio: number;
  /**
   * Node plus its own backends only, per message: the figure for PostgreSQL (on SQLite
   * the same as cpuUsPerMessage), and its median against the ceiling's same figure.
   */
  ownUsPerMessage: Figure;
  ownRatio: number;
  /** The ceiling row this one is compared to (its own label for a ceiling). */
  ceiling: string;
  /** Messages answered per round (the offered load, unless the system fell behind). */
  answered: number[];
}

/** The processes of a database server's own, by name. */
const SERVER_PROCESSES: Record<Storage, string[]> = {
  sqlite: [],
  // The server, backends, WAL writer, checkpointer.
  postgres: ['postgres'],
  // One process, a thread per connection.
  mysql: ['mariadbd', 'mysqld'],
};

/** Every running process of the database server behind `storage`. */
export function serverPids(storage: Storage): number[] {
  const names = SERVER_PROCESSES[storage];
  if (names.length === 0) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim()))
        pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

function figure(values: number[]): Figure {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)! };
}

interface Measured {
  label: string;
  /** An easy-chat server (it may have a probe preloaded: BENCH_PROBE_SIGNAL). */
  easyChat?: true;
  pids: () => number[];
  /** The database server whose own processes count too (PostgreSQL, MariaDB). */
  server: Storage;
  senders: Array<{ conn: Conn; to: Target }>;
  stop: () => Promise<void>;
}

async function connectPairs(
  url: string,
  users: Array<{ id: string; token: string }>,
): Promise<Array<{ conn: Conn; to: Target }>> {
  const driver = drivers['easy-chat'];
  const conns = await Promise.all(users.map((u) => driver.open(url, u)));
  const senders: Array<{ conn: Conn; to: Target }> = [];
  for (let i = 0; i + 1 < conns.length; i += 2) {
    senders.push({ conn: conns[i]!, to: { kind: 'user', id: users[i + 1]!.id } });
  }
  return senders;
}

/** The ceiling each store's rows are compared to (MySQL: the SQLite one; it has none yet). */
const CEILING_OF: Record<Storage, keyof typeof CEILING_LABEL> = {
  sqlite: 'sqlite',
  postgres: 'postgres',
  mysql: 'sqlite',
};

async function measureCeiling(store: 'sqlite' | 'postgres', pairs: number): Promise<Measured> {
  const ceiling = await startCeilingChat(store);
  const users = (await ceiling.makeUsers(pairs * 2)) as Array<{ id: string; token: string }>;
  return {
    label: ceiling.label,
    pids: () => ceiling.pids(),
    server: store,
    senders: await connectPairs(ceiling.urls[0]!, users),
    stop: () => ceiling.stop(),
  };
}

async function measureEasyChat(
  storage: Storage,
  pairs: number,
  checkout?: { dir: string; label: string; dropEnv?: string[] },
): Promise<Measured> {
  const system = await startEasyChat({ storage, ...(checkout ? { checkout } : {}) });
  const users = (await system.makeUsers(pairs * 2)) as Array<{ id: string; token: string }>;
  const pairList: Array<[(typeof users)[0], (typeof users)[0]]> = [];
  for (let i = 0; i + 1 < users.length; i += 2) pairList.push([users[i]!, users[i + 1]!]);
  await system.pair(pairList);
  return {
    label: system.label,
    easyChat: true,
    pids: () => system.pids(),
    server: storage,
    senders: await connectPairs(system.urls[0]!, users),
    stop: () => system.stop(),
  };
}

/**
 * BENCH_PROBE_SIGNAL=1: SIGUSR2 to an easy-chat server (and to the ceiling when
 * BENCH_CEILING_NODE_ARGS preloads the probe into it too) at the start and at the end of
 * each of its rounds, for a probe preloaded with LOAD_PROBE_TRIGGER=signal
 * (bench/support/load-window-probe.cjs) to profile exactly the round.
 */
function signalProbe(s: Measured): void {
  if (process.env.BENCH_PROBE_SIGNAL !== '1') return;
  if (!s.easyChat && !process.env.BENCH_CEILING_NODE_ARGS) return;
  for (const pid of s.pids()) process.kill(pid, 'SIGUSR2');
}

/**
 * BENCH_THREADS=1: each round also prints the server's CPU-µs per message by thread (the
 * main thread, where the JavaScript and SQLite's statements and COMMIT run, apart from
 * V8's GC helpers, libuv's pool and the WAL checkpointer), from /proc's schedstat.
 */
const byThread = process.env.BENCH_THREADS === '1';

function threadSplit(before: Map<string, number>, pids: number[], messages: number): string {
  const after = cpuByThread(pids);
  return [...after]
    .map(([name, us]) => [name, (us - (before.get(name) ?? 0)) / messages] as const)
    .filter(([, us]) => us >= 0.5)
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => `${name} ${us.toFixed(1)}`)
    .join(', ');
}

/** Paced sends for `seconds`: each tick every sender sends once; returns messages answered. */
async function offer(m: Measured, rate: number, seconds: number): Promise<number> {
  const driver = drivers['easy-chat'];
  const tickMs = Math.max(1, (1000 * m.senders.length) / rate);
  const end = Date.now() + seconds * 1000;
  let answered = 0;
  const inFlight: Array<Promise<void>> = [];
  let n = 0;
  while (Date.now() < end) {
    const tickStart = Date.now();
    for (const { conn, to } of m.senders) {
      n += 1;
      inFlight.push(
        driver.send(conn, to, `m${n}`).then(() => {
          answered += 1;
        }),
      );
    }
    await sleep(Math.max(0, tickMs - (Date.now() - tickStart)));
  }
  await Promise.all(inFlight);
  return answered;
}

export async function runCpuPerMessage(options: CpuOptions): Promise<CpuRow[]> {
  const systems: Measured[] = [];
  const ceilings = [...new Set(options.stores.map((store) => CEILING_OF[store]))];
  for (const store of ceilings) systems.push(await measureCeiling(store, options.pairs));
  for (const store of options.stores) {
    systems.push(await measureEasyChat(store, options.pairs));
    for (const reference of options.references ?? []) {
      systems.push(await measureEasyChat(store, options.pairs, reference));
    }
  }
  const perRound = new Map<string, number[]>(systems.map((s) => [s.label, []]));
  const answeredPerRound = new Map<string, number[]>(systems.map((s) => [s.label, []]));
  const dbPerRound = new Map<string, number[]>(systems.map((s) => [s.label, []]));
  const ownDbPerRound = new Map<string, number[]>(systems.map((s) => [s.label, []]));
  // Node plus only the backends serving its own connections: the shared server's WAL
  // writer, checkpointer and the benchmark's VACUUM (ANALYZE) keeper left out, work that
  // is added alike to every system and so pulls every ratio towards 1.
  const ownPerRound = new Map<string, number[]>(systems.map((s) => [s.label, []]));
  try {
    // Warm-up: JIT, statement caches, first pages of every table.
    for (const s of systems) await offer(s, options.rate, 1);
    for (let round = 0; round < options.rounds; round += 1) {
      const order = round % 2 === 0 ? systems : [...systems].reverse();
      for (const s of order) {
        const before = cpuEach(s.pids());
        const beforeDb = cpuEach(serverPids(s.server));
        const ownDb = () => databasePids(s.server, s.pids());
        const beforeOwnDb = cpuEach(ownDb());
        const threadsBefore = byThread ? cpuByThread(s.pids()) : undefined;
        signalProbe(s);
        const answered = await offer(s, options.rate, options.seconds);
        await sleep(200); // pushes and background work of this round land in this round
        signalProbe(s);
        const node = cpuSince(before, s.pids());
        const db = cpuSince(beforeDb, serverPids(s.server));
        const own = cpuSince(beforeOwnDb, ownDb());
        perRound.get(s.label)!.push((node + db) / answered);
        dbPerRound.get(s.label)!.push(db / answered);
        ownDbPerRound.get(s.label)!.push(own / answered);
        ownPerRound.get(s.label)!.push((node + own) / answered);
        answeredPerRound.get(s.label)!.push(answered);
        if (threadsBefore) log(`    ${s.label}: ${threadSplit(threadsBefore, s.pids(), answered)}`);
        const split =
          s.server === 'sqlite'
            ? ''
            : ` (database server ${(db / answered).toFixed(0)}, its backends ${(own / answered).toFixed(0)})`;
        log(
          `  round ${round + 1}: ${s.label}: ${((node + db) / answered).toFixed(0)} µs/msg${split} (${answered} msgs)`,
        );
      }
    }
  } finally {
    for (const s of systems) {
      for (const { conn } of s.senders) conn.socket.terminate();
      await s.stop();
    }
  }
  return systems.map((s) => {
    const cpu = figure(perRound.get(s.label)!);
    const ceilingLabel = CEILING_LABEL[CEILING_OF[s.server]];
    const ceiling = figure(perRound.get(ceilingLabel)!).median;
    const own = figure(ownPerRound.get(s.label)!);
    const ownCeiling = figure(ownPerRound.get(ceilingLabel)!).median;
    return {
      system: s.label,
      rounds: perRound.get(s.label)!,
      cpuUsPerMessage: cpu,
      dbUsPerMessage: figure(dbPerRound.get(s.label)!),
      ownDbUsPerMessage: figure(ownDbPerRound.get(s.label)!),
      ratio: ceiling > 0 ? cpu.median / ceiling : Number.NaN,
      ownUsPerMessage: own,
      ownRatio: ownCeiling > 0 ? own.median / ownCeiling : Number.NaN,
      ceiling: ceilingLabel,
      answered: answeredPerRound.get(s.label)!,
    };
  });
}

if (isMain(import.meta)) {
  main(async () => {
    const options: CpuOptions = {
      rate: envNumber('BENCH_RATE', 1000),
      pairs: envNumber('BENCH_PAIRS', 50),
      seconds: envNumber('BENCH_SECONDS', 5),
      rounds: envNumber('BENCH_ROUNDS', 3),
      stores: (process.env.BENCH_STORES ?? 'sqlite,postgres,mysql').split(
        ',',
      ) as CpuOptions['stores'],
      ...(process.env.BENCH_REF_DIR
        ? {
            references: process.env.BENCH_REF_DIR.split(',').map((dir, n) => ({
              dir,
              label: process.env.BENCH_REF_LABEL?.split(',')[n] ?? `reference ${n + 1}`,
              dropEnv: (process.env.BENCH_REF_DROP_ENV?.split(';')[n] ?? '')
                .split(',')
                .filter(Boolean),
            })),
          }
        : {}),
    };
    log(
      `CPU per private message: ${options.rate} msg/s over ${options.pairs} pairs, ` +
        `${options.seconds} s × ${options.rounds} rounds, stores ${options.stores.join(', ')}`,
    );
    const rows = await runCpuPerMessage(options);
    writeResult('cpu-per-message', { options, rows });
    log('');
    log(
      '| system | server CPU-µs per message, median (range) | of which the database server | of which its own backends | × ceiling | Node + its own backends | × ceiling | ceiling |',
    );
    log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const r of rows) {
      const f = r.cpuUsPerMessage;
      const on = r.ceiling === CEILING_LABEL.postgres ? 'PostgreSQL' : 'SQLite';
      const own = r.ownDbUsPerMessage;
      const mine = r.ownUsPerMessage;
      log(
        `| ${r.system} | ${f.median.toFixed(0)} (${f.min.toFixed(0)}–${f.max.toFixed(0)}) | ${r.dbUsPerMessage.median.toFixed(0)} | ${own.median.toFixed(0)} (${own.min.toFixed(0)}–${own.max.toFixed(0)}) | ${r.ratio.toFixed(2)} | ${mine.median.toFixed(0)} (${mine.min.toFixed(0)}–${mine.max.toFixed(0)}) | ${r.ownRatio.toFixed(2)} | ${on} |`,
      );
    }
  });
}
