/**
 * Sends to a recipient who stays offline: one connection sends BENCH_OFFLINE_SENDS
 * messages a stage, each awaited, into one conversation whose other member never
 * connects, for BENCH_OFFLINE_STAGES stages; the systems take their stages in turn (the
 * order turned and reversed by stage, support/round-order.ts), so each conversation
 * grows at the same pace. Per stage: the server's CPU-µs a send (Node, plus on
 * PostgreSQL the backends of its own connections) and its resident memory. The figure
 * to read is how the last stages compare with the first: the CPU of a send must not
 * grow with the recipient's unread, nor the memory with the messages sent.
 *
 * Why: a push to an offline recipient computes its badge over every conversation, and
 * that count walked every unread message (2.5 ms of CPU a send by 20,000 unread, against
 * 1 at the start); the chat pushes' collapse held every event of its window, so the
 * notify.push queue took 85 events a second and grew in memory behind them
 * (docs/performance-log.md, "Sends to an offline recipient").
 *
 * The servers send their pushes to a webhook on loopback (`notify.push.driver: webhook`),
 * which answers each at once: with the default console driver below debug level a push
 * leaves no trace, so the servers would make none and the push path would go unmeasured.
 *
 *   npm run bench:offline   BENCH_OFFLINE_SENDS=2000 BENCH_OFFLINE_STAGES=10
 *                           BENCH_OFFLINE_STORES=sqlite,postgres
 *                           BENCH_REF_DIR, BENCH_REF_LABEL: earlier checkouts (built) beside
 *                           this one on each store, in the same stages
 */
import { cpuWithDatabase } from './support/db-cpu.js';
import { drivers, type Conn } from './support/drivers.js';
import { figureOf, type Figure } from './support/figure.js';
import { finishRun, machine, type Meta } from './support/meta.js';
import { rssOf } from './support/rss.js';
import { envNumber, isMain, log, main, onCleanup, sleep, writeResult } from './support/run.js';
import { checkoutsFromEnv, startEasyChat, type Checkout, type System } from './support/systems.js';
import { roundOrder } from './support/round-order.js';
import { fakeProvider, SECRET } from '../test/support/fake-webhook.js';

type Store = 'sqlite' | 'postgres';

export interface OfflineOptions {
  stores: Store[];
  /** Awaited sends a stage, per system. */
  sends: number;
  stages: number;
  references?: Checkout[];
  /** `notify.push.collapseWindowMs` of the servers (their default, 3 s, without). */
  pushWindowMs?: number;
}

export interface OfflineRow {
  system: string;
  store: Store;
  /** Server CPU-µs a send, stage by stage. */
  cpuPerSend: number[];
  /** The server's resident memory after each stage, MB. */
  rssMb: number[];
  /** The CPU of the last third of the stages over the first third's (1: flat). */
  growth: number;
  /** The median stage's CPU-µs a send, with the range. */
  cpu: Figure;
}

export interface OfflineResult {
  meta: Meta;
  sends: number;
  stages: number;
  rows: OfflineRow[];
  /** The calls the servers' push webhook received, all systems together. */
  webhookCalls: number;
}

interface Running {
  label: string;
  store: Store;
  system: System;
  sender: Conn;
  recvId: string;
  cpu: number[];
  rss: number[];
}

async function start(
  store: Store,
  checkout: Checkout | undefined,
  env: Record<string, string>,
): Promise<Running> {
  const system = await startEasyChat({ storage: store, checkout, env });
  onCleanup(() => system.stop());
  const [a, b] = await system.makeUsers(2);
  await system.pair([[a!, b!]]);
  // Only the sender connects: the recipient is offline throughout.
  const sender = await drivers[system.driver].open(system.urls[0]!, a!);
  const label = `${checkout?.label ?? 'easy-chat'} (${store === 'postgres' ? 'PostgreSQL' : 'SQLite'})`;
  return { label, store, system, sender, recvId: b!.id, cpu: [], rss: [] };
}

async function stage(s: Running, sends: number, tag: string): Promise<void> {
  const driver = drivers[s.system.driver];
  const before = cpuWithDatabase(s.store, s.system.pids());
  for (let i = 0; i < sends; i += 1) {
    await driver.send(s.sender, { kind: 'user', id: s.recvId }, `${tag}-${i}`);
  }
  s.cpu.push((cpuWithDatabase(s.store, s.system.pids()) - before) / sends);
  s.rss.push(rssOf(s.system.pids()[0]!) / 2 ** 20);
}

