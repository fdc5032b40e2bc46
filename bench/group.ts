/**
 * Scenario 3, group fan-out: a group of 1,000 and one of 10,000 members, all online. One
 * member sends BENCH_GROUP_MESSAGES messages, each once the server has taken the last
 * one; every other member receives each. Reported: deliveries per second and the time
 * until the last member has a message. For each size every system is connected at once
 * (each load generator holds a share of every system's members), and the systems send
 * in turn, BENCH_GROUP_ROUNDS times, in alternating order.
 *
 *   npm run bench:group    BENCH_GROUP_SIZES=1000,10000 BENCH_GROUP_MESSAGES=20
 *                          BENCH_GROUP_ROUNDS=3 BENCH_WORKERS=4
 *                          BENCH_GROUP_SYSTEMS=easy-chat,ws (default: all four)
 *                          BENCH_GROUP_STORES=sqlite,postgres (easy-chat's stores; sqlite)
 *                          BENCH_GROUP_THREADS=1: each round's server CPU by thread too
 *                          BENCH_REF_DIR, BENCH_REF_LABEL, BENCH_REF_DROP_ENV: earlier
 *                          checkouts beside easy-chat, as bench:cpu takes them
 *
 * easy-chat's group on SQLite and PostgreSQL gets its members in one transaction written
 * straight into its database (support/bulk-group.ts): joining through the API one by one
 * costs the square of the group's size. The messages go through the real send path.
 *
 * Each system's server CPU time per delivery (all its processes, /proc) is reported
 * too: the figure to compare with the bare ws relay, since throughput moves with load.
 * It is read to the ns, from every thread's /proc/<pid>/task/<tid>/schedstat: the
 * processes' utime + stime in /proc/<pid>/stat count 10 ms clock ticks, which moved a
 * round of 20 messages to 1,000 by about 3% a tick. A round in which a server thread
 * ended falls back to the ticks (logged). After each size, every system's ratio to
 * bare ws is logged round by round (rounds alternate, so each pair shares the machine's
 * load), median (range).
 * On PostgreSQL the database server's own CPU (every `postgres` process) is reported
 * beside it, apart: the server is shared, so it also counts whatever else runs there.
 */
import { cpuEach, cpuSince, serverPids } from './cpu-per-message.js';
import { connectUsers, type Placement } from './support/clients.js';
import { cpuByThread, cpuFine, cpuFineSince, cpuMicros, threadTimes } from './support/cpu.js';
import type { Target } from './support/drivers.js';
import { finishRun, machine, type Meta } from './support/meta.js';
import { envNumber, isMain, log, main, sleep, withProgress, writeResult } from './support/run.js';
import {
  checkoutsFromEnv,
  ejabberdUnavailable,
  startEasyChat,
  startEjabberdSystem,
  startRawWs,
  startSocketIo,
  type Checkout,
  type Storage,
  type System,
} from './support/systems.js';
import { percentile, Pool } from './support/worker-pool.js';
import { roundOrder } from './support/round-order.js';

export type GroupSystem = 'easy-chat' | 'ejabberd' | 'socket.io' | 'ws';

export interface GroupOptions {
  sizes: number[];
  messages: number;
  rounds: number;
  workers: number;
  systems: GroupSystem[];
  /** The stores easy-chat runs on, each a system of its own (default: SQLite). */
  stores?: Storage[];
  /** Longest wait for one round's deliveries. */
  timeoutMs: number;
  /** Log each round's server CPU by thread (BENCH_GROUP_THREADS=1). */
  threads?: boolean;
  /** Earlier checkouts (built) to run beside easy-chat, each labelled. */
  references?: Checkout[];
}

