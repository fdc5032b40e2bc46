/**
 * Scenario 2, private chat: open-loop load. Each question is a private message A → B;
 * B answers it at once; A measures the round trip (sent → stored → delivered → answered
 * → answer delivered), B the one-way delivery. Every system under test is connected at
 * the same time and every phase alternates between them, round by round, so machine
 * noise hits them alike. Three phases, each of BENCH_ROUNDS rounds:
 *
 * 1. CPU: server CPU-µs per message at a fixed load every system keeps (BENCH_CPU_RATE
 *    questions/s), from /proc/<pid>/stat: the Node process plus, on PostgreSQL, the
 *    backends of its own connections (bench/support/db-cpu.ts), next to the ceiling
 *    script (bench/peers/ceiling-chat.ts) on each store in the same rounds.
 * 2. Capacity: in each round a bracketing search per system (bench/support/capacity-
 *    search.ts) for the highest offered rate kept with p99 round trip ≤ BENCH_BREAK_MS,
 *    ≥ 95% answered and < 1% errors; the steps of the systems' searches alternate. The
 *    figure is the median of the rounds with their range.
 * 3. Latency: the round trip at half the median capacity, BENCH_P99_SECONDS per round;
 *    the figure is the median of the rounds' p99 with its range. Each round of each system
 *    (ceilings and checkouts alike) first runs BENCH_P99_WARMUP_SECONDS (default 2; 0 for
 *    none) at the same rate, straight into the measured window with no pause: a system
 *    idles through the other systems' turns, and the figure is the steady state at the
 *    rate, not the step from idle to it. The warm-up's own round trip is reported apart
 *    as the round's cold start (printed per step, `warmUp` in each step of the results,
 *    `halfLoad.cold` and `beside[].cold` in the rows). The ceiling of the same
 *    store runs at the same rate right beside each easy-chat round (when it is among the
 *    systems): the load generators share the machine's cores with the server, so the
 *    ceiling's p99 is what the runtime and the machine allow at that rate. The phase runs
 *    store by store (all rounds of SQLite's systems, then PostgreSQL's after a
 *    CHECKPOINT), so one store's windows do not meet another store's background writes.
 *    BENCH_LATENCY_RATE=550 (or easy-chat-sqlite=550,easy-chat-postgres=370, or by store:
 *    sqlite=950,postgres=600) skips the capacity search and measures the round trip at the
 *    rate(s) given; BENCH_LATENCY_RATE=half takes HALF_CAPACITY below, half of each store's
 *    own capacity on this machine (a key given beside it overrides its store:
 *    half,postgres=500). Several rates joined by `/` (postgres=200/800/1600) sweep them,
 *    lowest first, every round of one rate before the next, the ceiling beside each:
 *    the rows' `sweep` (and BENCHMARKS.md's table "The tail by rate") gives the p99 at
 *    each rate beside the ceiling's, and the first rate is the row's `halfLoad`.
 *
 * A/B against other checkouts (each built: npx tsc -p tsconfig.build.json), as bench:cpu:
 * BENCH_REF_DIR=/tmp/ref-main[,/tmp/other] BENCH_REF_LABEL=main[,other] (and
 * BENCH_REF_DROP_ENV, settings each one lacks) starts each checkout beside every
 * easy-chat system of the run, on the same store. Every phase measures them as systems of
 * their own; in the latency phase each round runs the store's ceiling, this tree and the
 * checkouts one after another at the same rate, the order turned and reversed by round
 * (support/round-order.ts: every system in every place equally often).
 *
 *   npm run bench:private   BENCH_ROUNDS=3 BENCH_PAIRS=100 BENCH_STEP=6 BENCH_CPU_RATE=200
 *                           BENCH_START_RATE=200 BENCH_RESOLUTION=0.1 BENCH_MAX_RATE=32000
 *                           BENCH_P99_SECONDS=10 BENCH_P99_WARMUP_SECONDS=2
 *                           BENCH_BREAK_MS=1000 BENCH_WORKERS=2
 *                           BENCH_SEARCH_CEILINGS=0 (1: the ceilings' capacity searched too,
 *                             and each ceiling's round trip at half of it)
 *                           BENCH_PRIVATE_SYSTEMS=easy-chat-sqlite,easy-chat-postgres,ejabberd,
 *                             ceiling,ceiling-postgres (also easy-chat-mysql, ws)
 */
import { CapacitySearch, roundRate } from './support/capacity-search.js';
import { figureOf, type Figure } from './support/figure.js';
import { startCeilingChat } from './support/ceiling-system.js';
import { connectUsers, type Placement } from './support/clients.js';
import { cpuEach, cpuSince, databasePids, type DatabaseServer } from './support/db-cpu.js';
import { coresBusy, coresStolen, cpuMicros, machineTicks, untilIdle } from './support/cpu.js';
import { finishRun, machine, type Meta } from './support/meta.js';
import { settlePostgres } from './support/pg-statistics.js';
import { envNumber, isMain, log, main, sleep, withProgress, writeResult } from './support/run.js';
import {
  checkoutsFromEnv,
  DATABASE_URL,
  ejabberdUnavailable,
  startEasyChat,
  startEjabberdSystem,
  startRawWs,
  type Checkout,
  type System,
} from './support/systems.js';
import { largest, percentile, Pool } from './support/worker-pool.js';
import { roundOrder } from './support/round-order.js';

