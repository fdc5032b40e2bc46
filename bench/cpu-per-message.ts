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
 * A client the server cuts as a slow consumer (close code 4008: the machine too busy
 * for the bench to read its pushes) does not end the run: its pair sends no more, its
 * sends left unanswered are not counted as served, and each round's line and the
 * summary say how many clients were cut (`cut` and `unanswered` in the results). Any
 * other close by the server, or a refused send, fails the run.
 *
 * By default every pair sends one way, so no send passes over a message of the peer's:
 * BENCH_REPLY=1 sends both ways by turns (every message answers the peer's: it moves
 * the replier's read position past it and sends the peer a read receipt, which the
 * ceiling does too), a fraction between 0 and 1 turns that share of messages round.
 * The rate is the same either way: BENCH_RATE messages a second in all.
 *
 *   npm run bench:cpu     BENCH_RATE=1000 BENCH_PAIRS=50 BENCH_SECONDS=5 BENCH_ROUNDS=3
 *                         BENCH_WARMUP_SECONDS=3 (the load offered to each system before
 *                           the rounds; 0 and 1-s rounds show the cold start)
 *                         BENCH_REPLY=0 (share of messages answering the peer's, 0–1)
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
import { drivers, SocketClosedError, type Conn, type Target } from './support/drivers.js';
import { envNumber, isMain, log, main, sleep, writeResult } from './support/run.js';
import { checkoutsFromEnv, startEasyChat, type Checkout, type Storage } from './support/systems.js';
import { roundOrder } from './support/round-order.js';

export { cpuEach, cpuSince };

export interface CpuOptions {
  rate: number;
  pairs: number;
  seconds: number;
  rounds: number;
  stores: Storage[];
  /**
   * Seconds of the same paced load offered to each system before the rounds (default 3):
   * the rounds measure the steady per-message cost, not the JIT's first compiles.
   */
  warmupSeconds?: number;
  /**
   * The share of messages that answer the peer's (0–1, default 0): each such message
   * is sent the other way, by the pair's recipient, so it moves the replier's read
   * position past the peer's message and sends the peer a read receipt.
   */
  reply?: number;
  references?: Checkout[];
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
  /**
   * Clients the server cut as slow consumers (close code 4008) per round. A cut
   * client's pair sends no more; its sends left unanswered are not counted as served.
   */
  cut: number[];
  /** Sends per round whose socket was cut before their answer (not in `answered`). */
  unanswered: number[];
}

/** The close code of a slow-consumer cut (src/gateway/close-codes.ts). */
const SLOW_CONSUMER = 4008;

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
  // No round to show: every pair was cut before it could be measured.
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
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
  senders: Pair[];
  /** Codes of the sockets the server closed, in order (kept across rounds). */
  closes: number[];
  stop: () => Promise<void>;
}

/** A pair of clients: `conn` sends to `to`, which `peer` is logged in as. */
export interface Pair {
  conn: Conn;
  to: Target;
  peer: Conn;
  /** Messages the pair sent so far, across rounds (which way the next one goes). */
  sent: number;
  /** Whether the last message went the other way (`peer` to `conn`). */
  back: boolean;
}

/**
 * Which way a pair's next message goes when `reply` of its messages answer the
 * other's: it turns round whenever the running count of replies (sent × reply,
 * rounded down) grows. 0: always `conn` to `peer`; 1: every message turns round
 * (both ways by turns); 0.5: every other message turns round (a, b, b, a, a, …).
 */
export function nextWay(pair: Pick<Pair, 'sent' | 'back'>, reply: number): boolean {
  pair.sent += 1;
  if (Math.floor(pair.sent * reply) > Math.floor((pair.sent - 1) * reply)) pair.back = !pair.back;
  return pair.back;
}

/**
 * One socket per user, paired in order. Every server-side close is noted in `closes`
 * (the bench's own terminate at the end is not: its listeners go first).
 */
