/**
 * Scenario 4, reconnect storm: BENCH_STORM_CLIENTS clients (5,000) are online, all drop,
 * BENCH_STORM_MISSED messages (20) are sent to each one's group while they are away,
 * then all reconnect at the same instant and each syncs from the seq it held
 * (`conversation.sync`, paged). Reported: time until every client is in sync, and
 * per-client percentiles. The same storm without the sync (reconnect only) is the
 * baseline; SQLite and PostgreSQL run side by side. easy-chat only: the peers have no
 * such sync call to compare.
 *
 *   npm run bench:storm    BENCH_STORM_CLIENTS=5000 BENCH_STORM_MISSED=20
 *                          BENCH_STORM_GROUP=100 BENCH_WORKERS=2
 */
import { connectUsers, type Placement } from './support/clients.js';
import type { ClientUser } from './support/drivers.js';
import { machine, type Meta } from './support/meta.js';
import { envNumber, isMain, log, main, sleep, withProgress, writeResult } from './support/run.js';
import { startEasyChat, type System } from './support/systems.js';
import { percentile, Pool } from './support/worker-pool.js';

export interface StormOptions {
  clients: number;
  missed: number;
  /** Members per group: clients / groupSize groups, each with a sender of its own. */
  groupSize: number;
  workers: number;
  storages: Array<'sqlite' | 'postgres'>;
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
  system: System,
  kind: StormRun['kind'],
  sync: Array<Array<Record<string, number>>> | null,
  expected: number,
): Promise<StormRun> {
  await pool.all('drop', () => ({ set: 'members' }));
  await sleep(1500);
  const startAt = performance.timeOrigin + performance.now() + 300;
  const results = await withProgress(
    `${system.label}: ${kind}`,
    () => `${pool.total('inSync')}/${expected} in sync, ${pool.total('messages')} messages`,
    () =>
      pool.all<{ inSync: number[]; messages: number; failed: number; errors: string[] }>(
        'storm',
        (i) => ({ set: 'members', startAt, sync: sync ? sync[i] : null }),
      ),
  );
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
  };
  log(
    `  ${system.label.padEnd(22)} ${kind}: all ${expected} in ${run.allInSyncMs.toFixed(0)} ms (p50 ${run.p50.toFixed(0)}, p99 ${run.p99.toFixed(0)}), ${run.messages} messages, ${run.failed} failed`,
  );
  return run;
}

async function measure(storage: 'sqlite' | 'postgres', opts: StormOptions): Promise<StormRow> {
  const system = await startEasyChat({ storage });
  const pool = new Pool(opts.workers);
  try {
    const groups = Math.ceil(opts.clients / opts.groupSize);
    log(`storm: ${system.label}, ${opts.clients} clients in ${groups} groups`);
    const senders = await system.makeUsers(groups);
    const members = await system.makeUsers(opts.clients);
    const groupOf: number[] = [];
    const groupIds: string[] = [];
    for (let g = 0; g < groups; g += 1) {
      const slice = members.slice(g * opts.groupSize, (g + 1) * opts.groupSize);
      const { id } = await system.group([senders[g]!, ...slice]);
      groupIds.push(id);
      slice.forEach((_, k) => (groupOf[g * opts.groupSize + k] = g));
    }
    // The group's conversation id and current seq, as a client would hold them.
    const conversations = await Promise.all(
      senders.map((s, g) => conversationOf(system.urls[0]!, s, groupIds[g]!)),
    );
    const senderPlaced = await connectUsers(pool, system, 'senders', senders, 50);
    const placed: Placement[] = await connectUsers(pool, system, 'members', members, 200);
    // What each worker's members hold, in the order the worker holds them.
    const syncFor: Array<Array<Record<string, number>>> = pool.workers.map(() => []);
    placed.forEach((p, i) => {
      const c = conversations[groupOf[i]!]!;
      syncFor[p.worker]![p.index] = { [c.id]: c.maxSeq };
    });

    const runs: StormRun[] = [];
    runs.push(await storm(pool, system, 'reconnect only', null, opts.clients));
    await pool.all('drop', () => ({ set: 'members' }));
    await withProgress(
      `${system.label}: sending ${opts.missed} messages to each of ${groups} groups`,
      () => `${pool.total('sent')}`,
      () =>
        Promise.all(
          senderPlaced.map((p, g) =>
            pool.workers[p.worker]!.run('sendSequence', {
              set: 'senders',
              sender: p.index,
              to: { kind: 'group', id: groupIds[g] },
              count: opts.missed,
            }),
          ),
        ),
    );
    const sync = await storm(pool, system, 'reconnect + sync', syncFor, opts.clients);
    if (sync.messages !== opts.clients * opts.missed)
      log(`  expected ${opts.clients * opts.missed} messages synced, got ${sync.messages}`);
    runs.push(sync);
    return { system: system.label, runs };
  } finally {
    await pool.stop();
    await system.stop();
  }
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
  const rows: StormRow[] = [];
  for (const storage of opts.storages) rows.push(await measure(storage, opts));
  meta.loadAfter = machine().loadBefore;
  return { meta, options: opts, rows };
}

if (isMain(import.meta))
  main(async () => {
    const result = await runStorm({
      clients: envNumber('BENCH_STORM_CLIENTS', 5000),
      missed: envNumber('BENCH_STORM_MISSED', 20),
      groupSize: envNumber('BENCH_STORM_GROUP', 100),
      workers: envNumber('BENCH_WORKERS', 2),
      storages: ['sqlite', 'postgres'],
    });
    writeResult('reconnect-storm', result);
    const { writeReport } = await import('./report.js');
    writeReport();
  });