export type PrivateSystem =
  | 'easy-chat-sqlite'
  | 'easy-chat-postgres'
  | 'easy-chat-mysql'
  | 'ejabberd'
  | 'ws'
  | 'ceiling'
  | 'ceiling-postgres';

const STORAGE_OF = {
  'easy-chat-sqlite': 'sqlite',
  'easy-chat-postgres': 'postgres',
  'easy-chat-mysql': 'mysql',
} as const;

/** The store of a system, for the rate keys of BENCH_LATENCY_RATE. */
const STORE_KEY = {
  sqlite: ['easy-chat-sqlite', 'ceiling'],
  postgres: ['easy-chat-postgres', 'ceiling-postgres'],
  mysql: ['easy-chat-mysql'],
} as const satisfies Record<string, PrivateSystem[]>;

/**
 * Half of each store's capacity on this machine (questions/s, p99 ≤ 1 s): the rates of
 * BENCH_LATENCY_RATE=half. Measured 4 December 2026, 09:42 UTC at 7236c67 (BENCHMARKS.md
 * §2, three rounds): SQLite 4,700 (4,500–4,700) and PostgreSQL 3,200 (2,700–3,200)
 * questions/s. MySQL's was never searched; it keeps the 2 December SQLite half.
 */
export const HALF_CAPACITY: Record<keyof typeof STORE_KEY, number> = {
  sqlite: 2350,
  postgres: 1600,
  mysql: 950,
};

const storeOf = (name: PrivateSystem) =>
  (Object.keys(STORE_KEY) as Array<keyof typeof STORE_KEY>).find((store) =>
    (STORE_KEY[store] as readonly PrivateSystem[]).includes(name),
  );

/**
 * Systems measured in the CPU phase only: at the usual bar (p99 ≤ 1 s) their capacity is
 * the load generators'. With a tight bar (BENCH_BREAK_MS=20) the ceilings break long
 * before the load generators do, and BENCH_SEARCH_CEILINGS=1 searches them too: the
 * highest rate each store's ceiling holds under the bar, beside easy-chat's.
 */
const CPU_ONLY: PrivateSystem[] = ['ceiling', 'ceiling-postgres', 'ws'];

/** The ceiling measured beside a system in the latency phase: same store, same rate. */
const CEILING_OF: Partial<Record<PrivateSystem, PrivateSystem>> = {
  'easy-chat-sqlite': 'ceiling',
  'easy-chat-postgres': 'ceiling-postgres',
};

/** The database server whose backends count in a system's CPU. */
const DATABASE_OF: Partial<Record<PrivateSystem, DatabaseServer>> = {
  'easy-chat-postgres': 'postgres',
  'easy-chat-mysql': 'mysql',
  'ceiling-postgres': 'postgres',
};

export interface PrivateOptions {
  pairs: number;
  /** Seconds per step of the capacity search (and of a CPU round). */
  stepSeconds: number;
  /** Rounds of each phase; rounds alternate the order of the systems. */
  rounds: number;
  /** Questions/s of the CPU phase (each answered: twice as many messages). */
  cpuRate: number;
  /** First rate of the first round's search; later rounds start at the capacity so far. */
  startRate: number;
  /** A search stops when broke ÷ kept ≤ 1 + resolution. */
  resolution: number;
  maxRate: number;
  /** Seconds per round of the latency phase: the measured window. */
  p99Seconds: number;
  /**
   * Seconds of load at the round's rate straight before each latency round's measured
   * window, for every system alike (ceilings and checkouts too): the figure is the steady
   * state, not the step from idle to the rate; the warm-up's own round trip is reported
   * apart as the round's cold start (`Step.warmUp`, `halfLoad.cold`).
   */
  p99WarmupSeconds: number;
  breakMs: number;
  /** The ceilings' capacity searched too (BENCH_SEARCH_CEILINGS=1): see CPU_ONLY. */
  searchCeilings?: boolean;
  workers: number;
  systems: PrivateSystem[];
  /**
   * Fixed latency-phase rates (skips the capacity search): by system, by store, or one
   * for all, the first found in that order.
   */
  latencyRates?: LatencyRates;
  /** Other checkouts started beside each easy-chat system, on the same store. */
  references?: Reference[];
}

/** Each key's rate, or rates to sweep (lowest first). */
export type LatencyRates = Partial<
  Record<PrivateSystem | keyof typeof STORE_KEY | 'all', number | number[]>
>;

/** An earlier checkout run beside each easy-chat system (BENCH_REF_DIR). */
export type Reference = Checkout;

/** What a step needs to know (the scale-out scenario runs steps too). */
export interface StepOptions {
  stepSeconds: number;
  breakMs: number;
  /**
   * Seconds of load at the same rate right before the measured `stepSeconds`, with no
   * pause between them; its round trips are kept apart in `Step.warmUp`.
   */
  warmupSeconds?: number;
}

export type Phase = 'warm-up' | 'cpu' | 'capacity' | 'latency';

