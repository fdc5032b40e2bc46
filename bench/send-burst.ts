/**
 * A device's burst: one connection sends BENCH_BURST messages to a friend without waiting
 * for each answer (a client flushing what it queued offline, a bot, an import), and the
 * time until the last of them is answered is measured, beside the chat ceiling of the same
 * store (bench/peers/ceiling-chat.ts, which takes every frame into its next batch). Each
 * round sends BENCH_BURSTS bursts per system, the systems in turn (the order turned and
 * reversed by round, support/round-order.ts); the figure is the median of the rounds'
 * medians, with its range, and the server's CPU-µs a message (Node, plus on PostgreSQL
 * the backends of its own connections) over the round's bursts.
 *
 * Why: a connection's requests ran one at a time, so a burst of 100 sends took 100
 * commits one after another (7.6× the ceiling's time on SQLite, 8.2× on PostgreSQL);
 * sends now overlap once each has taken its place in the group commit's queue
 * (docs/websocket.md, docs/performance-log.md "A device's burst of sends").
 *
 *   npm run bench:burst   BENCH_BURST=100 BENCH_BURSTS=10 BENCH_ROUNDS=3
 *                         BENCH_BURST_SYSTEMS=easy-chat-sqlite,ceiling,easy-chat-postgres,ceiling-postgres
 *                         BENCH_REF_DIR, BENCH_REF_LABEL: earlier checkouts (built) beside
 *                         this one on each store, in the same rounds
 */
import { CEILING_LABEL, startCeilingChat } from './support/ceiling-system.js';
import { cpuWithDatabase } from './support/db-cpu.js';
import { drivers, type Conn } from './support/drivers.js';
import { figureOf, type Figure } from './support/figure.js';
import { finishRun, machine, type Meta } from './support/meta.js';
import { envNumber, isMain, log, main, onCleanup, sleep, writeResult } from './support/run.js';
import { checkoutsFromEnv, startEasyChat, type Checkout, type System } from './support/systems.js';
import { roundOrder } from './support/round-order.js';

export type BurstSystem =
  'easy-chat-sqlite' | 'easy-chat-postgres' | 'ceiling' | 'ceiling-postgres';

export interface BurstOptions {
  systems: BurstSystem[];
  /** Messages a burst. */
  burst: number;
  /** Bursts a round, per system. */
  bursts: number;
  rounds: number;
  references?: Checkout[];
}

export interface BurstRow {
  system: string;
  store: 'sqlite' | 'postgres';
  /** ms from the first send until the last answer, the median burst of each round. */
  burstMs: Figure;
  /** Server CPU-µs a message over each round's bursts (Node + its own backends). */
  cpuPerMessage: Figure;
}

export interface BurstResult {
  meta: Meta;
  burst: number;
  bursts: number;
  rounds: number;
  rows: BurstRow[];
}

interface Running {
  label: string;
  store: 'sqlite' | 'postgres';
  system: System;
  sender: Conn;
  recipient: Conn;
  recvId: string;
  bursts: number[];
  cpu: number[];
}

async function start(name: BurstSystem, checkout: Checkout | undefined): Promise<Running> {
  const store = name.endsWith('postgres') ? 'postgres' : 'sqlite';
  const system = name.startsWith('easy-chat')
    ? await startEasyChat({ storage: store, checkout })
    : await startCeilingChat(store);
  onCleanup(() => system.stop());
  const [a, b] = await system.makeUsers(2);
  await system.pair([[a!, b!]]);
  const driver = drivers[system.driver];
  const sender = await driver.open(system.urls[0]!, a!);
  const recipient = await driver.open(system.urls[0]!, b!);
  const label = name.startsWith('easy-chat')
    ? `${checkout?.label ?? 'easy-chat'} (${store === 'postgres' ? 'PostgreSQL' : 'SQLite'})`
    : CEILING_LABEL[store];
  return { label, store, system, sender, recipient, recvId: b!.id, bursts: [], cpu: [] };
}

/** One burst: every send at once, resolved when the last is answered; ms. */
async function burstOnce(s: Running, size: number, tag: string): Promise<number> {
  const driver = drivers[s.system.driver];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: size }, (_, i) =>
      driver.send(s.sender, { kind: 'user', id: s.recvId }, `${tag}-${i}`),
    ),
  );
  return performance.now() - t0;
}

export async function runSendBurst(opts: BurstOptions): Promise<BurstResult> {
  const meta = machine();
  const running: Running[] = [];
  for (const name of opts.systems) {
    running.push(await start(name, undefined));
    if (name.startsWith('easy-chat'))
      for (const ref of opts.references ?? []) running.push(await start(name, ref));
  }
  // A warm-up burst each: the first one pays for connections, caches and JIT.
  for (const s of running) await burstOnce(s, opts.burst, 'warm');
  for (let round = 0; round < opts.rounds; round += 1) {
    const order = roundOrder(running, round);
    for (const s of order) {
      const times: number[] = [];
      const before = cpuWithDatabase(s.store, s.system.pids());
      for (let b = 0; b < opts.bursts; b += 1) {
        times.push(await burstOnce(s, opts.burst, `r${round}b${b}`));
        // The pushes and receipts behind the last answer, before the next burst.
        await sleep(20);
      }
      const cpu = (cpuWithDatabase(s.store, s.system.pids()) - before) / (opts.bursts * opts.burst);
      const { median } = figureOf(times);
      s.bursts.push(median);
      s.cpu.push(cpu);
      log(
        `  ${s.label.padEnd(58)} round ${round + 1}: ${opts.burst} sends answered in ${median.toFixed(1)} ms (median of ${opts.bursts}), ${cpu.toFixed(0)} CPU-µs/msg`,
      );
    }
  }
  for (const s of running) {
    s.sender.socket.close();
    s.recipient.socket.close();
  }
  const rows = running.map((s) => ({
    system: s.label,
    store: s.store,
    burstMs: figureOf(s.bursts),
    cpuPerMessage: figureOf(s.cpu),
  }));
  finishRun(meta);
  return { meta, burst: opts.burst, bursts: opts.bursts, rounds: opts.rounds, rows };
}

if (isMain(import.meta)) {
  main(async () => {
    const systems = (
      process.env.BENCH_BURST_SYSTEMS ??
      'easy-chat-sqlite,ceiling,easy-chat-postgres,ceiling-postgres'
    ).split(',') as BurstSystem[];
    const result = await runSendBurst({
      systems,
      burst: envNumber('BENCH_BURST', 100),
      bursts: envNumber('BENCH_BURSTS', 10),
      rounds: envNumber('BENCH_ROUNDS', 3),
      references: checkoutsFromEnv(),
    });
    writeResult('send-burst', result);
    for (const row of result.rows) {
      const ceiling = result.rows.find(
        (r) => r.store === row.store && r.system === CEILING_LABEL[row.store],
      );
      const ratio =
        ceiling && ceiling !== row
          ? ` (${(row.burstMs.median / ceiling.burstMs.median).toFixed(2)}× the ceiling)`
          : '';
      log(
        `${row.system}: ${result.burst} sends answered in ${row.burstMs.median.toFixed(1)} ms (${row.burstMs.min.toFixed(1)}–${row.burstMs.max.toFixed(1)})${ratio}, ${row.cpuPerMessage.median.toFixed(0)} CPU-µs/msg (${row.cpuPerMessage.min.toFixed(0)}–${row.cpuPerMessage.max.toFixed(0)})`,
      );
    }
  });
}
