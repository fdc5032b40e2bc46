/**
 * Outbox relay throughput (events/s) on NATS JetStream and on RabbitMQ, side by side
 * in one run, with the in-process broker as the baseline (the relay's own SQL work).
 * Each round fills the outbox with BENCH_EVENTS rows, then times one relay draining
 * it in batches of BENCH_BATCH until every row is confirmed by the broker and marked.
 * A durable queue is bound on each broker so events are really stored, not dropped.
 * Rounds alternate between brokers so machine noise hits them alike. Beside the rate, the
 * benchmark process's CPU-µs per event while draining (`process.cpuUsage`: the relay and
 * the broker's client, not the broker server): the figure that survives a noisy machine.
 * An earlier checkout is measured by running this same file from it (copy it there):
 * the file imports only the relay, the brokers and the storage, whose interfaces it uses
 * have not changed.
 *
 *   npm run bench:relay        (BENCH_EVENTS=20000 BENCH_BATCH=200 BENCH_ROUNDS=3)
 *   BENCH_STORAGE=sqlite       (default postgres: BENCH_DATABASE_URL or the local test db)
 *   BENCH_NATS_URL, BENCH_AMQP_URL (default the local servers)
 *   BENCH_BROKERS=nats,rabbitmq (default memory,nats,rabbitmq: only those, e.g. for a profile)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Broker } from '../src/adapters/bus/bus.js';
import { MemoryBroker } from '../src/adapters/bus/memory-broker.js';
import { NatsBroker } from '../src/adapters/bus/nats-broker.js';
import { RabbitBroker } from '../src/adapters/bus/rabbitmq-broker.js';
import { deleteRabbitNames } from '../src/adapters/bus/test-cleanup.js';
import { openStorage, type Storage } from '../src/adapters/storage/storage.js';
import { MIGRATIONS } from '../src/catalogue/migrations.js';
import { loadConfig } from '../src/config/load-config.js';
import { DOMAIN_TOPIC, OutboxRelay } from '../src/events/outbox-relay.js';
import { RelayLease } from '../src/events/relay-lease.js';
import { newId } from '../src/shared/ids.js';
import { createLogger } from '../src/shared/logger.js';

const events = Number(process.env.BENCH_EVENTS ?? 20_000);
const batchSize = Number(process.env.BENCH_BATCH ?? 200);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const storageKind = (process.env.BENCH_STORAGE ?? 'postgres') as 'postgres' | 'sqlite';
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const amqpUrl = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const brokers = (process.env.BENCH_BROKERS ?? 'memory,nats,rabbitmq').split(',');

const logger = createLogger({ level: 'warn', nodeId: 'bench' });
const retry = { initialMs: 50, maxMs: 1_000 };
const prefix = `bench_${Date.now().toString(36)}`;

interface Target {
  label: string;
  broker: Broker;
  cleanup: () => Promise<void>;
}

async function openTargets(): Promise<Target[]> {
  const nats = await NatsBroker.connect({
    prefix,
    maxAttempts: 5,
    retry,
    url: natsUrl,
    replicas: 1,
    duplicateWindowMs: 120_000,
    ackWaitMs: 30_000,
    maxAgeMs: 3_600_000,
    logger,
  });
  const rabbit = await RabbitBroker.connect({
    prefix,
    maxAttempts: 5,
    retry,
    url: amqpUrl,
    logger,
  });
  const all: Target[] = [
    {
      label: 'memory',
      broker: new MemoryBroker({ prefix, maxAttempts: 5, retry }),
      cleanup: async () => {},
    },
    { label: 'nats', broker: nats, cleanup: () => nats.deleteEverything() },
    {
      label: 'rabbitmq',
      broker: rabbit,
      cleanup: () => deleteRabbitNames(amqpUrl, rabbit.declared),
    },
  ];
  const chosen = all.filter((t) => brokers.includes(t.label));
  for (const t of all) if (!chosen.includes(t)) await t.broker.close();
  return chosen;
}

async function fillOutbox(storage: Storage, count: number): Promise<void> {
  const now = Date.now();
  for (let done = 0; done < count; done += 500) {
    const rows = Array.from({ length: Math.min(500, count - done) }, (_, i) => {
      const userId = `u${(done + i) % 1000}`;
      const id = newId();
      const envelope = {
        id,
        type: 'user-updated',
        aggregate: 'user',
        timestamp: now,
        payload: { userId, fields: ['nickname'] },
        metadata: { source: 'bench', version: 1 },
      };
      return {
        id,
        type: 'user-updated',
        aggregate: 'user',
        partitionKey: userId,
        envelope: JSON.stringify(envelope),
        createdAt: now,
        publishedAt: null,
        attempts: 0,
      };
    });
    await storage.db.insertInto('outboxEvents').values(rows).execute();
  }
}

interface Drained {
  rate: number;
  /** CPU-µs of this process per event relayed. */
  cpuUs: number;
}