export interface Step {
  phase?: Phase;
  round?: number;
  rate: number;
  /** Latency phase, a ceiling: the system it ran beside. */
  beside?: string;
  /** Answered questions per second. */
  achieved: number;
  sent: number;
  answered: number;
  errors: number;
  overloaded: boolean;
  broken: boolean;
  rtt: { p50: number; p95: number; p99: number; max: number };
  /** CPU time of the server process(es) per message (questions and answers), µs. */
  cpuUsPerMessage?: number;
  /** The database server's CPU for the same messages (bench/support/db-cpu.ts), µs. */
  dbCpuUsPerMessage?: number;
  /** The load generators' CPU for the same messages, µs: clients, on the same cores. */
  generatorCpuUsPerMessage?: number;
  /**
   * The machine's cores busy on average through the step (/proc/stat): server, database,
   * load generators and anything else. Near the core count, every process queues for a
   * core, and a little more work makes a long wait (docs/performance-log.md, "The tail
   * at half capacity on a quiet machine").
   */
  coresBusy?: number;
  /**
   * The part of coresBusy the hypervisor took for other guests (/proc/stat's steal), on
   * average through the step: how noisy the host was while the step's tail was made.
   */
  coresStolen?: number;
  oneWay: { p50: number; p95: number; p99: number };
  /** Round-trip quantiles 0..100 (101 points) for the CDF chart. */
  rttQuantiles: number[];
  /**
   * Where the round trips' time went (ms), split at the server's sendTime of each message
   * (easy-chat and the ceiling stamp it when they take a frame): p50 of each leg over all
   * round trips, and its mean over the slowest 1 %.
   */
  legs?: { p50: Legs; slowest: Legs };
  /**
   * When the slowest 1 % of round trips were sent, seconds into the step (p10, p50,
   * p90): a tail that starts the step (a pool, a heap, a cache cold after a lull) shows
   * here as all of them in its first second.
   */
  slowestSentAt?: [number, number, number];
  /** The load generators' own event loop during the step (the worst one), ms. */
  generator?: GeneratorLoop;
  /**
   * The latency phase's warm-up: `seconds` at the same rate straight before the measured
   * window (which the figures above are), on a server that has just idled through the
   * other systems' turns: the round's cold start, reported apart.
   */
  warmUp?: WarmUp;
}

export interface WarmUp {
  seconds: number;
  sent: number;
  answered: number;
  rtt: { p50: number; p95: number; p99: number; max: number };
  /** When its slowest 1 % were sent, seconds into the warm-up (p10, p50, p90). */
  slowestSentAt?: [number, number, number];
}

/**
 * A round trip in four legs: the asker's question until the server took it (`qUp`:
 * socket, kernel, the server's read, parse and checks), until the answerer's generator
 * read its push (`qDown`: store, push, kernel, the generator's loop), the answerer's
 * answer until the server took it (`aUp`), until the asker read its push (`aDown`).
 */
export interface Legs {
  qUp: number;
  qDown: number;
  aUp: number;
  aDown: number;
}

export interface GeneratorLoop {
  /** Event-loop delay of the load generator's process, p99 and max. */
  p99: number;
  max: number;
  /** Its GC pauses: total and longest. */
  gcMs: number;
  gcMax: number;
}

const LEGS = ['qUp', 'qDown', 'aUp', 'aDown'] as const;

/**
 * The legs of the round trips: `legs[4k..4k+3]` belong to `rtt[k]` (null or NaN where a
 * server stamped no sendTime).
 */
export function legsOf(rtt: number[], legs: Array<number | null>): Step['legs'] {
  const rows = rtt
    .map((r, k) => ({ r, l: LEGS.map((_, j) => legs[4 * k + j]) }))
    .filter((x) => x.l.every((v) => typeof v === 'number' && Number.isFinite(v)));
  if (rows.length === 0) return undefined;
  rows.sort((x, y) => x.r - y.r);
  const slowest = rows.slice(Math.min(rows.length - 1, Math.floor(0.99 * rows.length)));
  const of = (pick: (j: number) => number): Legs =>
    Object.fromEntries(LEGS.map((name, j) => [name, pick(j)])) as unknown as Legs;
  return {
    p50: of((j) =>
      percentile(
        rows.map((x) => x.l[j] as number),
        50,
      ),
    ),
    slowest: of((j) => slowest.reduce((t, x) => t + (x.l[j] as number), 0) / slowest.length),
  };
}

const legsText = (l: Legs) => LEGS.map((name) => `${name} ${l[name].toFixed(1)}`).join(' ');

export interface PrivateRow {
  system: string;
  steps: Step[];
  /** Questions/s kept, per capacity round (absent for CPU-only systems). */
  capacity?: Figure;
  /** Server (Node + database server) CPU-µs per message at `rate` questions/s. */
  cpu?: Figure & { rate: number; node: Figure; database: Figure };
  /**
   * Round trip at half the median capacity (or the fixed rate; with a sweep, its lowest
   * rate), ms: the p99 and p50 of each round's measured window, and of the warm-up before
   * it (`cold`, absent without one).
   */
  halfLoad?: HalfLoad;
  /**
   * A ceiling's round trip in the latency phase, beside the system named (at its rate),
   * one entry per system it stood beside.
   */
  beside?: Array<{ system: string } & HalfLoad>;
  /**
   * With several latency rates (BENCH_LATENCY_RATE=postgres=200/800/1600): the round trip
   * at each, lowest first, and the ceiling's beside it in the same rounds.
   */
  sweep?: Array<HalfLoad & { ceiling?: HalfLoad }>;
}

export interface HalfLoad {
  rate: number;
  p99: Figure;
  p50: Figure;
  cold?: { seconds: number; p99: Figure; p50: Figure };
}

