/**
 * Scenario 2, private chat: open-loop load at rising rates. Each question is a private
 * message A → B; B answers it at once; A measures the round trip (sent → stored →
 * delivered → answered → answer delivered), B the one-way delivery. Every system under
 * test is connected at the same time and the steps alternate between them, so machine
 * noise hits them alike. easy-chat runs on SQLite, PostgreSQL and MariaDB (or MySQL).
 * The bare `ws` relay (bench/peers/raw-ws-server.ts: no auth, no storage) is the
 * ceiling. Each step also records the server's CPU-µs per message. A system stops climbing once it breaks: p99 round trip over
 * BENCH_BREAK_MS, fewer than 95% of questions answered, or too many in flight.
 *
 *   npm run bench:private   BENCH_PAIRS=100 BENCH_STEP=8 BENCH_RATES=100,200,...
 *                           BENCH_BREAK_MS=1000 BENCH_WORKERS=2
 */
import { connectUsers, type Placement } from './support/clients.js';
import { cpuMicros } from './support/cpu.js';
import { machine, type Meta } from './support/meta.js';
import { envNumber, isMain, log, main, sleep, withProgress, writeResult } from './support/run.js';
import {
  ejabberdUnavailable,
  startEasyChat,
  startEjabberdSystem,
  startRawWs,
  type System,
} from './support/systems.js';
import { percentile, Pool } from './support/worker-pool.js';

export type PrivateSystem =
  'easy-chat-sqlite' | 'easy-chat-postgres' | 'easy-chat-mysql' | 'ejabberd' | 'ws';

const STORAGE_OF = {
  'easy-chat-sqlite': 'sqlite',
  'easy-chat-postgres': 'postgres',
  'easy-chat-mysql': 'mysql',
} as const;

export interface PrivateOptions {
  pairs: number;
  stepSeconds: number;
  /** Questions per second offered at each step (each is answered: twice as many messages). */
  rates: number[];
  breakMs: number;
  workers: number;
  systems: PrivateSystem[];
  /**
   * Rounds at the lowest rate, before the climb, that measure CPU-µs per message
   * (alternating between systems; the median is reported). 0 leaves them out.
   */
  cpuRounds?: number;
}

export interface Step {
  rate: number;
  /** Answered questions per second. */
  achieved: number;
  sent: number;
  answered: number;
  errors: number;
  overloaded: boolean;
  broken: boolean;
  rtt: { p50: number; p95: number; p99: number; max: number };
  /**
   * CPU time of the server process(es) per message (questions and answers), µs:
   * steadier than the rates on a shared machine. The database server's own is not in it.
   */
  cpuUsPerMessage?: number;
  oneWay: { p50: number; p95: number; p99: number };
  /** Round-trip quantiles 0..100 (101 points) for the CDF chart. */
  rttQuantiles: number[];
}
export interface PrivateRow {
  system: string;
  steps: Step[];
  /** Highest offered rate that did not break. */
  capacity: number;
  /** CPU-µs per message at the lowest rate: median and range of the CPU rounds. */
  cpu?: { rate: number; median: number; min: number; max: number };
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
  row: PrivateRow;
  done: boolean;
}

async function prepare(system: System, pool: Pool, pairs: number, set: string): Promise<Entry> {
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
    row: { system: system.label, steps: [], capacity: 0 },
    done: false,
  };
}

export async function step(
  entry: Entry,
  pool: Pool,
  rate: number,
  opts: PrivateOptions,
): Promise<Step> {
  const total = entry.pairs.reduce((n, p) => n + p.length, 0);
  // The scale-out scenario reuses this step with a cluster that reports no pids.
  const pids = typeof entry.system.pids === 'function' ? entry.system.pids() : [];
  const cpuBefore = cpuMicros(pids);
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
          }>('exchange', {
            set: entry.set,
            pairs: entry.pairs[i],
            rate: (rate * entry.pairs[i]!.length) / total,
            durationMs: opts.stepSeconds * 1000,
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
  const elapsed = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
  for (const text of new Set(results.flatMap((r) => r.errorTexts))) log(`  error: ${text}`);
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
      max: Math.max(...rtt),
    },
    oneWay: {
      p50: percentile(oneWay, 50),
      p95: percentile(oneWay, 95),
      p99: percentile(oneWay, 99),
    },
    rttQuantiles: quantiles(rtt),
    cpuUsPerMessage: pids.length > 0 ? cpuUs / Math.max(1, sent + answered) : undefined,
  };
  s.broken =
    overloaded ||
    !(s.rtt.p99 <= opts.breakMs) ||
    answered < 0.95 * rate * opts.stepSeconds ||
    errors > 0.01 * sent;
  log(
    `  ${entry.system.label.padEnd(22)} offered ${rate}/s: answered ${s.achieved.toFixed(0)}/s, round trip p50 ${s.rtt.p50.toFixed(1)} p95 ${s.rtt.p95.toFixed(1)} p99 ${s.rtt.p99.toFixed(1)} ms${s.cpuUsPerMessage === undefined ? '' : `, ${s.cpuUsPerMessage.toFixed(0)} CPU-µs/msg`}${s.broken ? '  (broken)' : ''}`,
  );
  return s;
}

