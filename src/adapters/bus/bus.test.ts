import { describe, expect, it } from 'vitest';
import { TEST_AMQP_URL, TEST_NATS_URL, uniqueName } from '../../../test/support/backends.js';
import { brokerContract, CONTRACT_OPTIONS, testEvent, waitFor } from './bus.contract.js';
import { MemoryBroker } from './memory-broker.js';
import { NatsBroker } from './nats-broker.js';
import { RabbitBroker } from './rabbitmq-broker.js';
import { deleteRabbitNames } from './test-cleanup.js';
import { testNatsOptions } from '../../../test/support/brokers.js';

brokerContract(
  'memory',
  async () => ({
    broker: new MemoryBroker({ prefix: 'test', ...CONTRACT_OPTIONS }),
    cleanup: async () => {},
  }),
  { topicsCanVanish: false },
);

/** A NATS broker's options with a prefix of its own. */
const natsOptions = (overrides: { ackWaitMs?: number } = {}) =>
  testNatsOptions(uniqueName('bt'), overrides);

describe.runIf(TEST_NATS_URL)('nats', () => {
  brokerContract('nats', async () => {
    const options = natsOptions();
    const broker = await NatsBroker.connect(options);
    // A second connection cleans up, since the broker under test may be closed by then.
    return {
      broker,
      breakTopic: (topic) => broker.deleteTopic(topic),
      cleanup: async () => {
        const admin = await NatsBroker.connect(options);
        await admin.deleteEverything();
        await admin.close();
      },
    };
  });

  it('reattaches a consumer whose stream was deleted and receives what follows', async () => {
    const options = natsOptions();
    const broker = await NatsBroker.connect(options);
    try {
      const got: string[] = [];
      await broker.consume(
        { queue: 'survivor', topic: 'domain', types: ['item-created'] },
        async (d) => {
          got.push(d.event.id);
        },
      );
      await broker.deleteTopic('domain');
      const event = testEvent('item-created');
      await broker.resilientPublish('domain', [{ event }]);
      await waitFor(() => got.includes(event.id), 'delivery after the stream came back');
    } finally {
      await broker.deleteEverything();
      await broker.close();
    }
  });

  it('stores an event published twice within the duplicate window once (msgID)', async () => {
    const options = natsOptions();
    const broker = await NatsBroker.connect(options);
    try {
      const got: string[] = [];
      await broker.consume(
        { queue: 'once', topic: 'domain', types: ['item-created'] },
        async (d) => {
          got.push(d.event.id);
        },
      );
      const event = testEvent('item-created');
      const other = testEvent('item-created');
      await broker.publish('domain', [{ event }]);
      await broker.publish('domain', [{ event }, { event: other }]);
      await waitFor(() => got.includes(other.id), 'the other event');
      await new Promise((r) => setTimeout(r, 200));
      expect(got).toEqual([event.id, other.id]);
    } finally {
      await broker.deleteEverything();
      await broker.close();
    }
  });
  it('keeps a handler that outlasts ack_wait from being redelivered while it runs', async () => {
    const options = natsOptions({ ackWaitMs: 1_000 });
    const broker = await NatsBroker.connect(options);
    try {
      const attempts: number[] = [];
      let finished = 0;
      await broker.consume(
        { queue: 'slow', topic: 'domain', types: ['item-created'] },
        async (d) => {
          attempts.push(d.attempt);
          // Three ack deadlines long: without progress reports the server redelivers.
          await new Promise((r) => setTimeout(r, 3_000));
          finished += 1;
        },
      );
      await broker.publish('domain', [{ event: testEvent('item-created') }]);
      await waitFor(() => finished === 1, 'the slow handler to finish', 10_000);
      // Give a redelivery, had there been one, time to arrive and run.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(attempts).toEqual([1]);
    } finally {
      await broker.deleteEverything();
      await broker.close();
    }
  }, 20_000);
});

describe.runIf(TEST_AMQP_URL)('rabbitmq', () => {
  brokerContract('rabbitmq', async () => {
    const broker = await RabbitBroker.connect({
      ...CONTRACT_OPTIONS,
      prefix: uniqueName('bt'),
      url: TEST_AMQP_URL!,
    });
    return {
      broker,
      breakTopic: (topic) => broker.deleteTopic(topic),
      cleanup: () => deleteRabbitNames(TEST_AMQP_URL!, broker.declared),
    };
  });

  it('uses an existing queue declared with other arguments (maxAttempts changed)', async () => {
    const prefix = uniqueName('bt');
    const first = await RabbitBroker.connect({ ...CONTRACT_OPTIONS, prefix, url: TEST_AMQP_URL! });
    const warnings: string[] = [];
    const second = await RabbitBroker.connect({
      ...CONTRACT_OPTIONS,
      maxAttempts: 9,
      prefix,
      url: TEST_AMQP_URL!,
      logger: { warn: (_obj, msg) => void warnings.push(msg), error: () => undefined },
    });
    try {
      const spec = { queue: 'q', topic: 'domain', types: ['item-created'] };
      await (await first.consume(spec, async () => {})).stop();
      const got: string[] = [];
      await second.consume(spec, async (d) => void got.push(d.event.id));
      const event = testEvent('item-created');
      await second.publish('domain', [{ event }]);
      await waitFor(() => got.includes(event.id), 'delivery through the existing queue');
      expect(warnings).toContain('queue exists with other arguments; using it as it is');
    } finally {
      await first.close();
      await second.close();
      await deleteRabbitNames(TEST_AMQP_URL!, first.declared);
    }
  });
});