/** The latency figures of a system's rounds (measured windows, and warm-ups apart). */
export function halfLoadOf(steps: Step[]): HalfLoad {
  const warm = steps.flatMap((s) => (s.warmUp ? [s.warmUp] : []));
  return {
    rate: steps[0]!.rate,
    p99: figureOf(steps.map((s) => s.rtt.p99)),
    p50: figureOf(steps.map((s) => s.rtt.p50)),
    ...(warm.length === steps.length && warm.length > 0
      ? {
          cold: {
            seconds: warm[0]!.seconds,
            p99: figureOf(warm.map((w) => w.rtt.p99)),
            p50: figureOf(warm.map((w) => w.rtt.p50)),
          },
        }
      : {}),
  };
}

/**
 * The latency rounds of a system swept over several rates, lowest first, each with the
 * ceiling's rounds at the same rate beside it (none: no `ceiling`).
 */
export function sweepOf(steps: Step[], ceilingSteps: Step[]): NonNullable<PrivateRow['sweep']> {
  const rates = [...new Set(steps.map((s) => s.rate))].sort((a, b) => a - b);
  return rates.map((rate) => {
    const theirs = ceilingSteps.filter((s) => s.rate === rate);
    return {
      ...halfLoadOf(steps.filter((s) => s.rate === rate)),
      ...(theirs.length > 0 ? { ceiling: halfLoadOf(theirs) } : {}),
    };
  });
}

export interface PrivateResult {
  meta: Meta;
  options: PrivateOptions;
  rows: PrivateRow[];
  skipped: string[];
}

const quantiles = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return Array.from({ length: 101 }, (_, q) =>
    sorted.length
      ? sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))]!
      : NaN,
  );
};

export interface Entry {
  system: System;
  set: string;
  /** Pairs per worker, as indexes into that worker's set. */
  pairs: Array<Array<{ a: number; b: number }>>;
  /** The database server whose processes count in its CPU (none for SQLite). */
  database?: DatabaseServer;
  row: { system: string; steps: Step[]; capacity: number };
  done: boolean;
}

async function prepare(
  system: System,
  pool: Pool,
  pairs: number,
  set: string,
  database?: DatabaseServer,
): Promise<Entry> {
  const users = await system.makeUsers(pairs * 2);
  const couples = Array.from(
    { length: pairs },
    (_, i) => [users[2 * i]!, users[2 * i + 1]!] as const,
  );
  await system.pair(couples.map(([a, b]) => [a, b]));
  // Both ends of a pair in the same load generator: one clock, one process.
  const ordered = couples.flatMap(([a, b]) => [a, b]);
  const placed: Placement[] = await connectUsers(pool, system, set, ordered, 50, 2);
  const perWorker: Entry['pairs'] = pool.workers.map(() => []);
  for (let i = 0; i < pairs; i += 1) {
    const a = placed[2 * i]!;
    const b = placed[2 * i + 1]!;
    if (a.worker !== b.worker) throw new Error('pair split across load generators');
    perWorker[a.worker]!.push({ a: a.index, b: b.index });
  }
  return {
    system,
    set,
    pairs: perWorker,
    ...(database ? { database } : {}),
    row: { system: system.label, steps: [], capacity: 0 },
    done: false,
  };
}

/**
 * Waits until the server has worked off what a step left behind (a broken step leaves
 * a backlog): its CPU use over 300 ms below 15% of a core, at most `maxMs`.
 */
async function settle(pids: number[], maxMs = 10_000): Promise<void> {
  await sleep(300);
  await untilIdle(() => pids, { share: 0.15, windowMs: 300, maxMs: maxMs - 300 });
}

