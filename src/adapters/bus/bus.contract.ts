import { afterEach, describe, expect, it } from 'vitest';
import type { EventMessage } from './event-message.js';
import { newId } from '../../shared/ids.js';
import { BrokerClosedError, type Broker, type BrokerOptions, type Delivery } from './bus.js';

/** What a contract run needs from one adapter. */
export interface OpenedBroker {
  broker: Broker;
  /** Deletes everything the broker created on the server. */
  cleanup(): Promise<void>;
  /** Makes the topic's server-side structures vanish (stream, exchange) to test recovery. */
  breakTopic?(topic: string): Promise<void>;
}

/** What a contract handler throws to stand for a dependency outage (the database down). */
export class TestOutage extends Error {}

export const CONTRACT_OPTIONS: Omit<BrokerOptions, 'prefix'> = {
  maxAttempts: 3,
  retry: { initialMs: 20, maxMs: 200 },
  isTransient: (err) => err instanceof TestOutage,
};

export function testEvent(type: string, payload: unknown = {}): EventMessage {
  return {
    id: newId(),
    type,
    aggregate: 'system',
    timestamp: Date.now(),
    payload,
    metadata: { source: 'contract-test', version: 1 },
  };
}

export async function waitFor(
  check: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The behaviour every Broker must have. Run by bus.test.ts for the in-process
 * broker and, when TEST_NATS_URL / TEST_AMQP_URL are set, for NATS and RabbitMQ.
 * Every test opens a broker with a prefix of its own, so runs do not collide.
 */
export function brokerContract(
  name: string,
  open: () => Promise<OpenedBroker>,
  capabilities: { topicsCanVanish: boolean } = { topicsCanVanish: true },
): void {
  describe(`Broker contract: ${name}`, () => {
    let opened: OpenedBroker | undefined;
    afterEach(async () => {
      await opened?.broker.close();
      await opened?.cleanup();
      opened = undefined;
    });
    const start = async () => {
      opened = await open();
      return opened.broker;
    };

    it('hands an ordered queue one event at a time, in publish order, across competing consumers', async () => {
      const broker = await start();
      const started: number[] = [];
      let running = 0;
      let maxRunning = 0;
      const handler = async (d: Delivery) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        started.push((d.event.payload as { n: number }).n);
        await sleep(Math.random() * 10);
        running -= 1;
      };
      const spec = {
        queue: 'ordered',
        topic: 'jobs',
        types: ['job-queued'],
        ordered: true,
        concurrency: 4,
      };
      await broker.consume(spec, handler);
      await broker.consume(spec, handler);
      await broker.publish(
        'jobs',
        Array.from({ length: 20 }, (_, n) => ({ event: testEvent('job-queued', { n }) })),
      );
      await waitFor(() => started.length === 20, 'ordered deliveries');
      expect(started).toEqual(Array.from({ length: 20 }, (_, n) => n));
      expect(maxRunning).toBe(1);
    });

    it('delivers the types a queue asked for, in publish order, with key and attempt', async () => {
      const broker = await start();
      const got: Delivery[] = [];
      await broker.consume(
        { queue: 'orders', topic: 'domain', types: ['item-created', 'item-updated'] },
        async (d) => {
          got.push(d);
        },
      );
      const events = Array.from({ length: 30 }, (_, i) =>
        testEvent(['item-created', 'item-updated', 'item-ignored'][i % 3]!, { n: i }),
      );
      await broker.publish(
        'domain',
        events.map((event) => ({ event, key: 'item-1' })),
      );
      const wanted = events.filter((e) => e.type !== 'item-ignored');
      await waitFor(() => got.length >= wanted.length, 'deliveries');
      await sleep(50);
      expect(got.map((d) => d.event)).toEqual(wanted);
      expect(got.every((d) => d.key === 'item-1' && d.attempt === 1 && d.topic === 'domain')).toBe(
        true,
      );
    });

    it('skips the events a queue does not accept, keeping the order of those it does', async () => {
      const broker = await start();
      const got: number[] = [];
      await broker.consume(
        {
          queue: 'notices',
          topic: 'domain',
          types: ['item-created'],
          ordered: true,
          accept: (event) => (event.payload as { n: number }).n % 3 === 0,
        },
        async (d) => {
          got.push((d.event.payload as { n: number }).n);
        },
      );
      await broker.publish(
        'domain',
        Array.from({ length: 30 }, (_, n) => ({ event: testEvent('item-created', { n }) })),
      );
      const wanted = Array.from({ length: 10 }, (_, i) => i * 3);
      await waitFor(() => got.length >= wanted.length, 'accepted deliveries');
      await sleep(50);
      expect(got).toEqual(wanted);
    });

    it('keeps events for a queue while nothing consumes it', async () => {
      const broker = await start();
      const spec = { queue: 'later', topic: 'domain', types: ['item-created'] };
      const first = await broker.consume(spec, async () => {});
      await first.stop();
      const events = Array.from({ length: 5 }, () => testEvent('item-created'));
      await broker.publish(
        'domain',
        events.map((event) => ({ event })),
      );
      const got: string[] = [];
      await broker.consume(spec, async (d) => {
        got.push(d.event.id);
      });
      await waitFor(() => got.length >= 5, 'stored deliveries');
      expect(got).toEqual(events.map((e) => e.id));
    });

    it('gives each queue its own copy and shares a queue between its consumers', async () => {
      const broker = await start();
      const audit: string[] = [];
      const workers: string[][] = [[], []];
      const types = ['item-created'];
      await broker.consume({ queue: 'audit', topic: 'domain', types }, async (d) => {
        audit.push(d.event.id);
      });
      for (const list of workers) {
        await broker.consume({ queue: 'work', topic: 'domain', types }, async (d) => {
          list.push(d.event.id);
          await sleep(2);
        });
      }
      const events = Array.from({ length: 20 }, () => testEvent('item-created'));
      await broker.publish(
        'domain',
        events.map((event) => ({ event })),
      );
      await waitFor(() => audit.length >= 20 && workers.flat().length >= 20, 'both queues');
      await sleep(100);
      expect(audit).toHaveLength(20);
      const shared = workers.flat();
      expect(shared).toHaveLength(20);
      expect(new Set(shared)).toEqual(new Set(events.map((e) => e.id)));
    });

    it('retries a failing handler with backoff and acknowledges once it succeeds', async () => {
      const broker = await start();
      const attempts: number[] = [];
      const event = testEvent('item-created');
      await broker.consume(
        { queue: 'flaky', topic: 'domain', types: ['item-created'] },
        async (d) => {
          attempts.push(d.attempt);
          if (d.attempt < 3) throw new Error(`try ${d.attempt} fails`);
        },
      );
      await broker.publish('domain', [{ event }]);
      await waitFor(() => attempts.length >= 3, 'three attempts');
      await sleep(300);
      expect(attempts).toEqual([1, 2, 3]);
      expect(await broker.takeDeadLetters('flaky', 10)).toEqual([]);
    });

    it('dead-letters a poison event after maxAttempts without holding up the others', async () => {
      const broker = await start();
      const log: string[] = [];
      const poison = testEvent('item-created', { poison: true });
      const good = Array.from({ length: 10 }, (_, i) => testEvent('item-created', { n: i }));
      await broker.consume(
        { queue: 'mixed', topic: 'domain', types: ['item-created'] },
        async (d) => {
          log.push(`${d.event.id}#${d.attempt}`);
          if (d.event.id === poison.id) throw new Error('cannot handle this one');
        },
      );
      await broker.publish(
        'domain',
        [poison, ...good].map((event) => ({ event })),
      );
      await waitFor(() => log.includes(`${poison.id}#3`), 'last poison attempt');
      await waitFor(() => good.every((g) => log.includes(`${g.id}#1`)), 'good events');
      // The good events were handled while the poison one waited for its retry.
      expect(log.indexOf(`${good[0]!.id}#1`)).toBeLessThan(log.indexOf(`${poison.id}#2`));
      // Dead-lettering may lag the last attempt by a broker round trip.
      let dead: Awaited<ReturnType<Broker['takeDeadLetters']>> = [];
      for (let i = 0; i < 100 && dead.length === 0; i += 1) {
        dead = await broker.takeDeadLetters('mixed', 10);
        if (dead.length === 0) await sleep(50);
      }
      expect(dead).toHaveLength(1);
      expect(dead[0]!.event).toEqual(poison);
      expect(dead[0]!.reason).not.toBe('');
      await sleep(200);
      expect(log.filter((l) => l.startsWith(poison.id))).toHaveLength(3);
      expect(await broker.takeDeadLetters('mixed', 10)).toEqual([]);
    });

    it('waits out an outage past maxAttempts instead of dead-lettering', async () => {
      const broker = await start();
      const attempts: number[] = [];
      const event = testEvent('item-created');
      await broker.consume(
        { queue: 'outage', topic: 'domain', types: ['item-created'] },
        async (d) => {
          attempts.push(d.attempt);
          if (attempts.length <= 5) throw new TestOutage('database unreachable');
        },
      );
      await broker.publish('domain', [{ event }]);
      await waitFor(() => attempts.length >= 6, 'the try after the outage');
      await sleep(300);
      expect(attempts).toHaveLength(6);
      expect(await broker.takeDeadLetters('outage', 10)).toEqual([]);
    });

    it('replays dead letters to their queue for a fresh set of attempts', async () => {
      const broker = await start();
      let broken = true;
      const log: string[] = [];
      await broker.consume(
        { queue: 'mended', topic: 'domain', types: ['item-created'] },
        async (d) => {
          log.push(`${d.event.id}#${d.attempt}`);
          if (broken) throw new Error('not yet');
        },
      );
      const event = testEvent('item-created', { n: 1 });
      await broker.publish('domain', [{ event, key: 'k1' }]);
      await waitFor(() => log.includes(`${event.id}#3`), 'last attempt');
      broken = false;
      // Dead-lettering may lag the last attempt by a broker round trip.
      let replayed: Awaited<ReturnType<Broker['replayDeadLetters']>> = [];
      for (let i = 0; i < 100 && replayed.length === 0; i += 1) {
        replayed = await broker.replayDeadLetters('mended', 10);
        if (replayed.length === 0) await sleep(50);
      }
      expect(replayed).toHaveLength(1);
      expect(replayed[0]!.event).toEqual(event);
      expect(replayed[0]!.key).toBe('k1');
      expect(replayed[0]!.reason).toContain('not yet');
      await waitFor(() => log.length === 4, 'the replayed delivery');
      expect(log[3]).toBe(`${event.id}#1`);
      await sleep(200);
      expect(log).toHaveLength(4);
      expect(await broker.takeDeadLetters('mended', 10)).toEqual([]);
      expect(await broker.replayDeadLetters('mended', 10)).toEqual([]);
    });

    it('runs up to `concurrency` handlers at once', async () => {
      const broker = await start();
      let running = 0;
      let peak = 0;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      await broker.consume(
        { queue: 'parallel', topic: 'domain', types: ['item-created'], concurrency: 4 },
        async () => {
          running += 1;
          peak = Math.max(peak, running);
          if (peak >= 4) release();
          await gate;
          running -= 1;
        },
      );
      await broker.publish(
        'domain',
        Array.from({ length: 8 }, () => ({ event: testEvent('item-created') })),
      );
      await waitFor(() => peak >= 4, 'four handlers at once');
      expect(peak).toBe(4);
    });

    it('fans live events out to every subscriber of their types', async () => {
      const broker = await start();
      const a: string[] = [];
      const b: string[] = [];
      await broker.subscribe({ topic: 'domain', types: ['user-disabled'] }, async (d) => {
        a.push(d.event.type);
      });
      const subB = await broker.subscribe(
        { topic: 'domain', types: ['user-disabled', 'user-created'] },
        async (d) => void b.push(d.event.type),
      );
      await broker.publish('domain', [
        { event: testEvent('user-created') },
        { event: testEvent('user-disabled') },
      ]);
      await waitFor(() => a.length >= 1 && b.length >= 2, 'fan-out');
      await subB.stop();
      await broker.publish('domain', [{ event: testEvent('user-disabled') }]);
      await waitFor(() => a.length >= 2, 'second fan-out');
      await sleep(100);
      expect(a).toEqual(['user-disabled', 'user-disabled']);
      expect(b).toEqual(['user-created', 'user-disabled']);
    });

    it('refuses to publish once closed, resilient or not', async () => {
      const broker = await start();
      await broker.publish('domain', [{ event: testEvent('item-created') }]);
      await broker.close();
      await expect(
        broker.publish('domain', [{ event: testEvent('item-created') }]),
      ).rejects.toBeInstanceOf(BrokerClosedError);
      await expect(
        broker.resilientPublish('domain', [{ event: testEvent('item-created') }]),
      ).rejects.toBeInstanceOf(BrokerClosedError);
    });

    // The in-process broker has no server-side structures that could vanish.
    const itIfServer = capabilities.topicsCanVanish ? it : () => undefined;
    itIfServer('resilientPublish recovers when the topic vanished on the server', async () => {
      const broker = await start();
      await broker.publish('domain', [{ event: testEvent('item-created') }]);
      await opened!.breakTopic!('domain');
      await broker.resilientPublish('domain', [{ event: testEvent('item-created') }]);
      const got: string[] = [];
      await broker.consume(
        { queue: 'after', topic: 'domain', types: ['item-created'] },
        async (d) => {
          got.push(d.event.id);
        },
      );
      const event = testEvent('item-created');
      await broker.publish('domain', [{ event }]);
      await waitFor(() => got.includes(event.id), 'delivery after recovery');
    });
  });
}