export interface GroupRound {
  deliveries: number;
  expected: number;
  perSecond: number;
  /** Per message: time from sending until the last member had it (ms). */
  lastMemberP50: number;
  lastMemberMax: number;
  /** Delay of every delivery, as quantiles 0..100 (101 points), for the chart. */
  delayQuantiles: number[];
  /** Server CPU time (all its processes) per delivery, µs, from sending to the last arrival. */
  cpuUsPerDelivery: number;
  /** What cpuUsPerDelivery was read from: threads' schedstat (ns) or clock ticks (10 ms). */
  cpuClock?: 'schedstat' | 'ticks';
  /** The same CPU counted in clock ticks (/proc/<pid>/stat), µs per delivery. */
  cpuTicksUsPerDelivery?: number;
  /** The database server's CPU (PostgreSQL's processes) per delivery, µs; absent for SQLite. */
  dbCpuUsPerDelivery?: number;
}
export interface GroupRow {
  system: string;
  size: number;
  rounds: GroupRound[];
  /** Median over rounds. */
  perSecond: number;
  lastMemberP50: number;
  lastMemberMax: number;
  /** Median over rounds, with the lowest and highest. */
  cpuUsPerDelivery: number;
  cpuRange: [number, number];
  /** The database server's CPU per delivery, median over rounds (PostgreSQL only). */
  dbCpuUsPerDelivery?: number;
  complete: boolean;
}
export interface GroupResult {
  meta: Meta;
  options: GroupOptions;
  rows: GroupRow[];
  skipped: string[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Entry {
  system: System;
  /** The database server whose processes count apart (PostgreSQL), if any. */
  store?: Storage;
  set: string;
  target: Target;
  sender: Placement;
  members: number;
  row: GroupRow;
}

async function prepare(
  system: System,
  pool: Pool,
  size: number,
  set: string,
  store?: Storage,
): Promise<Entry> {
  log(`group: ${system.label}, ${size} members`);
  const users = await system.makeUsers(size);
  const group = await system.group(users);
  const placed = await connectUsers(pool, system, set, group.users, 100);
  if (group.joinRoom) {
    await withProgress(
      `${system.label}: joining the room`,
      () => `${pool.total('joined')}/${size}`,
      () => pool.all('join', () => ({ set, room: group.joinRoom, concurrency: 20 })),
    );
  }
  return {
    system,
    store,
    set,
    target: { kind: 'group', id: group.id },
    sender: placed[0]!,
    members: size,
    row: {
      system: system.label,
      size,
      rounds: [],
      perSecond: 0,
      lastMemberP50: 0,
      lastMemberMax: 0,
      cpuUsPerDelivery: 0,
      cpuRange: [0, 0],
      complete: true,
    },
  };
}

async function round(entry: Entry, pool: Pool, opts: GroupOptions): Promise<GroupRound> {
  await pool.all('reset', () => ({ set: entry.set }));
  const expected = (entry.members - 1) * opts.messages;
  if (opts.threads) {
    // The server's CPU while nothing is sent: timers, polls, background threads.
    const idleBefore = cpuFine(entry.system.pids());
    await sleep(2000);
    log(`    idle: ${((cpuFine(entry.system.pids()) - idleBefore) / 2000).toFixed(2)} CPU-ms/s`);
  }
  const cpuBefore = cpuMicros(entry.system.pids());
  const fineBefore = threadTimes(entry.system.pids());
  const threadsBefore = opts.threads ? cpuByThread(entry.system.pids()) : undefined;
  const db = entry.store === 'postgres' ? serverPids('postgres') : [];
  const dbBefore = cpuEach(db);
  const { sentAt } = await withProgress(
    `${entry.system.label} (${entry.members}): sending`,
    () => `sent ${pool.workers[entry.sender.worker]!.progress.sent ?? 0}/${opts.messages}`,
    () =>
      pool.workers[entry.sender.worker]!.run<{ sentAt: Record<string, number> }>('sendSequence', {
        set: entry.set,
        sender: entry.sender.index,
        to: entry.target,
        count: opts.messages,
      }),
  );
  const deadline = Date.now() + opts.timeoutMs;
  let arrivals: Array<{ received: number; delays: number[]; last: Record<string, number> }> = [];
  for (;;) {
    arrivals = await pool.all('arrivals', () => ({ set: entry.set }));
    const total = arrivals.reduce((n, a) => n + a.received, 0);
    if (total >= expected || Date.now() > deadline) break;
    await sleep(100);
  }
  const fine = cpuFineSince(fineBefore, entry.system.pids());
  const ticksUs = cpuMicros(entry.system.pids()) - cpuBefore;
  const clock = fine.available && fine.ended === 0 ? 'schedstat' : 'ticks';
  if (fine.available && fine.ended > 0)
    log(`    ${fine.ended} server thread(s) ended during the round: CPU counted in clock ticks`);
  const cpuUs = clock === 'schedstat' ? fine.us : ticksUs;
  const threads = threadsBefore && cpuByThread(entry.system.pids());
  const dbCpuUs = db.length > 0 ? cpuSince(dbBefore, serverPids('postgres')) : undefined;
  arrivals = await pool.all('arrivals', () => ({ set: entry.set, delays: true }));
  const deliveries = arrivals.reduce((n, a) => n + a.received, 0);
  const last: Record<string, number> = {};
  for (const a of arrivals)
    for (const [tag, t] of Object.entries(a.last)) last[tag] = Math.max(last[tag] ?? 0, t);
  const lastMember = Object.entries(sentAt).map(([tag, t]) => (last[tag] ?? NaN) - t);
  const start = Math.min(...Object.values(sentAt));
  const end = Math.max(...Object.values(last));
  const delays = arrivals.flatMap((a) => a.delays).sort((a, b) => a - b);
  const r: GroupRound = {
    deliveries,
    expected,
    perSecond: deliveries / ((end - start) / 1000),
    lastMemberP50: percentile(lastMember, 50),
    lastMemberMax: Math.max(...lastMember),
    delayQuantiles: Array.from(
      { length: 101 },
      (_, q) => delays[Math.min(delays.length - 1, Math.floor((q / 100) * delays.length))]!,
    ),
    cpuUsPerDelivery: cpuUs / Math.max(1, deliveries),
    cpuClock: clock,
    cpuTicksUsPerDelivery: ticksUs / Math.max(1, deliveries),
    ...(dbCpuUs !== undefined ? { dbCpuUsPerDelivery: dbCpuUs / Math.max(1, deliveries) } : {}),
  };
  const dbCpu =
    r.dbCpuUsPerDelivery !== undefined ? ` + ${r.dbCpuUsPerDelivery.toFixed(2)} PostgreSQL` : '';
  log(
    `  ${entry.system.label.padEnd(26)} ${entry.members} members: ${r.perSecond.toFixed(0)} deliveries/s, last member p50 ${r.lastMemberP50.toFixed(0)} ms, max ${r.lastMemberMax.toFixed(0)} ms, ${r.cpuUsPerDelivery.toFixed(2)} CPU-µs/delivery${dbCpu} (${clock}; ticks ${r.cpuTicksUsPerDelivery!.toFixed(2)}) (${deliveries}/${expected})`,
  );
  if (threads) {
    // BENCH_GROUP_THREADS=1: where the process's CPU went, by thread, per delivery.
    const parts = [...threads]
      .map(
        ([name, us]) =>
          [name, (us - (threadsBefore.get(name) ?? 0)) / Math.max(1, deliveries)] as const,
      )
      .filter(([, us]) => us > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => `${name} ${us.toFixed(2)}`);
    log(`    by thread, CPU-µs/delivery: ${parts.join(', ')}`);
  }
  return r;
}

/**
 * Each system's CPU per delivery ÷ bare ws's, round by round (round k of each system ran
 * in the same pass over the systems, so under the same load), median (range).
 */
function logRatios(rows: GroupRow[]): void {
  const ws = rows.find((r) => r.system === 'bare ws');
  if (!ws) return;
  for (const row of rows) {
    if (row === ws) continue;
    const ratios = row.rounds.map((r, k) => r.cpuUsPerDelivery / ws.rounds[k]!.cpuUsPerDelivery);
    log(
      `  ${row.system} ÷ bare ws, ${row.size} members: ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}); rounds ${ratios.map((x) => x.toFixed(2)).join(' / ')}; CPU-µs/delivery ${row.cpuUsPerDelivery.toFixed(2)} (${row.cpuRange[0].toFixed(2)}–${row.cpuRange[1].toFixed(2)}) vs ${ws.cpuUsPerDelivery.toFixed(2)} (${ws.cpuRange[0].toFixed(2)}–${ws.cpuRange[1].toFixed(2)})`,
    );
  }
}

export async function runGroup(opts: GroupOptions): Promise<GroupResult> {
  const meta = machine();
  const skipped: string[] = [];
  const rows: GroupRow[] = [];
  const why = ejabberdUnavailable();
  const names = opts.systems.filter((s) => {
    if (s === 'ejabberd' && why) {
      skipped.push(`ejabberd: ${why}`);
      log(`group: skipping ejabberd: ${why}`);
      return false;
    }
    return true;
  });
  for (const size of opts.sizes) {
    const pool = new Pool(opts.workers);
    const entries: Entry[] = [];
    try {
      // Earlier checkouts side by side (BENCH_REF_DIR, as bench:cpu takes them).
      for (const ref of opts.references ?? []) {
        const system = await startEasyChat({ storage: 'sqlite', checkout: ref });
        entries.push(await prepare(system, pool, size, `ref:${ref.label}`));
      }
      for (const name of names) {
        if (name === 'easy-chat') {
          for (const storage of opts.stores ?? ['sqlite']) {
            const system = await startEasyChat({ storage });
            entries.push(await prepare(system, pool, size, `${name}:${storage}`, storage));
          }
          continue;
        }
        const system =
          name === 'ejabberd'
            ? await startEjabberdSystem()
            : name === 'socket.io'
              ? await startSocketIo()
              : await startRawWs();
        entries.push(await prepare(system, pool, size, name));
      }
      for (let k = 0; k < opts.rounds; k += 1) {
        const order = roundOrder(entries, k);
        for (const entry of order) {
          entry.row.rounds.push(await round(entry, pool, opts));
          await sleep(1000);
        }
      }
    } finally {
      await pool.stop();
      for (const e of entries) await e.system.stop();
    }
    for (const { row } of entries) {
      row.perSecond = median(row.rounds.map((r) => r.perSecond));
      row.lastMemberP50 = median(row.rounds.map((r) => r.lastMemberP50));
      row.lastMemberMax = median(row.rounds.map((r) => r.lastMemberMax));
      const cpu = row.rounds.map((r) => r.cpuUsPerDelivery);
      row.cpuUsPerDelivery = median(cpu);
      row.cpuRange = [Math.min(...cpu), Math.max(...cpu)];
      const dbCpu = row.rounds.flatMap((r) => r.dbCpuUsPerDelivery ?? []);
      if (dbCpu.length > 0) row.dbCpuUsPerDelivery = median(dbCpu);
      row.complete = row.rounds.every((r) => r.deliveries >= r.expected);
      rows.push(row);
    }
    logRatios(entries.map((e) => e.row));
  }
  finishRun(meta);
  return { meta, options: opts, rows, skipped };
}

if (isMain(import.meta))
  main(async () => {
    const result = await runGroup({
      sizes: (process.env.BENCH_GROUP_SIZES ?? '1000,10000').split(',').map(Number),
      messages: envNumber('BENCH_GROUP_MESSAGES', 20),
      rounds: envNumber('BENCH_GROUP_ROUNDS', 3),
      workers: envNumber('BENCH_WORKERS', 4),
      systems: (process.env.BENCH_GROUP_SYSTEMS?.split(',') ?? [
        'easy-chat',
        'ejabberd',
        'socket.io',
        'ws',
      ]) as GroupSystem[],
      stores: (process.env.BENCH_GROUP_STORES ?? 'sqlite').split(',') as Storage[],
      timeoutMs: envNumber('BENCH_GROUP_TIMEOUT', 120) * 1000,
      threads: process.env.BENCH_GROUP_THREADS === '1',
      references: checkoutsFromEnv(),
    });
    writeResult('group', result);
    const { writeReport } = await import('./report.js');
    writeReport();
  });