export async function step(
  entry: Entry,
  pool: Pool,
  rate: number,
  opts: StepOptions,
): Promise<Step> {
  const total = entry.pairs.reduce((n, p) => n + p.length, 0);
  // The scale-out scenario reuses this step with a cluster that reports no pids.
  const pids = typeof entry.system.pids === 'function' ? entry.system.pids() : [];
  const dbPids = () => (entry.database ? databasePids(entry.database, pids) : []);
  const generatorPids = pool.workers.flatMap((w) => (w.child.pid ? [w.child.pid] : []));
  const cpuBefore = cpuMicros(pids);
  const dbBefore = cpuEach(dbPids());
  const generatorBefore = cpuMicros(generatorPids);
  const machineBefore = machineTicks();
  const results = await withProgress(
    `${entry.system.label} @ ${rate}/s`,
    () =>
      `sent ${pool.total('sent')} answered ${pool.total('answered')} in flight ${pool.total('inFlight')}`,
    () =>
      Promise.all(
        pool.workers.map((w, i) =>
          w.run<{
            sent: number;
            answered: number;
            errors: number;
            errorTexts: string[];
            overloaded: boolean;
            elapsedMs: number;
            oneWay: number[];
            roundTrip: number[];
            legs: Array<number | null>;
            sentAfter: number[];
            loop: GeneratorLoop & { gcPauses: number };
            warmUp?: WorkerWarmUp;
          }>('exchange', {
            set: entry.set,
            pairs: entry.pairs[i],
            rate: (rate * entry.pairs[i]!.length) / total,
            durationMs: opts.stepSeconds * 1000,
            warmupMs: (opts.warmupSeconds ?? 0) * 1000,
            drainMs: Math.max(2000, opts.breakMs * 2),
            maxInFlight: Math.max(200, (rate / pool.size) * 3),
          }),
        ),
      ),
  );
  const rtt = results.flatMap((r) => r.roundTrip);
  const oneWay = results.flatMap((r) => r.oneWay);
  const sent = results.reduce((n, r) => n + r.sent, 0);
  const answered = results.reduce((n, r) => n + r.answered, 0);
  const errors = results.reduce((n, r) => n + r.errors, 0);
  const overloaded = results.some((r) => r.overloaded);
  const cpuUs = cpuMicros(pids) - cpuBefore;
  const dbUs = cpuSince(dbBefore, dbPids());
  const generatorUs = cpuMicros(generatorPids) - generatorBefore;
  const machineAfter = machineTicks();
  const busy = coresBusy(machineBefore, machineAfter);
  const stolen = coresStolen(machineBefore, machineAfter);
  const elapsed = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
  for (const text of new Set(results.flatMap((r) => r.errorTexts))) log(`  error: ${text}`);
  const messages = Math.max(1, sent + answered);
  const s: Step = {
    rate,
    achieved: answered / elapsed,
    sent,
    answered,
    errors,
    overloaded,
    broken: false,
    rtt: {
      p50: percentile(rtt, 50),
      p95: percentile(rtt, 95),
      p99: percentile(rtt, 99),
      max: largest(rtt),
    },
    oneWay: {
      p50: percentile(oneWay, 50),
      p95: percentile(oneWay, 95),
      p99: percentile(oneWay, 99),
    },
    rttQuantiles: quantiles(rtt),
    ...legsAndLoop(results),
    ...warmUpOf(
      opts.warmupSeconds ?? 0,
      results.flatMap((r) => (r.warmUp ? [r.warmUp] : [])),
    ),
    ...(pids.length > 0 ? { cpuUsPerMessage: cpuUs / messages } : {}),
    ...(entry.database ? { dbCpuUsPerMessage: dbUs / messages } : {}),
    ...(generatorPids.length > 0 ? { generatorCpuUsPerMessage: generatorUs / messages } : {}),
    coresBusy: busy,
    coresStolen: stolen,
  };
  // Each load generator sends whole questions at its share of the rate: up to one short.
  const offered = rate * opts.stepSeconds - pool.size;
  s.broken =
    overloaded ||
    !(s.rtt.p99 <= opts.breakMs) ||
    answered < 0.95 * sent ||
    sent < 0.95 * offered ||
    errors > 0.01 * sent;
  const cpu =
    s.cpuUsPerMessage === undefined
      ? ''
      : `, ${s.cpuUsPerMessage.toFixed(0)}${s.dbCpuUsPerMessage === undefined ? '' : ` + ${s.dbCpuUsPerMessage.toFixed(0)} db`} CPU-µs/msg`;
  const machineText =
    s.generatorCpuUsPerMessage === undefined
      ? ''
      : `, generators ${s.generatorCpuUsPerMessage.toFixed(0)} CPU-µs/msg, ${s.coresBusy!.toFixed(2)} cores busy (${s.coresStolen!.toFixed(2)} stolen)`;
  log(
    `  ${entry.system.label.padEnd(22)} offered ${rate}/s: answered ${s.achieved.toFixed(0)}/s, round trip p50 ${s.rtt.p50.toFixed(1)} p95 ${s.rtt.p95.toFixed(1)} p99 ${s.rtt.p99.toFixed(1)} ms${cpu}${machineText}${s.broken ? '  (broken)' : ''}`,
  );
  if (s.legs && s.generator)
    log(
      `    legs p50 ${legsText(s.legs.p50)} | slowest 1 % ${legsText(s.legs.slowest)} | sent at ${s.slowestSentAt?.map((t) => t.toFixed(1)).join('/')} s | generator loop p99 ${s.generator.p99.toFixed(1)} max ${s.generator.max.toFixed(1)} ms, gc ${s.generator.gcMs.toFixed(0)} ms (longest ${s.generator.gcMax.toFixed(1)})`,
    );
  if (s.warmUp)
    log(
      `    warm-up ${s.warmUp.seconds} s before it (cold start): round trip p50 ${s.warmUp.rtt.p50.toFixed(1)} p95 ${s.warmUp.rtt.p95.toFixed(1)} p99 ${s.warmUp.rtt.p99.toFixed(1)} ms, slowest 1 % sent at ${s.warmUp.slowestSentAt?.map((t) => t.toFixed(1)).join('/')} s`,
    );
  if (pids.length > 0) await settle(pids);
  return s;
}

/** A load generator's warm-up, as bench/support/ws-worker.ts's exchange returns it. */
interface WorkerWarmUp {
  sent: number;
  answered: number;
  roundTrip: number[];
  /** When each round trip's question went, ms after the warm-up's start. */
  sentAfter: number[];
}

