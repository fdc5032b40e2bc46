/**
 * Scenario 4, reconnect storm: BENCH_STORM_CLIENTS clients (5,000) are online, all drop,
 * BENCH_STORM_MISSED messages (20) are sent to each one's group while they are away,
 * then all reconnect at the same instant and each syncs from the seq it held
 * (`conversation.sync`, paged). Reported: time until every client is in sync, and
 * per-client percentiles. The same storm without the sync (reconnect only) is the
 * baseline. The stores of BENCH_STORM_STORES (sqlite,postgres) are both set up and
 * connected first, then the storms run BENCH_STORM_ROUNDS times (3), alternating the order
 * of the two stores (BENCH_STORM_LAYOUT=alone: one store at a time, nothing else up); each
 * round sends another BENCH_STORM_MISSED messages, synced from the seq the clients then
 * held. Figures are medians of the rounds with their range. easy-chat only: the peers have
 * no such sync call to compare.
 *
 *   npm run bench:storm    BENCH_STORM_CLIENTS=5000 BENCH_STORM_MISSED=20
 *                          BENCH_STORM_GROUP=100 BENCH_STORM_ROUNDS=3 BENCH_WORKERS=2
 *                          BENCH_STORM_STORES=sqlite|postgres|sqlite,postgres
 *                          BENCH_STORM_LAYOUT=beside|alone
 */
import { connectUsers, type Placement } from './support/clients.js';
import type { ClientUser } from './support/drivers.js';
import { cpuMicros } from './support/cpu.js';
import { finishRun, machine, type Meta } from './support/meta.js';
import { envNumber, isMain, log, main, sleep, withProgress, writeResult } from './support/run.js';
import { startEasyChat, type System } from './support/systems.js';
import { percentile, Pool } from './support/worker-pool.js';
import { roundOrder } from './support/round-order.js';

export interface StormOptions {
  clients: number;
  missed: number;
  /** Members per group: clients / groupSize groups, each with a sender of its own. */
  groupSize: number;
  workers: number;
  storages: Array<'sqlite' | 'postgres'>;
  /** Storms of each kind per store, alternating the stores' order (absent in older files: 1). */
  rounds?: number;
  /**
   * `beside` (the default; absent in older files): every store set up and connected
   * first, then each round storms each store in alternating order, the other store's
   * system and clients up meanwhile. `alone`: one store at a time, its rounds in a row,
   * with no other system up and the load generators holding its clients only.
   */
  layout?: 'beside' | 'alone';
}
export interface StormRun {
  kind: 'reconnect only' | 'reconnect + sync';
  allInSyncMs: number;
  p50: number;
  p95: number;
  p99: number;
  messages: number;
  failed: number;
  /** Per-client in-sync time quantiles 0..100 (101 points), for the chart. */
  quantiles: number[];
  /** The server process's CPU (user + system) per client over the storm, µs (absent in older files). */
  cpuUsPerClient?: number;
  /** Which round, from 0 (absent in older files: one round). */
  round?: number;
}
export interface StormRow {
  system: string;
  runs: StormRun[];
}
export interface StormResult {
  meta: Meta;
  options: StormOptions;
  rows: StormRow[];
}