export async function runPrivate(opts: PrivateOptions): Promise<PrivateResult> {
  const meta = machine();
  const skipped: string[] = [];
  const pool = new Pool(opts.workers);
  const entries: Entry[] = [];
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
      const system =
        name === 'ejabberd'
          ? await startEjabberdSystem()
          : name === 'ws'
            ? await startRawWs()
            : await startEasyChat({ storage: STORAGE_OF[name] });
      log(`private: ${system.label}, ${opts.pairs} pairs`);
      entries.push(await prepare(system, pool, opts.pairs, name));
    }
    // Warm-up (JIT, caches, connection pools), not reported.
    for (const entry of entries)
      await step(entry, pool, opts.rates[0]!, {
        ...opts,
        stepSeconds: Math.min(3, opts.stepSeconds),
      });
    // CPU cost per message at a rate every system keeps, in alternating rounds: a
    // figure that holds on a loaded machine where capacities do not.
    const cpuRuns = new Map<Entry, number[]>(entries.map((e) => [e, []]));
    for (let round = 0; round < (opts.cpuRounds ?? 0); round += 1)
      for (const entry of round % 2 === 0 ? entries : [...entries].reverse()) {
        const s = await step(entry, pool, opts.rates[0]!, opts);
        if (s.cpuUsPerMessage !== undefined) cpuRuns.get(entry)!.push(s.cpuUsPerMessage);
      }
    for (const [entry, runs] of cpuRuns)
      if (runs.length > 0) {
        const sorted = [...runs].sort((a, b) => a - b);
        entry.row.cpu = {
          rate: opts.rates[0]!,
          median: sorted[Math.floor(sorted.length / 2)]!,
          min: sorted[0]!,
          max: sorted[sorted.length - 1]!,
        };
      }
    for (const [k, rate] of opts.rates.entries()) {
      const live = entries.filter((e) => !e.done);
      if (live.length === 0) break;
      // Alternate the order so no system always runs first (or right after another).
      const order = k % 2 === 0 ? live : [...live].reverse();
      for (const entry of order) {
        const s = await step(entry, pool, rate, opts);
        entry.row.steps.push(s);
        if (s.broken) entry.done = true;
        else entry.row.capacity = rate;
        await sleep(1000);
      }
    }
  } finally {
    await pool.stop();
    for (const e of entries) await e.system.stop();
  }
  meta.loadAfter = machine().loadBefore;
  return { meta, options: opts, rows: entries.map((e) => e.row), skipped };
}

if (isMain(import.meta))
  main(async () => {
    const result = await runPrivate({
      pairs: envNumber('BENCH_PAIRS', 100),
      stepSeconds: envNumber('BENCH_STEP', 8),
      rates: (process.env.BENCH_RATES ?? '100,150,200,250,300,400,500,600,800,1000,1300,1600,2000')
        .split(',')
        .map(Number),
      breakMs: envNumber('BENCH_BREAK_MS', 1000),
      workers: envNumber('BENCH_WORKERS', 2),
      cpuRounds: envNumber('BENCH_ROUNDS', 3),
      systems: (
        process.env.BENCH_PRIVATE_SYSTEMS ??
        'easy-chat-sqlite,easy-chat-postgres,easy-chat-mysql,ejabberd,ws'
      ).split(',') as PrivateSystem[],
    });
    writeResult('private-chat', result);
    const { writeReport } = await import('./report.js');
    writeReport();
  });
