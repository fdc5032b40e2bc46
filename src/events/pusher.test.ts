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

  async function setup() {
    ({ broker, cleanup } = await openTestBroker(kind));
    const failures: string[] = [];
    const pusher = new Pusher<DemoMap>({
      publisher: broker,
      topic: 'demo',
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
    expect(got[0]!.key).toBe(one.id);
    expect(got.slice(1).every((d) => d.key === 'k')).toBe(true);
    await expect(pusher.send('demo.ping', { n: 6 })).rejects.toBeInstanceOf(BrokerClosedError);
  });

  it('counts a failed sendAsync instead of throwing', async () => {
    const { pusher, failures } = await setup();
    await broker.close();
    expect(() => pusher.sendAsync('demo.ping', { n: 1 })).not.toThrow();
    await pusher.close();
    expect(failures).toEqual(['demo']);
  });
});
