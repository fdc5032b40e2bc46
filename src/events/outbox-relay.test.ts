import { afterEach, describe, expect, it } from 'vitest';
import { BROKERS, openTestBroker } from '../../test/support/brokers.js';
import { STORAGES } from '../../test/support/backends.js';
import { testConfig } from '../../test/support/test-app.js';
import { waitFor } from '../adapters/bus/bus.contract.js';
import type { Broker } from '../adapters/bus/bus.js';
import { openStorage, type Storage } from '../adapters/storage/storage.js';
import { MIGRATIONS } from '../catalogue/migrations.js';
import { DomainEventSchemas } from '../catalogue/domain-events.js';
import { EventRecorder } from './event-recorder.js';
import { createLogger } from '../shared/logger.js';
import { DOMAIN_TOPIC, OutboxRelay, type OutboxRelayDeps } from './outbox-relay.js';
import { groupCommitFor } from '../adapters/storage/group-commit.js';
import { ProcessedEvents } from './processed-events.js';
import { RecordedEvents } from './recorded-events.js';
import { RelayLease } from './relay-lease.js';

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const logger = createLogger({ level: 'silent', nodeId: 'test' });

/** How many AbortSignal.any() results Node keeps a WeakRef to on `signal` (0 if none). */
function dependantsOf(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find(
    (s) => s.description === 'kDependantSignals',
  );
  const refs = key && (signal as unknown as Record<symbol, Set<unknown> | undefined>)[key];
  return refs ? refs.size : 0;
}

const combos = STORAGES.flatMap((storage) => BROKERS.map((broker) => [storage, broker] as const));