/** The warm-up of the load generators together, or nothing without one. */
export function warmUpOf(seconds: number, parts: WorkerWarmUp[]): Pick<Step, 'warmUp'> {
  if (!(seconds > 0) || parts.length === 0) return {};
  const rtt = parts.flatMap((p) => p.roundTrip);
  const when = parts
    .flatMap((p) => p.roundTrip.map((r, k) => ({ r, at: (p.sentAfter[k] ?? NaN) / 1000 })))
    .sort((x, y) => x.r - y.r);
  const slow = when
    .slice(Math.min(when.length - 1, Math.floor(0.99 * when.length)))
    .map((x) => x.at)
    .filter(Number.isFinite);
  return {
    warmUp: {
      seconds,
      sent: parts.reduce((n, p) => n + p.sent, 0),
      answered: parts.reduce((n, p) => n + p.answered, 0),
      rtt: {
        p50: percentile(rtt, 50),
        p95: percentile(rtt, 95),
        p99: percentile(rtt, 99),
        max: largest(rtt),
      },
      ...(slow.length > 0
        ? {
            slowestSentAt: [percentile(slow, 10), percentile(slow, 50), percentile(slow, 90)] as [
              number,
              number,
              number,
            ],
          }
        : {}),
    },
  };
}

function legsAndLoop(
  results: Array<{
    roundTrip: number[];
    legs?: Array<number | null>;
    sentAfter?: number[];
    loop?: GeneratorLoop;
  }>,
): Pick<Step, 'legs' | 'generator' | 'slowestSentAt'> {
  const out: Pick<Step, 'legs' | 'generator' | 'slowestSentAt'> = {};
  const when = results.flatMap((r) =>
    r.roundTrip.map((rtt, k) => ({ rtt, at: r.sentAfter?.[k] ?? NaN })),
  );
  when.sort((x, y) => x.rtt - y.rtt);
  const slow = when
    .slice(Math.min(when.length - 1, Math.floor(0.99 * when.length)))
    .map((x) => x.at / 1000)
    .filter(Number.isFinite);
  if (slow.length > 0)
    out.slowestSentAt = [percentile(slow, 10), percentile(slow, 50), percentile(slow, 90)];
  const legs = legsOf(
    results.flatMap((r) => r.roundTrip),
    results.flatMap((r) => r.legs ?? r.roundTrip.flatMap(() => [null, null, null, null])),
  );
  if (legs) out.legs = legs;
  const loops = results.flatMap((r) => (r.loop ? [r.loop] : []));
  if (loops.length > 0)
    out.generator = {
      p99: Math.max(...loops.map((l) => l.p99)),
      max: Math.max(...loops.map((l) => l.max)),
      gcMs: Math.max(...loops.map((l) => l.gcMs)),
      gcMax: Math.max(...loops.map((l) => l.gcMax)),
    };
  return out;
}

async function startSystem(name: PrivateSystem, checkout?: Reference): Promise<System> {
  if (name === 'ejabberd') return startEjabberdSystem();
  if (name === 'ws') return startRawWs();
  if (name === 'ceiling') return startCeilingChat('sqlite');
  if (name === 'ceiling-postgres') return startCeilingChat('postgres');
  return startEasyChat({ storage: STORAGE_OF[name], ...(checkout ? { checkout } : {}) });
}

/** The rates of the latency phase for a system given fixed rates, lowest first; none: []. */
export function fixedRates(rates: LatencyRates, name: PrivateSystem): number[] {
  const store = storeOf(name);
  const given = rates[name] ?? (store ? rates[store] : undefined) ?? rates.all ?? [];
  return typeof given === 'number' ? [given] : given;
}

/** Runs every entry's step of one round, in the order given, and keeps them. */
async function roundOf(
  entries: Entry[],
  run: (entry: Entry) => Promise<Step | undefined>,
): Promise<void> {
  for (const entry of entries) {
    const s = await run(entry);
    if (s) entry.row.steps.push(s);
  }
}