async function drain(storage: Storage, broker: Broker): Promise<Drained> {
  const relay = new OutboxRelay({
    db: storage.db,
    publisher: broker,
    lease: new RelayLease({
      db: storage.db,
      name: 'outbox',
      owner: 'bench',
      ttlMs: 60_000,
      clock: Date.now,
    }),
    clock: Date.now,
    logger,
    batchSize,
    pollIntervalMs: 10,
    retryDelayMs: 10,
  });
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  let relayed = 0;
  for (;;) {
    const n = await relay.relayOnce();
    if (n === 0) break;
    relayed += n;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  if (relayed !== events) throw new Error(`relayed ${relayed} of ${events}`);
  return { rate: relayed / seconds, cpuUs: (cpu.user + cpu.system) / relayed };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const schema = prefix;
  const dataDir = mkdtempSync(join(tmpdir(), 'easy-chat-bench-'));
  const config = loadConfig({
    env: 'development',
    environment: {},
    overrides: {
      dataDir,
      log: { level: 'warn' },
      storage: {
        driver: storageKind,
        sqlite: { synchronous: 'full' },
        postgres: { url: databaseUrl, schema },
      },
    },
  });
  const storage = openStorage(config, MIGRATIONS);
  await storage.migrate();
  const targets = await openTargets();
  const results = new Map<string, number[]>();
  const cpuResults = new Map<string, number[]>();
  try {
    // Durable queues bound to the domain topic, so the brokers store what they confirm.
    for (const t of targets) {
      const sub = await t.broker.consume(
        { queue: 'bench', topic: DOMAIN_TOPIC, types: ['user-updated'] },
        async () => {},
      );
      await sub.stop();
    }
    for (let round = 1; round <= rounds; round += 1) {
      for (const t of targets) {
        await fillOutbox(storage, events);
        const { rate, cpuUs } = await drain(storage, t.broker);
        results.set(t.label, [...(results.get(t.label) ?? []), rate]);
        cpuResults.set(t.label, [...(cpuResults.get(t.label) ?? []), cpuUs]);
        console.error(
          `round ${round}/${rounds}  ${t.label.padEnd(9)} ${rate.toFixed(0).padStart(7)} events/s, ${cpuUs.toFixed(1)} CPU-µs/event`,
        );
        // The relay deletes what it published: the next round starts from an empty outbox.
        const left = await storage.db.selectFrom('outboxEvents').select('id').execute();
        if (left.length > 0) throw new Error(`${left.length} outbox rows left after relaying`);
      }
    }
  } finally {
    for (const t of targets) {
      await t.cleanup().catch((err: unknown) => console.error('cleanup failed', err));
      await t.broker.close();
    }
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (storageKind === 'postgres') {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    }
  }

  const rate = (label: string) => median(results.get(label)!);
  const cpu = (label: string) => {
    const xs = cpuResults.get(label)!;
    return `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  };
  console.log(
    `\nOutbox relay, ${events} events per round, batch ${batchSize}, ${rounds} rounds (median), ${storageKind}, Node ${process.version}\n`,
  );
  console.log(
    '| broker | events/s | vs in-process baseline | vs RabbitMQ | CPU-µs per event, this process (range) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const ratio = (label: string, base: string, digits: number) =>
    results.has(base) ? (rate(label) / rate(base)).toFixed(digits) : '—';
  for (const label of brokers.filter((b) => results.has(b))) {
    console.log(
      `| ${label} | ${rate(label).toFixed(0)} | ${ratio(label, 'memory', 3)} | ${ratio(label, 'rabbitmq', 2)} | ${cpu(label)} |`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
