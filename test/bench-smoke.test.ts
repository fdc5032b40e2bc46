/**
 * Smoke runs of every benchmark scenario with tiny sizes, so the scripts keep working.
 * The full runs (npm run bench:*) stay out of CI. ejabberd is never started here (CI
 * machines do not have it): its runs are switched off and must skip with a reason.
 * Socket.IO needs Redis (TEST_REDIS_URL), PostgreSQL runs need TEST_DATABASE_URL,
 * MariaDB/MySQL runs TEST_MYSQL_URL.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCpuPerMessage } from '../bench/cpu-per-message.js';
import { runGroup, type GroupResult, type GroupSystem } from '../bench/group.js';
import { runHistory, type HistoryResult } from '../bench/history.js';
import { runIdle, type IdleResult, type SystemName } from '../bench/idle.js';
import { runPrivate, type PrivateResult, type PrivateSystem } from '../bench/private-chat.js';
import {
  layoutFromEnv,
  runStorm,
  storesFromEnv,
  type StormResult,
} from '../bench/reconnect-storm.js';
import { renderReport } from '../bench/report.js';
import { cleanupAll } from '../bench/support/run.js';
import { lineChart } from '../bench/support/svg.js';
import { runScaleOut } from '../bench/scale-out.js';
import {
  TEST_DATABASE_URL,
  TEST_MYSQL_URL,
  TEST_NATS_URL,
  TEST_REDIS_URL,
} from './support/backends.js';

const TIMEOUT = 180_000;

/** bench:private at its smallest: two rounds of 1 s steps over 4 pairs. */
const TINY_PRIVATE = {
  pairs: 4,
  stepSeconds: 1,
  rounds: 2,
  cpuRate: 20,
  startRate: 20,
  resolution: 0.5,
  // A tiny search: 20 kept, 40 kept (the ceiling), then the next round from 40.
  maxRate: 40,
  p99Seconds: 1,
  p99WarmupSeconds: 1,
  breakMs: 5000,
  workers: 2,
};
const results: {
  idle?: IdleResult;
  priv?: PrivateResult;
  group?: GroupResult;
  storm?: StormResult;
  history?: HistoryResult;
} = {};

beforeAll(() => {
  // Servers from src/ under tsx (the suite does not build dist/); no ejabberd.
  process.env.BENCH_SERVER_FROM_SOURCE = '1';
  process.env.BENCH_EJABBERD = '0';
  if (TEST_DATABASE_URL) process.env.BENCH_DATABASE_URL = TEST_DATABASE_URL;
  if (TEST_REDIS_URL) process.env.BENCH_REDIS_URL = TEST_REDIS_URL;
});
afterAll(async () => {
  await cleanupAll();
});

const peers = <T extends string>(...names: T[]) =>
  names.filter((n) => n !== 'socket.io' || TEST_REDIS_URL);