async function storm(
  pool: Pool,
  { system, members }: Stormed,
  kind: StormRun['kind'],
  sync: Array<Array<Record<string, number>>> | null,
  expected: number,
): Promise<StormRun> {
  await pool.all('drop', () => ({ set: members }));
  await sleep(1500);
  const startAt = performance.timeOrigin + performance.now() + 300;
  const cpuBefore = cpuMicros(system.pids());
  const results = await withProgress(
    `${system.label}: ${kind}`,
    () => `${pool.total('inSync')}/${expected} in sync, ${pool.total('messages')} messages`,
    () =>
      pool.all<{ inSync: number[]; messages: number; failed: number; errors: string[] }>(
        'storm',
        (i) => ({ set: members, startAt, sync: sync ? sync[i] : null }),
      ),
  );
  const cpuUs = cpuMicros(system.pids()) - cpuBefore;
  for (const text of new Set(results.flatMap((r) => r.errors))) log(`  error: ${text}`);
  const times = results.flatMap((r) => r.inSync).sort((a, b) => a - b);
  const run: StormRun = {
    kind,
    allInSyncMs: times[times.length - 1] ?? NaN,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    messages: results.reduce((n, r) => n + r.messages, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    quantiles: Array.from(
      { length: 101 },
      (_, q) => times[Math.min(times.length - 1, Math.floor((q / 100) * times.length))]!,
    ),
    cpuUsPerClient: cpuUs / expected,
  };
  log(
    `  ${system.label.padEnd(22)} ${kind}: all ${expected} in ${run.allInSyncMs.toFixed(0)} ms (p50 ${run.p50.toFixed(0)}, p99 ${run.p99.toFixed(0)}), ${run.messages} messages, ${run.failed} failed, ${run.cpuUsPerClient!.toFixed(0)} CPU-µs per client`,
  );
  return run;
}

/** One store's easy-chat with its groups and clients, all connected. */
interface Stormed {
  system: System;
  /** Pool sets of this store's clients. */
  members: string;
  senders: string;
  senderPlaced: Placement[];
  placed: Placement[];
  /** Each group's sender (for its conversation's seq) and id. */
  groupSenders: ClientUser[];
  groupIds: string[];
  groupOf: number[];
  row: StormRow;
}

async function prepare(
  storage: 'sqlite' | 'postgres',
  pool: Pool,
  opts: StormOptions,
): Promise<Stormed> {
  const system = await startEasyChat({ storage });
  const groups = Math.ceil(opts.clients / opts.groupSize);
  log(`storm: ${system.label}, ${opts.clients} clients in ${groups} groups`);
  const groupSenders = await system.makeUsers(groups);
  const members = await system.makeUsers(opts.clients);
  const groupOf: number[] = [];
  const groupIds: string[] = [];
  for (let g = 0; g < groups; g += 1) {
    const slice = members.slice(g * opts.groupSize, (g + 1) * opts.groupSize);
    const { id } = await system.group([groupSenders[g]!, ...slice]);
    groupIds.push(id);
    slice.forEach((_, k) => (groupOf[g * opts.groupSize + k] = g));
  }
  const sets = { members: `members:${storage}`, senders: `senders:${storage}` };
  const senderPlaced = await connectUsers(pool, system, sets.senders, groupSenders, 50);
  const placed = await connectUsers(pool, system, sets.members, members, 200);
  return {
    system,
    ...sets,
    senderPlaced,
    placed,
    groupSenders,
    groupIds,
    groupOf,
    row: { system: system.label, runs: [] },
  };
}

/** One round on one store: the storm alone, then messages missed and the storm with sync. */
async function stormRound(s: Stormed, pool: Pool, opts: StormOptions, round: number) {
  // The group's conversation id and current seq, as a client would hold them now.
  const conversations = await Promise.all(
    s.groupSenders.map((u, g) => conversationOf(s.system.urls[0]!, u, s.groupIds[g]!)),
  );
  // What each worker's members hold, in the order the worker holds them.
  const syncFor: Array<Array<Record<string, number>>> = pool.workers.map(() => []);
  s.placed.forEach((p, i) => {
    const c = conversations[s.groupOf[i]!]!;
    syncFor[p.worker]![p.index] = { [c.id]: c.maxSeq };
  });
  const only = await storm(pool, s, 'reconnect only', null, opts.clients);
  s.row.runs.push({ ...only, round });
  await pool.all('drop', () => ({ set: s.members }));
  await withProgress(
    `${s.system.label}: sending ${opts.missed} messages to each of ${s.groupIds.length} groups`,
    () => `${pool.total('sent')}`,
    () =>
      Promise.all(
        s.senderPlaced.map((p, g) =>
          pool.workers[p.worker]!.run('sendSequence', {
            set: s.senders,
            sender: p.index,
            to: { kind: 'group', id: s.groupIds[g] },
            count: opts.missed,
          }),
        ),
      ),
  );
  const sync = await storm(pool, s, 'reconnect + sync', syncFor, opts.clients);
  if (sync.messages !== opts.clients * opts.missed)
    log(`  expected ${opts.clients * opts.missed} messages synced, got ${sync.messages}`);
  s.row.runs.push({ ...sync, round });
}

async function conversationOf(
  base: string,
  user: ClientUser,
  groupId: string,
): Promise<{ id: string; maxSeq: number }> {
  const res = await fetch(`${base}/v1/im/conversation`, {
    headers: { authorization: `Bearer ${user.token}` },
  });
  const body = (await res.json()) as {
    data: {
      conversationList: Record<
        string,
        { conversationId: string; targetId: string; maxSeq: number }
      >;
    };
  };
  const c = Object.values(body.data.conversationList).find((x) => x.targetId === groupId);
  if (!c) throw new Error(`no conversation for group ${groupId}`);
  return { id: c.conversationId, maxSeq: c.maxSeq };
}

export async function runStorm(opts: StormOptions): Promise<StormResult> {
  const meta = machine();
  const rounds = opts.rounds ?? 1;
  const stores: Stormed[] = [];
  if ((opts.layout ?? 'beside') === 'alone') {
    // Each store as a deployment runs it: its system the only one up, its load
    // generators holding its clients only; stopped before the next store's starts.
    for (const storage of opts.storages) {
      const pool = new Pool(opts.workers);
      let s: Stormed | undefined;
      try {
        s = await prepare(storage, pool, opts);
        stores.push(s);
        for (let k = 0; k < rounds; k += 1) {
          log(`storm: ${s.system.label}, round ${k + 1}/${rounds}`);
          await stormRound(s, pool, opts, k);
        }
      } finally {
        await pool.stop();
        await s?.system.stop();
      }
    }
  } else {
    const pool = new Pool(opts.workers);
    try {
      for (const storage of opts.storages) stores.push(await prepare(storage, pool, opts));
      for (let k = 0; k < rounds; k += 1) {
        log(`storm: round ${k + 1}/${rounds}`);
        for (const s of roundOrder(stores, k)) await stormRound(s, pool, opts, k);
      }
    } finally {
      await pool.stop();
      for (const s of stores) await s.system.stop();
    }
  }
  finishRun(meta);
  return { meta, options: opts, rows: stores.map((s) => s.row) };
}

/** BENCH_STORM_STORES: `sqlite`, `postgres` or both (comma-separated, the default). */
export function storesFromEnv(value: string | undefined): StormOptions['storages'] {
  if (!value?.trim()) return ['sqlite', 'postgres'];
  const stores = value.split(',').map((v) => v.trim());
  for (const v of stores)
    if (v !== 'sqlite' && v !== 'postgres')
      throw new Error(`BENCH_STORM_STORES: ${JSON.stringify(v)} is neither sqlite nor postgres`);
  return stores as StormOptions['storages'];
}

/** BENCH_STORM_LAYOUT: `beside` (the default) or `alone` (see StormOptions.layout). */
export function layoutFromEnv(value: string | undefined): NonNullable<StormOptions['layout']> {
  if (!value?.trim()) return 'beside';
  if (value === 'beside' || value === 'alone') return value;
  throw new Error(`BENCH_STORM_LAYOUT: ${JSON.stringify(value)} is neither beside nor alone`);
}

if (isMain(import.meta))
  main(async () => {
    const result = await runStorm({
      clients: envNumber('BENCH_STORM_CLIENTS', 5000),
      missed: envNumber('BENCH_STORM_MISSED', 20),
      groupSize: envNumber('BENCH_STORM_GROUP', 100),
      workers: envNumber('BENCH_WORKERS', 2),
      storages: storesFromEnv(process.env.BENCH_STORM_STORES),
      rounds: envNumber('BENCH_STORM_ROUNDS', 3),
      layout: layoutFromEnv(process.env.BENCH_STORM_LAYOUT),
    });
    writeResult('reconnect-storm', result);
    const { writeReport } = await import('./report.js');
    writeReport();
  });