export async function runPrivate(opts: PrivateOptions): Promise<PrivateResult> {
  const meta = machine();
  const skipped: string[] = [];
  const pool = new Pool(opts.workers);
  const entries: Entry[] = [];
  const names = new Map<Entry, PrivateSystem>();
  /** The checkouts measured beside each easy-chat entry of this tree. */
  const referencesOf = new Map<Entry, Entry[]>();
  const started = Date.now();
  try {
    for (const name of opts.systems) {
      if (name === 'ejabberd') {
        const why = ejabberdUnavailable();
        if (why) {
          skipped.push(`ejabberd: ${why}`);
          log(`private: skipping ejabberd: ${why}`);
          continue;
        }
      }
      const checkouts = name in STORAGE_OF ? (opts.references ?? []) : [];
      const mine: Entry[] = [];
      for (const checkout of [undefined, ...checkouts]) {
        const system = await startSystem(name, checkout);
        log(`private: ${system.label}, ${opts.pairs} pairs`);
        const entry = await prepare(system, pool, opts.pairs, system.label, DATABASE_OF[name]);
        entries.push(entry);
        names.set(entry, name);
        mine.push(entry);
      }
      referencesOf.set(mine[0]!, mine.slice(1));
    }
    const isReference = (e: Entry) => !referencesOf.has(e);
    const searched = entries.filter(
      (e) =>
        !CPU_ONLY.includes(names.get(e)!) ||
        (opts.searchCeilings === true && Object.values(CEILING_OF).includes(names.get(e)!)),
    );
    const tagged = (phase: Phase, round: number) => (s: Step) => ({ ...s, phase, round });

    // Warm-up (JIT, caches, connection pools), not reported.
    for (const entry of entries)
      await step(entry, pool, opts.cpuRate, {
        ...opts,
        stepSeconds: Math.min(3, opts.stepSeconds),
      });

    // 1. CPU per message at a load every system keeps: steadier than any rate.
    for (let round = 0; round < opts.rounds; round += 1)
      await roundOf(roundOrder(entries, round), async (entry) =>
        tagged('cpu', round)(await step(entry, pool, opts.cpuRate, opts)),
      );

    // 2. Capacity: a bracketing search per system and round, steps alternating.
    const capacities = new Map<Entry, number[]>(searched.map((e) => [e, []]));
    const fixed = opts.latencyRates;
    for (let round = 0; round < (fixed ? 0 : opts.rounds); round += 1) {
      const searches = new Map<Entry, CapacitySearch>(
        searched.map((e) => {
          const before = capacities.get(e)!;
          const first = before.length === 0 || figureOf(before).median === 0;
          return [
            e,
            new CapacitySearch({
              start: first ? opts.startRate : figureOf(before).median,
              up: first ? 2 : 1.25,
              down: first ? 0.5 : 0.8,
              resolution: opts.resolution,
              max: opts.maxRate,
              min: 10,
            }),
          ];
        }),
      );
      for (let k = 0; ; k += 1) {
        const live = roundOrder(searched, round + k).filter((e) => searches.get(e)!.next());
        if (live.length === 0) break;
        await roundOf(live, async (entry) => {
          const search = searches.get(entry)!;
          const s = await step(entry, pool, search.next()!, opts);
          search.record(s.rate, s.broken);
          return tagged('capacity', round)(s);
        });
      }
      for (const [entry, search] of searches) {
        capacities.get(entry)!.push(search.capacity);
        log(`  round ${round + 1}: ${entry.system.label} kept ${search.capacity} questions/s`);
      }
    }

    // 3. The round trip at half the median capacity, each with its ceiling beside it.
    // This tree's capacity sets the rate of its checkouts too: the same load for each.
    const ratesOf = (e: Entry): number[] => {
      if (fixed) return fixedRates(fixed, names.get(e)!);
      const half = roundRate(figureOf(capacities.get(e)!).median / 2);
      return half > 0 ? [half] : [];
    };
    const entryOf = (name: PrivateSystem | undefined) =>
      entries.find((e) => name !== undefined && names.get(e) === name && !isReference(e));
    const latencyOpts = {
      ...opts,
      stepSeconds: opts.p99Seconds,
      warmupSeconds: opts.p99WarmupSeconds,
    };
    // Ceiling, this tree, the checkouts; reversed every other round.
    const groupOf = (entry: Entry) => {
      const ceiling = entryOf(CEILING_OF[names.get(entry)!]);
      return {
        ceiling,
        group: [...(ceiling ? [ceiling] : []), entry, ...referencesOf.get(entry)!],
      };
    };
    // A ceiling runs beside each easy-chat system, at that system's rate. A ceiling whose
    // capacity was searched (BENCH_SEARCH_CEILINGS=1) also runs alone at half of its own,
    // after the easy-chat system of its store: goal 3 of issue 14 (p99 at half capacity)
    // asked of the runtime's ceiling itself. With fixed rates it runs beside only.
    const blockOf = (e: Entry) => {
      const owner = entries.findIndex(
        (x) => !isReference(x) && CEILING_OF[names.get(x)!] === names.get(e),
      );
      return owner >= 0 ? owner + 0.5 : entries.indexOf(e);
    };
    // The only CPU-only systems searched are the ceilings (BENCH_SEARCH_CEILINGS=1).
    const measured = searched
      .filter(
        (e) =>
          !isReference(e) && (!CPU_ONLY.includes(names.get(e)!) || !fixed) && ratesOf(e).length > 0,
      )
      // Each ceiling right after the easy-chat system of its store.
      .sort((a, b) => blockOf(a) - blockOf(b));
    const onPostgres = entries.some((e) => DATABASE_OF[names.get(e)!] === 'postgres');
    // Store by store: every round of one store's group (its ceiling, this tree, the
    // checkouts) before the next store's, so that no window meets what another store's
    // rounds left behind. Beside PostgreSQL's rounds, easy-chat on SQLite read a p99 of
    // 31–118 ms where SQLite's group alone read 9–13 ms, the SQLite ceiling's moving
    // with it (docs/performance-log.md, "One store's rounds beside another's background
    // work"). PostgreSQL's dirty pages are written out before each store's block.
    for (const entry of measured)
      for (const rate of ratesOf(entry)) {
        const { ceiling, group: members } = groupOf(entry);
        if (onPostgres)
          await settlePostgres(DATABASE_URL).catch((e: unknown) =>
            log(`private: CHECKPOINT refused (${(e as Error).message}); measuring without it`),
          );
        // Warm-up at the phase's own rate, not reported: the earlier phases ran at other
        // rates (200/s, or none with BENCH_LATENCY_RATE), and the first round at a new
        // rate meets larger batches, a young generation still sized for the lower
        // allocation rate and statements and code not yet run at that batch size.
        for (const e of members)
          await step(e, pool, rate, { ...opts, stepSeconds: Math.min(3, opts.p99Seconds) });
        // Each round: every system's warm-up at the round's rate, then its measured
        // window, back to back (latencyOpts.warmupSeconds), since a system idles through
        // the others' turns and a steady server never steps from idle to half its capacity.
        for (let round = 0; round < opts.rounds; round += 1)
          await roundOf(roundOrder(members, round), async (e) => ({
            ...tagged('latency', round)(await step(e, pool, rate, latencyOpts)),
            ...(e === ceiling ? { beside: entry.system.label } : {}),
          }));
      }

    const rows = entries.map((entry): PrivateRow => {
      const steps = entry.row.steps;
      const cpuSteps = steps.filter((s) => s.phase === 'cpu' && s.cpuUsPerMessage !== undefined);
      const latency = steps.filter((s) => s.phase === 'latency' && s.beside === undefined);
      const besides = steps.filter((s) => s.phase === 'latency' && s.beside !== undefined);
      const row: PrivateRow = { system: entry.system.label, steps };
      if (cpuSteps.length > 0) {
        const node = cpuSteps.map((s) => s.cpuUsPerMessage!);
        const database = cpuSteps.map((s) => s.dbCpuUsPerMessage ?? 0);
        row.cpu = {
          ...figureOf(node.map((n, i) => n + database[i]!)),
          rate: opts.cpuRate,
          node: figureOf(node),
          database: figureOf(database),
        };
      }
      if (capacities.has(entry)) row.capacity = figureOf(capacities.get(entry)!);
      // Rates swept (BENCH_LATENCY_RATE=…/…), lowest first: the first is the row's halfLoad.
      const ceiling = entryOf(CEILING_OF[names.get(entry)!]);
      const ceilingSteps =
        ceiling?.row.steps.filter((s) => s.phase === 'latency' && s.beside !== undefined) ?? [];
      const sweep = sweepOf(latency, ceilingSteps);
      const lowest = (steps: Step[]) => {
        const rate = Math.min(...steps.map((s) => s.rate));
        return halfLoadOf(steps.filter((s) => s.rate === rate));
      };
      if (latency.length > 0) row.halfLoad = lowest(latency);
      if (sweep.length > 1) row.sweep = sweep;
      const besideNames = [...new Set(besides.map((s) => s.beside!))];
      if (besideNames.length > 0)
        row.beside = besideNames.map((system) => ({
          system,
          ...lowest(besides.filter((s) => s.beside === system)),
        }));
      return row;
    });
    log(`private: done in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
    finishRun(meta);
    return { meta, options: opts, rows, skipped };
  } finally {
    await pool.stop();
    for (const e of entries) await e.system.stop();
  }
}

/**
 * BENCH_LATENCY_RATE: "550" for every system, "easy-chat-sqlite=550,easy-chat-postgres=370"
 * by system, "sqlite=950,postgres=600" by store, "half" for HALF_CAPACITY (parts after it
 * override it).
 */
export function latencyRatesFromEnv(
  text: string | undefined,
): Pick<PrivateOptions, 'latencyRates'> {
  if (!text) return {};
  const rates: LatencyRates = {};
  for (const part of text.split(',')) {
    if (part === 'half') {
      Object.assign(rates, HALF_CAPACITY);
      continue;
    }
    const [name, value] = part.includes('=') ? part.split('=') : ['all', part];
    const swept = value!.split('/').map(Number);
    if (!swept.every((rate) => rate > 0))
      throw new Error(`BENCH_LATENCY_RATE: not a rate: ${part}`);
    rates[name as keyof LatencyRates] =
      swept.length === 1 ? swept[0]! : [...new Set(swept)].sort((a, b) => a - b);
  }
  return { latencyRates: rates };
}

/** BENCH_P99_WARMUP_SECONDS: seconds ≥ 0 (0: no warm-up), 2 when unset. */
export function p99WarmupFromEnv(text: string | undefined): number {
  if (text === undefined || text === '') return 2;
  const seconds = Number(text);
  if (!(seconds >= 0) || !Number.isFinite(seconds))
    throw new Error(`BENCH_P99_WARMUP_SECONDS: not a number of seconds ≥ 0: ${text}`);
  return seconds;
}

if (isMain(import.meta))
  main(async () => {
    const result = await runPrivate({
      pairs: envNumber('BENCH_PAIRS', 100),
      stepSeconds: envNumber('BENCH_STEP', 6),
      rounds: envNumber('BENCH_ROUNDS', 3),
      cpuRate: envNumber('BENCH_CPU_RATE', 200),
      startRate: envNumber('BENCH_START_RATE', 200),
      resolution: envNumber('BENCH_RESOLUTION', 0.1),
      maxRate: envNumber('BENCH_MAX_RATE', 32000),
      p99Seconds: envNumber('BENCH_P99_SECONDS', 10),
      p99WarmupSeconds: p99WarmupFromEnv(process.env.BENCH_P99_WARMUP_SECONDS),
      breakMs: envNumber('BENCH_BREAK_MS', 1000),
      searchCeilings: process.env.BENCH_SEARCH_CEILINGS === '1',
      workers: envNumber('BENCH_WORKERS', 2),
      systems: (
        process.env.BENCH_PRIVATE_SYSTEMS ??
        'easy-chat-sqlite,easy-chat-postgres,ejabberd,ceiling,ceiling-postgres'
      ).split(',') as PrivateSystem[],
      ...latencyRatesFromEnv(process.env.BENCH_LATENCY_RATE),
      references: checkoutsFromEnv(),
    });
    writeResult('private-chat', result);
    const { writeReport } = await import('./report.js');
    writeReport();
  });