describe('benchmark scenarios, tiny', () => {
  it(
    '1. idle connections: memory per socket for each system, ejabberd skipped with a reason',
    async () => {
      const systems = peers<SystemName>('easy-chat', 'ejabberd', 'socket.io', 'ws');
      const r = await runIdle({
        counts: [30],
        perProcess: 1000,
        ejabberdMax: 30,
        systems,
        rounds: 2,
      });
      expect(r.skipped).toEqual(['ejabberd: BENCH_EJABBERD=0']);
      expect(r.rows.map((x) => x.system)).toEqual(
        ['easy-chat (SQLite)', TEST_REDIS_URL && 'Socket.IO + Redis adapter', 'bare ws'].filter(
          Boolean,
        ),
      );
      for (const row of r.rows) {
        expect(row.connections).toBe(30);
        expect(row.connectPerSecond).toBeGreaterThan(0);
        // One row per system, from a run on a fresh server per round.
        expect(row.bytesRounds).toHaveLength(2);
      }
      results.idle = r;
    },
    TIMEOUT,
  );

  it.runIf(TEST_DATABASE_URL)(
    '1b. idle connections over several easy-chat processes on one PostgreSQL',
    async () => {
      const r = await runIdle({
        counts: [40],
        perProcess: 25,
        ejabberdMax: 0,
        systems: ['easy-chat'],
      });
      expect(r.rows[0]).toMatchObject({
        system: 'easy-chat (PostgreSQL) x2',
        connections: 40,
        processes: 2,
      });
    },
    TIMEOUT,
  );

  it(
    '2. private chat: open loop, every question answered, on each storage',
    async () => {
      const systems: PrivateSystem[] = [
        'easy-chat-sqlite',
        ...(TEST_DATABASE_URL ? (['easy-chat-postgres'] as const) : []),
        ...(TEST_MYSQL_URL ? (['easy-chat-mysql'] as const) : []),
        'ejabberd',
        'ws',
      ];
      const r = await runPrivate({
        ...TINY_PRIVATE,
        systems: [
          ...systems,
          'ceiling',
          ...(TEST_DATABASE_URL ? (['ceiling-postgres'] as const) : []),
        ],
      });
      expect(r.skipped).toEqual(['ejabberd: BENCH_EJABBERD=0']);
      expect(r.rows.map((x) => x.system)).toContain('ceiling (ws + prepared SQL, group commit)');
      for (const row of r.rows) {
        const cpuSteps = row.steps.filter((s) => s.phase === 'cpu');
        expect(cpuSteps.map((s) => s.round)).toEqual([0, 1]);
        for (const s of cpuSteps) {
          expect(s.sent).toBeGreaterThan(0);
          expect(s.answered).toBe(s.sent);
          expect(s.errors).toBe(0);
          expect(s.rtt.p50).toBeGreaterThan(0);
          // Where the time went: the servers that stamp sendTime (easy-chat, the ceiling).
          if (row.system.startsWith('easy-chat') || row.system.startsWith('ceiling'))
            expect(Object.values(s.legs!.p50).every(Number.isFinite), row.system).toBe(true);
          expect(s.generator!.max).toBeGreaterThan(0);
          // CPU time comes in 10 ms ticks: the bare relay may use none in a tiny step.
          expect(s.cpuUsPerMessage).toBeGreaterThanOrEqual(0);
          if (row.system.startsWith('easy-chat'))
            expect(s.cpuUsPerMessage, row.system).toBeGreaterThan(0);
        }
        expect(row.cpu).toMatchObject({ rate: 20 });
        expect(row.cpu!.rounds).toHaveLength(2);
        if (row.system.includes('PostgreSQL'))
          expect(row.cpu!.database.median, 'PostgreSQL backends counted').toBeGreaterThan(0);
        const searched = !row.system.startsWith('ceiling') && row.system !== 'bare ws';
        if (!searched) {
          expect(row.capacity).toBeUndefined();
          // The ceiling ran beside easy-chat of its store, at its rate, in each latency round.
          if (row.system.startsWith('ceiling')) {
            const store = row.system.includes('PostgreSQL') ? 'PostgreSQL' : 'SQLite';
            expect(row.beside).toEqual([
              expect.objectContaining({ system: `easy-chat (${store})`, rate: 20 }),
            ]);
            expect(row.beside![0]!.p99.rounds).toHaveLength(2);
            expect(row.beside![0]!.cold!.p99.rounds).toHaveLength(2);
          }
          continue;
        }
        // Each round found the capacity (the maximum offered), then half of it was held.
        expect(row.capacity!.rounds).toEqual([40, 40]);
        expect(row.halfLoad).toMatchObject({ rate: 20 });
        expect(row.halfLoad!.p99.rounds).toHaveLength(2);
        // Each round's warm-up at the same rate ran before its measured window, apart.
        expect(row.halfLoad!.cold).toMatchObject({ seconds: 1 });
        for (const s of row.steps.filter((x) => x.phase === 'latency')) {
          expect(s.warmUp!.sent).toBeGreaterThan(0);
          expect(s.warmUp!.answered).toBe(s.warmUp!.sent);
          expect(s.answered).toBe(s.sent);
          // Both windows at 20/s: a second's warm-up, a second measured.
          expect(s.warmUp!.sent + s.sent).toBeGreaterThanOrEqual(36);
          expect(s.sent).toBeLessThanOrEqual(21);
        }
      }
      results.priv = r;
    },
    // Three phases of two rounds on up to six systems: the longest scenario here.
    TIMEOUT * 2,
  );

  it(
    "2. private chat with BENCH_SEARCH_CEILINGS=1: the ceiling's capacity searched and half of it held alone, beside easy-chat's too",
    async () => {
      const r = await runPrivate({
        ...TINY_PRIVATE,
        searchCeilings: true,
        systems: ['ceiling', 'easy-chat-sqlite'],
      });
      const ceiling = r.rows.find((x) => x.system.startsWith('ceiling'))!;
      expect(ceiling.capacity!.rounds).toEqual([40, 40]);
      // Alone at half of its own capacity…
      expect(ceiling.halfLoad).toMatchObject({ rate: 20 });
      expect(ceiling.halfLoad!.p99.rounds).toHaveLength(2);
      const own = ceiling.steps.filter((s) => s.phase === 'latency' && s.beside === undefined);
      expect(own).toHaveLength(2);
      for (const s of own) expect(s.answered).toBe(s.sent);
      // …and beside easy-chat at easy-chat's half, as without the setting.
      expect(ceiling.beside).toEqual([
        expect.objectContaining({ system: 'easy-chat (SQLite)', rate: 20 }),
      ]);
      expect(ceiling.beside![0]!.p99.rounds).toHaveLength(2);
      const easy = r.rows.find((x) => x.system === 'easy-chat (SQLite)')!;
      expect(easy.halfLoad!.p99.rounds).toHaveLength(2);
    },
    TIMEOUT * 2,
  );

  it(
    '3. group fan-out: every member gets every message',
    async () => {
      const systems = peers<GroupSystem>('easy-chat', 'ejabberd', 'socket.io', 'ws');
      const r = await runGroup({
        sizes: [12],
        messages: 3,
        rounds: 2,
        workers: 2,
        systems,
        timeoutMs: 20_000,
      });
      expect(r.skipped).toEqual(['ejabberd: BENCH_EJABBERD=0']);
      expect(r.rows).toHaveLength(systems.length - 1);
      for (const row of r.rows) {
        expect(row.complete).toBe(true);
        expect(row.rounds[0]!.deliveries).toBe(11 * 3);
        expect(row.perSecond).toBeGreaterThan(0);
      }
      results.group = r;
    },
    TIMEOUT,
  );

  it(
    '4. reconnect storm: every client back and in sync with what it missed',
    async () => {
      const r = await runStorm({
        clients: 24,
        missed: 3,
        groupSize: 8,
        workers: 2,
        storages: ['sqlite'],
        rounds: 2,
      });
      const [sqlite] = r.rows;
      // Each round syncs the messages missed in that round only, from the seq then held.
      expect(sqlite!.runs.map((x) => [x.round, x.kind, x.failed, x.messages])).toEqual([
        [0, 'reconnect only', 0, 0],
        [0, 'reconnect + sync', 0, 24 * 3],
        [1, 'reconnect only', 0, 0],
        [1, 'reconnect + sync', 0, 24 * 3],
      ]);
      for (const run of sqlite!.runs) expect(run.cpuUsPerClient).toBeGreaterThanOrEqual(0);
      results.storm = r;
    },
    TIMEOUT,
  );

  it(
    '4b. reconnect storm of one store at a time (BENCH_STORM_STORES, BENCH_STORM_LAYOUT=alone)',
    async () => {
      expect(storesFromEnv(undefined)).toEqual(['sqlite', 'postgres']);
      expect(storesFromEnv('postgres')).toEqual(['postgres']);
      expect(() => storesFromEnv('mysql')).toThrow(/BENCH_STORM_STORES/);
      expect(layoutFromEnv('')).toBe('beside');
      expect(() => layoutFromEnv('apart')).toThrow(/BENCH_STORM_LAYOUT/);
      const storages = storesFromEnv(TEST_DATABASE_URL ? 'postgres,sqlite' : 'sqlite');
      const r = await runStorm({
        clients: 16,
        missed: 2,
        groupSize: 8,
        workers: 2,
        storages,
        rounds: 1,
        layout: 'alone',
      });
      expect(r.rows.map((x) => x.system)).toEqual(
        storages.map((s) => (s === 'sqlite' ? 'easy-chat (SQLite)' : 'easy-chat (PostgreSQL)')),
      );
      for (const row of r.rows)
        expect(row.runs.map((x) => [x.round, x.kind, x.failed, x.messages])).toEqual([
          [0, 'reconnect only', 0, 0],
          [0, 'reconnect + sync', 0, 16 * 2],
        ]);
      const dir = mkdtempSync(join(tmpdir(), 'bench-charts-'));
      try {
        expect(renderReport({ storm: r }, dir)).toMatch(
          /one at a time, each with no other system up and the load generators holding its clients only, one run each/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );

  it(
    '5. history reads with autocannon, against /healthz',
    async () => {
      const r = await runHistory({
        pairs: 2,
        messages: 60,
        pageSize: 50,
        durationSeconds: 1,
        rounds: 2,
        connections: 2,
        storages: ['sqlite', ...(TEST_MYSQL_URL ? (['mysql'] as const) : [])],
      });
      // SQLite has its ceiling script beside it (reading the same file); MySQL has none.
      const systems = [
        'ceiling (SQLite)',
        'easy-chat (SQLite)',
        ...(TEST_MYSQL_URL ? ['mysql'] : []),
      ];
      const endpoints = ['GET /healthz (baseline)', 'GET /v1/im/chatlog (50 per page)'];
      expect(r.rows.map((x) => x.endpoint)).toEqual(endpoints.flatMap((e) => systems.map(() => e)));
      expect(r.rows[0]!.system).toBe('ceiling (SQLite)');
      if (TEST_MYSQL_URL) expect(r.rows[2]!.system).toMatch(/^easy-chat \((MariaDB|MySQL)\)$/);
      for (const row of r.rows) {
        expect(row.rps).toBeGreaterThan(0);
        expect(row.errors).toBe(0);
        expect(row.cpuUs).toBeGreaterThan(0);
        expect(row.rpsRounds).toHaveLength(2);
        expect(row.cpuRounds).toHaveLength(2);
      }
      results.history = r;
    },
    TIMEOUT,
  );

  it(
    'CPU per private message against the ceiling script',
    async () => {
      const rows = await runCpuPerMessage({
        rate: 40,
        pairs: 2,
        seconds: 1,
        rounds: 1,
        // A smoke test: a short warm-up (the benchmark's 3 s are for steady-state figures).
        warmupSeconds: 1,
        stores: [
          'sqlite',
          ...(TEST_DATABASE_URL ? (['postgres'] as const) : []),
          ...(TEST_MYSQL_URL ? (['mysql'] as const) : []),
        ],
      });
      expect(rows.map((r) => r.system)).toEqual([
        'ceiling (ws + prepared SQL, group commit)',
        ...(TEST_DATABASE_URL ? ['ceiling on PostgreSQL (ws + prepared SQL, group commit)'] : []),
        'easy-chat (SQLite)',
        ...(TEST_DATABASE_URL ? ['easy-chat (PostgreSQL)'] : []),
        ...(TEST_MYSQL_URL ? [expect.stringMatching(/^easy-chat \((MariaDB|MySQL)\)$/)] : []),
      ]);
      for (const row of rows) {
        // Messages were answered (CPU figures this small are only a few clock ticks).
        expect(row.answered[0]).toBeGreaterThan(20);
        expect(row.cpuUsPerMessage.median).toBeGreaterThanOrEqual(0);
      }
      // The CPU of each system's own database backends (none for SQLite; on PostgreSQL
      // a few clock ticks at most in rounds this short).
      for (const row of rows) {
        const own = row.ownDbUsPerMessage.median;
        expect(row.system.includes('SQLite') ? own : 0).toBe(0);
        expect(own).toBeGreaterThanOrEqual(0);
        // Node + its own backends: a part of the whole figure in every round, so of its median.
        expect(row.ownUsPerMessage.median).toBeLessThanOrEqual(row.cpuUsPerMessage.median);
        expect(row.ownUsPerMessage.median).toBeGreaterThanOrEqual(0);
      }
    },
    TIMEOUT,
  );

  it('BENCHMARKS.md: a table per scenario and SVG charts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-charts-'));
    try {
      const text = renderReport(results, dir);
      for (const heading of [
        '## 1. Idle connections',
        '## 2. Private chat',
        '## 3. Group fan-out',
        '## 4. Reconnect storm',
        '## 5. History reads',
      ])
        expect(text).toContain(heading);
      expect(text).not.toContain('has not been run yet');
      // Every section says how noisy the host was through its run (/proc/stat's steal).
      if (process.platform === 'linux')
        expect(text.match(/cores, [\d.]+ of them taken by the hypervisor/g)).toHaveLength(5);
      // The summary's headline figures: medians of the rounds with their range, and the
      // CPU-µs per unit against the ceiling of the same rounds.
      const summary = text.slice(text.indexOf('## Summary'), text.indexOf('## What the runs'));
      expect(summary).toMatch(
        /Idle connections\*\* \(30; median of 2 alternating runs with range\)/,
      );
      expect(summary).toMatch(
        /Group of 12\*\* \(median of 2 alternating rounds with range\): easy-chat \(SQLite\) \d+ \(\d+–\d+\) deliveries\/s/,
      );
      expect(summary).toMatch(/CPU-µs per delivery, [\d.]+× \([\d.]+–[\d.]+\) bare ws's/);
      expect(summary).toMatch(/Reconnect storm\*\* \(24 clients, 3 missed each; median of 2/);
      expect(summary).toMatch(
        /easy-chat \(SQLite\) \d+ \(\d+–\d+\) pages\/s, \d+ \(\d+–\d+\) CPU-µs per page, [\d.]+× \([\d.]+–[\d.]+\) the ceiling's/,
      );
      expect(readdirSync(dir).sort()).toEqual([
        'group-12.svg',
        'private-distribution.svg',
        'private-latency.svg',
        'reconnect-storm.svg',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('charts are standalone SVG', () => {
    const svg = lineChart({
      title: 'a < b',
      xLabel: 'x',
      yLabel: 'y',
      logY: true,
      series: [
        {
          name: 'easy-chat',
          points: [
            [1, 1],
            [2, 10],
            [3, 100],
          ],
        },
      ],
    });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('a &lt; b');
    expect(svg).not.toMatch(/NaN|href=/);
  });
});

describe.runIf(TEST_DATABASE_URL && TEST_REDIS_URL && TEST_NATS_URL)(
  'scale-out scenario, tiny',
  () => {
    it(
      'measures one gateway, two with ends apart and two with ends together',
      async () => {
        process.env.BENCH_NATS_URL = TEST_NATS_URL;
        const rows = await runScaleOut({
          pairs: 2,
          stepSeconds: 1,
          rates: [10],
          breakMs: 5_000,
          workers: 1,
        });
        expect(rows.map((r) => r.system)).toEqual([
          'one gateway',
          'two gateways, ends on different gateways',
          'two gateways, ends on the same gateway',
        ]);
        for (const row of rows) {
          expect(row.steps).toHaveLength(1);
          expect(row.steps[0]!.answered).toBeGreaterThan(0);
        }
      },
      TIMEOUT,
    );
  },
);