export async function connectPairs(
  url: string,
  users: Array<{ id: string; token: string }>,
  closes: number[],
): Promise<Pair[]> {
  const driver = drivers['easy-chat'];
  const conns = await Promise.all(users.map((u) => driver.open(url, u)));
  const pairs: Pair[] = [];
  for (let i = 0; i + 1 < conns.length; i += 2) {
    pairs.push({
      conn: conns[i]!,
      to: { kind: 'user', id: users[i + 1]!.id },
      peer: conns[i + 1]!,
      sent: 0,
      back: false,
    });
  }
  for (const conn of conns) conn.socket.on('close', (code) => closes.push(code));
  return pairs;
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
  const closes: number[] = [];
  return {
    label: ceiling.label,
    pids: () => ceiling.pids(),
    server: store,
    senders: await connectPairs(ceiling.urls[0]!, users, closes),
    closes,
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
  const closes: number[] = [];
  return {
    label: system.label,
    easyChat: true,
    pids: () => system.pids(),
    server: storage,
    senders: await connectPairs(system.urls[0]!, users, closes),
    closes,
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

/** What one round of paced sends came to. */
export interface Offered {
  answered: number;
  /** Clients cut as slow consumers during the round. */
  cut: number;
  /** Sends whose socket was cut before their answer. */
  unanswered: number;
}

const isOpen = (conn: Conn) => conn.socket.readyState === conn.socket.OPEN;

/**
 * Paced sends for `seconds`: each tick every pair whose two sockets are open sends
 * once. A pair with a socket the server cut as a slow consumer (4008) sends no more
 * (its recipient would no longer be pushed to, so its sends would be cheaper than the
 * others'); the sends it had in flight without an answer are counted as unanswered,
 * not served. The round ends early when every pair is cut. Any other close by the
 * server, or a refused send, fails the run.
 */
export async function offer(
  m: Pick<Measured, 'senders' | 'closes'>,
  rate: number,
  seconds: number,
  reply = 0,
): Promise<Offered> {
  const driver = drivers['easy-chat'];
  const tickMs = Math.max(1, (1000 * m.senders.length) / rate);
  const end = Date.now() + seconds * 1000;
  const closedBefore = m.closes.length;
  const result: Offered = { answered: 0, cut: 0, unanswered: 0 };
  const inFlight: Array<Promise<void>> = [];
  const served = () => {
    result.answered += 1;
  };
  // A send that failed otherwise fails the round, once every send has settled.
  let failure: { err: unknown } | undefined;
  const lost = (err: unknown) => {
    if (err instanceof SocketClosedError && err.code === SLOW_CONSUMER) result.unanswered += 1;
    else failure ??= { err };
  };
  const closedOtherwise = () => m.closes.slice(closedBefore).find((code) => code !== SLOW_CONSUMER);
  let n = 0;
  while (Date.now() < end) {
    const tickStart = Date.now();
    let sent = 0;
    for (const pair of m.senders) {
      const { conn, to, peer } = pair;
      if (!isOpen(conn) || !isOpen(peer)) continue;
      n += 1;
      sent += 1;
      const send = nextWay(pair, reply)
        ? driver.send(peer, { kind: 'user', id: conn.user.id }, `m${n}`)
        : driver.send(conn, to, `m${n}`);
      inFlight.push(send.then(served, lost));
    }
    if (sent === 0 || failure || closedOtherwise() !== undefined) break;
    await sleep(Math.max(0, tickMs - (Date.now() - tickStart)));
  }
  await Promise.all(inFlight);
  const other = closedOtherwise();
  if (other !== undefined) throw new Error(`the server closed a client socket (${other})`);
  if (failure) throw failure.err;
  result.cut = m.closes.length - closedBefore;
  return result;
}

/** ", 1 client cut as a slow consumer (4008), 3 sends unanswered" when the round had a cut. */
function cutNote(o: Offered): string {
  if (o.cut === 0 && o.unanswered === 0) return '';
  const clients = o.cut === 1 ? 'client' : 'clients';
  return `, ${o.cut} ${clients} cut as slow consumers (${SLOW_CONSUMER}), ${o.unanswered} sends unanswered`;
}

export async function runCpuPerMessage(options: CpuOptions): Promise<CpuRow[]> {
  const reply = options.reply ?? 0;
  if (!(reply >= 0 && reply <= 1)) throw new Error(`BENCH_REPLY must be 0–1, not ${reply}`);
  const warmup = options.warmupSeconds ?? 3;
  // NaN (a word in the variable) would offer nothing and measure cold rounds silently.
  if (!(warmup >= 0 && Number.isFinite(warmup)))
    throw new Error(`BENCH_WARMUP_SECONDS must be 0 or more seconds, not ${warmup}`);
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
  const cutPerRound = new Map<string, number[]>(systems.map((s) => [s.label, []]));
  const unansweredPerRound = new Map<string, number[]>(systems.map((s) => [s.label, []]));
  try {
    // Warm-up, alike for every system: JIT, statement caches, first pages of every
    // table. easy-chat needs 2–3 s at 1,000 msg/s (its main thread at ~275–300,
    // ~210 and up to ~170 CPU-µs/msg in its first three seconds, ~120–140 after), the
    // ceiling about 1 s: with 1 s easy-chat's first round measured part of its cold
    // start (docs/performance-log.md, "bench:cpu's warm-up", seventeenth session).
    for (const s of systems) {
      const warm = await offer(s, options.rate, warmup, options.reply);
      if (warm.cut > 0) log(`  warm-up: ${s.label}${cutNote(warm)}`);
    }
    for (let round = 0; round < options.rounds; round += 1) {
      const order = roundOrder(systems, round);
      for (const s of order) {
        const before = cpuEach(s.pids());
        const beforeDb = cpuEach(serverPids(s.server));
        const ownDb = () => databasePids(s.server, s.pids());
        const beforeOwnDb = cpuEach(ownDb());
        const threadsBefore = byThread ? cpuByThread(s.pids()) : undefined;
        signalProbe(s);
        const offered = await offer(s, options.rate, options.seconds, options.reply);
        const answered = offered.answered;
        await sleep(200); // pushes and background work of this round land in this round
        signalProbe(s);
        const node = cpuSince(before, s.pids());
        const db = cpuSince(beforeDb, serverPids(s.server));
        const own = cpuSince(beforeOwnDb, ownDb());
        cutPerRound.get(s.label)!.push(offered.cut);
        unansweredPerRound.get(s.label)!.push(offered.unanswered);
        if (answered === 0) {
          // Every pair was cut before this round: nothing to divide by.
          log(`  round ${round + 1}: ${s.label}: no pair left to send${cutNote(offered)}`);
          continue;
        }
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
          `  round ${round + 1}: ${s.label}: ${((node + db) / answered).toFixed(0)} µs/msg${split} (${answered} msgs${cutNote(offered)})`,
        );
      }
    }
  } finally {
    for (const s of systems) {
      for (const { conn, peer } of s.senders) {
        conn.socket.removeAllListeners('close');
        peer.socket.removeAllListeners('close');
        conn.socket.terminate();
        peer.socket.terminate();
      }
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
      cut: cutPerRound.get(s.label)!,
      unanswered: unansweredPerRound.get(s.label)!,
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
      warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 3),
      reply: envNumber('BENCH_REPLY', 0),
      stores: (process.env.BENCH_STORES ?? 'sqlite,postgres,mysql').split(
        ',',
      ) as CpuOptions['stores'],
      references: checkoutsFromEnv(),
    };
    log(
      `CPU per private message: ${options.rate} msg/s over ${options.pairs} pairs, ` +
        `${options.seconds} s × ${options.rounds} rounds after ${options.warmupSeconds} s of warm-up, ` +
        `stores ${options.stores.join(', ')}` +
        (options.reply ? `, ${options.reply} of messages replies` : ''),
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
    const cutRows = rows.filter((r) => r.cut.some((n) => n > 0));
    if (cutRows.length > 0) {
      log('');
      log(
        `Clients cut as slow consumers (${SLOW_CONSUMER}), by round: their pairs sent no more; ` +
          'sends left unanswered are not in the figures.',
      );
      for (const r of cutRows)
        log(`  ${r.system}: cut ${r.cut.join(', ')}; unanswered ${r.unanswered.join(', ')}`);
    }
  });
}
