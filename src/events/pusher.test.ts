import { afterEach, describe, expect, it } from 'vitest';
import { BROKERS, openTestBroker } from '../../test/support/brokers.js';
import { waitFor } from '../adapters/bus/bus.contract.js';
import { BrokerClosedError, type Broker, type Delivery } from '../adapters/bus/bus.js';
import { createLogger } from '../shared/logger.js';
import { Pusher } from './pusher.js';

const logger = createLogger({ level: 'silent', nodeId: 'test' });

type DemoMap = { 'demo.ping': { n: number }; 'demo.note': { text: string } };

describe.each(BROKERS)('Pusher on the %s broker', (kind) => {
  let broker: Broker;
  let cleanup: () => Promise<void>;
  afterEach(async () => {
    await broker.close();
    await cleanup();
  });

  async function setup(topicName?: string) {
    ({ broker, cleanup } = await openTestBroker(kind));
    const failures: string[] = [];
    const pusher = new Pusher<DemoMap>({
      publisher: broker,
      topic: 'demo',
      topicName,
      source: 'test',
      aggregate: 'system',
      clock: Date.now,
      logger,
      onAsyncFailure: (topic) => void failures.push(topic),
    });
    const got: Delivery[] = [];
    await broker.consume(
      { queue: 'demo', topic: 'demo', types: ['demo.ping', 'demo.note'] },
      async (d) => {
        got.push(d);
      },
    );
    return { pusher, got, failures };
  }

  it('sends, sends with a key, in batches and asynchronously, building the envelope', async () => {
    const { pusher, got } = await setup();
    const one = await pusher.send('demo.ping', { n: 1 });
    expect(one).toMatchObject({
      type: 'demo.ping',
      aggregate: 'system',
      payload: { n: 1 },
      metadata: { source: 'test', version: 1 },
    });
    await pusher.sendWithKey('k', 'demo.ping', { n: 2 });
    await pusher.sendBatch([
      { type: 'demo.ping', payload: { n: 3 }, key: 'k' },
      { type: 'demo.note', payload: { text: 'four' }, key: 'k' },
    ]);
    pusher.sendAsync('demo.ping', { n: 5 }, 'k');
    await pusher.close();
    await waitFor(() => got.length >= 5, 'five deliveries');
    expect(got.map((d) => d.event.payload)).toEqual([
      { n: 1 },
      { n: 2 },
      { n: 3 },
      { text: 'four' },
      { n: 5 },
    ]);
    // Keys are `{topic}:{key}` as the Go system's formatKey builds them; the type by default.
    expect(got[0]!.key).toBe('demo:demo.ping');
    expect(got.slice(1).map((d) => d.key)).toEqual(['demo:k', 'demo:k', 'demo:k', 'demo:k']);
    await expect(pusher.send('demo.ping', { n: 6 })).rejects.toBeInstanceOf(BrokerClosedError);
  });

  it("starts every key with the topic's name on the broker when it has one", async () => {
    const { pusher, got } = await setup('demo_topic');
    await pusher.send('demo.note', { text: 'one' });
    pusher.sendAsync('demo.ping', { n: 2 });
    await pusher.sendBatch([{ type: 'demo.ping', payload: { n: 3 } }]);
    await waitFor(() => got.length >= 3, 'three deliveries');
    expect(got.map((d) => d.key)).toEqual([
      'demo_topic:demo.note',
      'demo_topic:demo.ping',
      'demo_topic:demo.ping',
    ]);
  });

  it('counts a failed sendAsync instead of throwing', async () => {
    const { pusher, failures } = await setup();
    await broker.close();
    expect(() => pusher.sendAsync('demo.ping', { n: 1 })).not.toThrow();
    await pusher.close();
    expect(failures).toEqual(['demo']);
  });
});