/** Mean of the last third of the stages over the first third's. */
function growthOf(values: number[]): number {
  const third = Math.max(1, Math.floor(values.length / 3));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return mean(values.slice(-third)) / mean(values.slice(0, third));
}

/** The servers' `notify.push.collapseWindowMs` when the run sets none. */
const DEFAULT_PUSH_WINDOW_MS = 3_000;

/** Resolves once `calls` holds some and has not grown for `quietMs` (at most 30 s). */
async function settled(calls: readonly unknown[], quietMs: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  let seen = calls.length;
  let quietSince = Date.now();
  while ((seen === 0 || Date.now() - quietSince < quietMs) && Date.now() < deadline) {
    await sleep(100);
    if (calls.length !== seen) {
      seen = calls.length;
      quietSince = Date.now();
    }
  }
}

export async function runOfflineRecipient(opts: OfflineOptions): Promise<OfflineResult> {
  const meta = machine();
  // The push provider's webhook on loopback, answering 200 to every call.
  const sink = await fakeProvider([]);
  onCleanup(sink.close);
  const env: Record<string, string> = {
    EC_NOTIFY__PUSH__DRIVER: 'webhook',
    EC_NOTIFY__PUSH__WEBHOOK__URL: sink.url,
    EC_NOTIFY__PUSH__WEBHOOK__SECRET: SECRET,
    ...(opts.pushWindowMs !== undefined
      ? { EC_NOTIFY__PUSH__COLLAPSE_WINDOW_MS: String(opts.pushWindowMs) }
      : {}),
  };
  const running: Running[] = [];
  for (const store of opts.stores) {
    running.push(await start(store, undefined, env));
    for (const ref of opts.references ?? []) running.push(await start(store, ref, env));
  }
  for (let n = 0; n < opts.stages; n += 1) {
    const order = roundOrder(running, n);
    for (const s of order) {
      await stage(s, opts.sends, `s${n}`);
      log(
        `  ${s.label.padEnd(40)} stage ${String(n + 1).padStart(2)}: ${s.cpu.at(-1)!.toFixed(0)} CPU-µs/send, RSS ${s.rss.at(-1)!.toFixed(0)} MB`,
      );
    }
  }
  // The pushes go out after the sends are answered (through the outbox and the push
  // collapse window), so the last stage's may still be on their way: count them once
  // the webhook has had a collapse window and a second without a call.
  await settled(sink.calls, (opts.pushWindowMs ?? DEFAULT_PUSH_WINDOW_MS) + 1_000);
  for (const s of running) s.sender.socket.close();
  const rows = running.map((s) => ({
    system: s.label,
    store: s.store,
    cpuPerSend: s.cpu,
    rssMb: s.rss,
    growth: growthOf(s.cpu),
    cpu: figureOf(s.cpu),
  }));
  finishRun(meta);
  return { meta, sends: opts.sends, stages: opts.stages, rows, webhookCalls: sink.calls.length };
}

if (isMain(import.meta)) {
  main(async () => {
    const stores = (process.env.BENCH_OFFLINE_STORES ?? 'sqlite,postgres').split(',') as Store[];
    const result = await runOfflineRecipient({
      stores,
      sends: envNumber('BENCH_OFFLINE_SENDS', 2000),
      stages: envNumber('BENCH_OFFLINE_STAGES', 10),
      references: checkoutsFromEnv(),
    });
    writeResult('offline-recipient', result);
    log(`push webhook: ${result.webhookCalls} calls (collapsed per conversation)`);
    for (const row of result.rows) {
      const first = row.cpuPerSend[0]!;
      const last = row.cpuPerSend.at(-1)!;
      log(
        `${row.system}: ${first.toFixed(0)} → ${last.toFixed(0)} CPU-µs/send over ${result.stages * result.sends} sends (last third ${row.growth.toFixed(2)}× the first; median stage ${row.cpu.median.toFixed(0)}, ${row.cpu.min.toFixed(0)}–${row.cpu.max.toFixed(0)}), RSS ${row.rssMb[0]!.toFixed(0)} → ${row.rssMb.at(-1)!.toFixed(0)} MB`,
      );
    }
  });
}