describe.each(combos)('outbox relay on %s with %s broker', (storageKind, brokerKind) => {
  let storage: Storage;
  let broker: Broker;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup() {
    const made = testConfig({ storage: storageKind });
    storage = openStorage(made.config, MIGRATIONS);
    cleanups.push(made.cleanup, () => storage.close());
    await storage.migrate();
    const opened = await openTestBroker(brokerKind);
    broker = opened.broker;
    cleanups.push(opened.cleanup, () => broker.close());
  }

  function relay(
    owner: string,
    leaseMs = 10_000,
    batchSize = 10,
    marks: Partial<OutboxRelayDeps> = {},
  ) {
    return new OutboxRelay({
      ...marks,
      db: storage.db,
      publisher: broker,
      lease: new RelayLease({
        db: storage.db,
        name: 'outbox',
        owner,
        ttlMs: leaseMs,
        clock: Date.now,
      }),
      clock: Date.now,
      logger,
      batchSize,
      pollIntervalMs: 20,
      retryDelayMs: 20,
    });
  }

  /** Records `count` events round-robin over `keys`, a transaction each, like services do. */
  async function record(count: number, keys: string[], kept?: RecordedEvents, from = 0) {
    const recorder = new EventRecorder({
      clock: Date.now,
      source: 'test',
      schemas: DomainEventSchemas,
      onRecorded: kept && ((event, text) => kept.add(event, text)),
    });
    const ids: string[] = [];
    for (let i = from; i < from + count; i += 1) {
      const key = keys[i % keys.length]!;
      const event = await storage.db
        .transaction()
        .execute((trx) =>
          recorder.record(trx, 'user-updated', key, { userId: key, fields: [String(i)] }),
        );
      ids.push(event.id);
    }
    return ids;
  }

  /** An idempotent consumer: counts raw deliveries and applications, keeps order per key. */
  async function consumeOnce() {
    const processed = new ProcessedEvents({ db: storage.db, clock: Date.now });
    const seen = { deliveries: 0, applied: [] as string[], perKey: new Map<string, number[]>() };
    await broker.consume(
      { queue: 'projector', topic: DOMAIN_TOPIC, types: ['user-updated'] },
      async (d) => {
        seen.deliveries += 1;
        await processed.once('projector', d.event.id, async () => {
          seen.applied.push(d.event.id);
          const n = Number((d.event.payload as { fields: string[] }).fields[0]);
          seen.perKey.set(d.key, [...(seen.perKey.get(d.key) ?? []), n]);
        });
      },
    );
    return seen;
  }

  /** Rows in the outbox: the relay deletes each once the broker confirmed it. */
  async function remaining() {
    const rows = await storage.db.selectFrom('outboxEvents').select('id').execute();
    return rows.length;
  }

  it('leaves nothing behind on its stop signal while it polls', async () => {
    await setup();
    const r = relay('idle');
    r.start();
    cleanups.push(() => r.stop());
    // Some 25 polls of 20 ms with nothing to publish.
    await new Promise((done) => setTimeout(done, 500));
    // Each AbortSignal.any() a signal went into leaves a WeakRef on it that Node 20 never
    // drops: one per poll on a signal that lives as long as the relay.
    const { stopping } = r as unknown as { stopping: AbortController };
    expect(dependantsOf(stopping.signal)).toBe(0);
  });

  it('publishes every recorded event once, in order per key, and deletes its row', async () => {
    await setup();
    const seen = await consumeOnce();
    const ids = await record(25, ['u1', 'u2', 'u3']);
    const r = relay('w1');
    r.start();
    cleanups.push(() => r.stop());
    await waitFor(() => seen.applied.length >= 25, 'all events applied');
    expect(new Set(seen.applied)).toEqual(new Set(ids));
    for (const [, ns] of seen.perKey) expect(ns).toEqual([...ns].sort((a, b) => a - b));
    await until(async () => (await remaining()) === 0, 'published rows deleted');
  });

  it("publishes its own process's events from memory, others' read whole, in order per key", async () => {
    await setup();
    const published: Array<{ id: string; payload: unknown }> = [];
    await broker.subscribe({ topic: DOMAIN_TOPIC, types: ['user-updated'] }, async (d) => {
      published.push({ id: d.event.id, payload: d.event.payload });
    });
    const seen = await consumeOnce();
    const kept = new RecordedEvents();
    const r = relay('w1', 10_000, 7, { recorded: kept });
    // Rows written before the relay runs here (a crash's leftovers): not kept.
    const before = await record(4, ['k1', 'k2'], kept, 0);
    expect(kept.isEmpty).toBe(true);
    r.start();
    cleanups.push(() => r.stop());
    await waitFor(() => seen.applied.length >= 4, 'the leftovers applied');
    // Kept events beside rows written by another process, on the same keys.
    const ours = await record(6, ['k1', 'k2'], kept, 4);
    const theirs = await record(5, ['k1', 'k2'], undefined, 10);
    const more = await record(6, ['k1', 'k2'], kept, 15);
    // A kept event whose transaction rolled back is never published.
    const recorder = new EventRecorder({
      clock: Date.now,
      source: 'test',
      schemas: DomainEventSchemas,
      onRecorded: (event, text) => kept.add(event, text),
    });
    let rolledBack = '';
    await expect(
      storage.db.transaction().execute(async (trx) => {
        rolledBack = (
          await recorder.record(trx, 'user-updated', 'k1', { userId: 'k1', fields: ['99'] })
        ).id;
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const ids = [...before, ...ours, ...theirs, ...more];
    await waitFor(() => seen.applied.length >= ids.length, 'every event applied');
    await until(async () => (await remaining()) === 0, 'published rows deleted');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.applied).toEqual(ids);
    for (const [, ns] of seen.perKey) expect(ns).toEqual([...ns].sort((a, b) => a - b));
    expect(published.map((p) => p.id)).not.toContain(rolledBack);
    // Each event as it was written, whichever way it came.
    const rows = ids.map((id, i) => ({
      id,
      payload: { userId: `k${(i % 2) + 1}`, fields: [String(i)] },
    }));
    expect(published).toEqual(rows);
    // What the relay published from memory is gone from it; only the rolled-back one is left.
    expect(kept.take(rolledBack)).toBeDefined();
    expect(kept.isEmpty).toBe(true);
  });

  it("keeps events' texts only for a broker that reads them", async () => {
    await setup();
    const kept = new RecordedEvents();
    const r = relay('w1', 10_000, 7, { recorded: kept });
    r.start();
    cleanups.push(() => r.stop());
    const late = { id: 'not-written' } as unknown as Parameters<RecordedEvents['add']>[0];
    kept.add(late, '{"id":"not-written"}');
    // The in-process broker hands consumers the event object; NATS and RabbitMQ send the text.
    expect(kept.take('not-written')?.text).toBe(
      broker.kind === 'memory' ? undefined : '{"id":"not-written"}',
    );
  });

  it('hands out events kept while a whole read was on its way', async () => {
    await setup();
    const kept = new RecordedEvents();
    kept.keep();
    const r = relay('w1', 10_000, 10, { recorded: kept });
    const ids = await record(3, ['k1']);
    // Nothing kept: the relay reads whole rows. The event of a row in that read is kept
    // before the read answers (its writer's onRecorded ran late, as under load).
    const reading = r.readBatch();
    const late = { id: ids[1] } as unknown as Parameters<RecordedEvents['add']>[0];
    kept.add(late);
    const rows = await reading;
    expect(rows.map((row) => row.id)).toEqual(ids);
    expect(rows[1]!.event).toBe(late);
    expect(kept.isEmpty).toBe(true);
  });

  it('loses nothing when a relay dies between publishing and deleting', async () => {
    await setup();
    const seen = await consumeOnce();
    const ids = await record(25, ['u1', 'u2']);

    // Relay A takes the lease, publishes its first batch, and dies before deleting it.
    const a = relay('worker-a', 300);
    const lease = new RelayLease({
      db: storage.db,
      name: 'outbox',
      owner: 'worker-a',
      ttlMs: 300,
      clock: Date.now,
    });
    expect(await lease.acquire()).toBe(true);
    const batch = await a.readBatch();
    expect(batch).toHaveLength(10);
    await a.publishBatch(batch);
    // (no deletePublished: the process is gone, its lease still runs)

    // Relay B may not publish while A's lease lasts, then takes over and finishes.
    // Meanwhile B keeps none of the events its process records: A relays them.
    const keptByB = new RecordedEvents();
    keptByB.keep();
    ids.push(...(await record(1, ['u3'], keptByB, 25)));
    expect(keptByB.isEmpty).toBe(false);
    const b = relay('worker-b', 300, 10, { recorded: keptByB });
    expect(await b.relayOnce()).toBe(0);
    expect(keptByB.isEmpty).toBe(true);
    b.start();
    cleanups.push(() => b.stop());
    await waitFor(() => seen.applied.length >= 26, 'every event applied');
    await until(async () => (await remaining()) === 0, 'published rows deleted');
    // NATS drops the re-published batch by msgID; the others deliver it again.
    const deliveries = brokerKind === 'nats' ? 26 : 36;
    await waitFor(() => seen.deliveries >= deliveries, 'every delivery handled');
    await new Promise((r) => setTimeout(r, 200));
    // Each event was applied exactly once although the first batch went out twice.
    expect(seen.applied).toHaveLength(26);
    expect(new Set(seen.applied)).toEqual(new Set(ids));
    expect(seen.deliveries).toBe(deliveries);
  });

  it('deletes published rows in the next group commit, not in a commit of their own', async () => {
    await setup();
    const commit = groupCommitFor(storage.dialect, storage.db);
    if (!commit) return; // MySQL: no group commit, the relay deletes alone (tests above)
    const seen = await consumeOnce();
    await record(5, ['u1']);
    const r = relay('w1', 10_000, 10, {
      deleteWithNextBatch: commit.runWithNextBatch,
      deleteWithinMs: 60_000,
    });
    expect(await r.relayOnce()).toBe(5);
    await waitFor(() => seen.applied.length >= 5, 'events applied');
    // Published, handed over, waiting for a batch: the relay reads on past them.
    expect(await remaining()).toBe(5);
    expect(await r.readBatch()).toEqual([]);
    // A send's batch comes: the deletes commit with it.
    await record(1, ['u2']);
    await commit.run(async (trx) => {
      await trx
        .updateTable('outboxEvents')
        .set({ attempts: 0 })
        .where('position', '<', 0)
        .execute();
    });
    expect(await remaining()).toBe(1);
    await r.stop();
    expect(seen.deliveries).toBe(5);
  });

  it('deletes alone when no group commit comes within deleteWithinMs', async () => {
    await setup();
    const commit = groupCommitFor(storage.dialect, storage.db);
    if (!commit) return;
    await record(3, ['u1']);
    const r = relay('w1', 10_000, 10, {
      deleteWithNextBatch: commit.runWithNextBatch,
      deleteWithinMs: 100,
    });
    expect(await r.relayOnce()).toBe(3);
    expect(await remaining()).toBe(3);
    await until(async () => (await remaining()) === 0, 'published rows deleted');
    // Nothing left: no row is read again.
    expect(await r.readBatch()).toEqual([]);
  });

  it('publishes again what a relay published but died before its deletes committed', async () => {
    await setup();
    const seen = await consumeOnce();
    const ids = await record(6, ['u1', 'u2']);
    // Relay A hands its deletes to a group commit that never comes: the process died.
    const a = relay('worker-a', 300, 10, {
      deleteWithNextBatch: () => new Promise(() => undefined),
    });
    expect(await a.relayOnce()).toBe(6);
    expect(await remaining()).toBe(6);
    const b = relay('worker-b', 300);
    b.start();
    cleanups.push(() => b.stop());
    await until(async () => (await remaining()) === 0, 'rows deleted by the next relay');
    await waitFor(() => seen.applied.length >= 6, 'every event applied');
    // Handled one at a time, each through the store: wait for them all, then for strays.
    const deliveries = brokerKind === 'nats' ? 6 : 12;
    await waitFor(() => seen.deliveries >= deliveries, 'every delivery handled');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(new Set(seen.applied)).toEqual(new Set(ids));
    expect(seen.applied).toHaveLength(6);
    expect(seen.deliveries).toBe(deliveries);
  });

  it('counts failed tries on the head of the outbox, which goes once the broker takes it', async () => {
    await setup();
    const seen = await consumeOnce();
    const ids = await record(4, ['u1']);
    let refusing = true;
    const r = new OutboxRelay({
      db: storage.db,
      publisher: {
        publish: async (topic, events) => {
          if (refusing) throw new Error('broker refuses');
          await broker.publish(topic, events);
        },
        resilientPublish: () => Promise.reject(new Error('not used')),
      },
      lease: new RelayLease({
        db: storage.db,
        name: 'outbox',
        owner: 'w1',
        ttlMs: 10_000,
        clock: Date.now,
      }),
      clock: Date.now,
      logger,
      batchSize: 3,
      pollIntervalMs: 20,
      retryDelayMs: 20,
    });
    r.start();
    cleanups.push(() => r.stop());
    const attempts = async () =>
      (
        await storage.db.selectFrom('outboxEvents').select('attempts').orderBy('position').execute()
      ).map((row) => row.attempts);
    await until(async () => ((await attempts())[0] ?? 0) >= 2, 'failed tries counted');
    // The head batch (three rows) counts them; the row behind it was not tried.
    const counted = await attempts();
    expect(counted.slice(0, 3).every((n) => n >= 2)).toBe(true);
    expect(counted[3]).toBe(0);
    refusing = false;
    await until(async () => (await remaining()) === 0, 'published rows deleted');
    await waitFor(() => seen.applied.length >= 4, 'every event applied');
    expect(new Set(seen.applied)).toEqual(new Set(ids));
  });

  it('lets one of several relays publish at a time, keeping the order per key', async () => {
    await setup();
    const seen = await consumeOnce();
    const relays = ['w1', 'w2', 'w3'].map((owner) => relay(owner, 5_000, 7));
    for (const r of relays) {
      r.start();
      cleanups.push(() => r.stop());
    }
    const ids = await record(40, ['k1', 'k2', 'k3', 'k4']);
    await waitFor(() => seen.applied.length >= 40, 'all applied');
    expect(new Set(seen.applied)).toEqual(new Set(ids));
    for (const [, ns] of seen.perKey) expect(ns).toEqual([...ns].sort((a, b) => a - b));
    const owners = await storage.db.selectFrom('relayLeases').select('owner').execute();
    expect(owners).toHaveLength(1);
  });
});

describe.each(STORAGES)('relay lease on %s', (storageKind) => {
  let storage: Storage;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('renews only past half its term, and nobody takes it before it runs out', async () => {
    const made = testConfig({ storage: storageKind });
    storage = openStorage(made.config, MIGRATIONS);
    cleanups.push(made.cleanup, () => storage.close());
    await storage.migrate();
    let now = 1_000_000;
    const lease = (owner: string) =>
      new RelayLease({ db: storage.db, name: 'outbox', owner, ttlMs: 1_000, clock: () => now });
    const expiresAt = async () =>
      (await storage.db.selectFrom('relayLeases').select('expiresAt').executeTakeFirstOrThrow())
        .expiresAt;
    const a = lease('a');
    const b = lease('b');
    expect(await a.acquire()).toBe(true);
    expect(await expiresAt()).toBe(1_001_000);
    // Within the first half: held without a write.
    now += 499;
    expect(await a.acquire()).toBe(true);
    expect(await expiresAt()).toBe(1_001_000);
    expect(await b.acquire()).toBe(false);
    // Past half: renewed for a full term from now.
    now += 2;
    expect(await a.acquire()).toBe(true);
    expect(await expiresAt()).toBe(1_001_501);
    // Run out (its holder stopped asking): another owner takes it, and the first
    // finds out on its next renewal.
    now += 1_001;
    expect(await b.acquire()).toBe(true);
    expect(await a.acquire()).toBe(false);
    // Given up: the other takes it at once.
    await b.release();
    expect(await a.acquire()).toBe(true);
  });
});
