import { CONTRACT_OPTIONS } from '../../src/adapters/bus/bus.contract.js';
import type { Broker } from '../../src/adapters/bus/bus.js';
import { MemoryBroker } from '../../src/adapters/bus/memory-broker.js';
import { NatsBroker } from '../../src/adapters/bus/nats-broker.js';
import { RabbitBroker } from '../../src/adapters/bus/rabbitmq-broker.js';
import { deleteRabbitNames } from '../../src/adapters/bus/test-cleanup.js';
import { TEST_AMQP_URL, TEST_NATS_URL, uniqueName } from './backends.js';

export type BrokerKind = 'memory' | 'nats' | 'rabbitmq';

/** The in-process broker always; NATS and RabbitMQ when their URLs are set. */
export const BROKERS: BrokerKind[] = [
  'memory',
  ...(TEST_NATS_URL ? ['nats' as const] : []),
  ...(TEST_AMQP_URL ? ['rabbitmq' as const] : []),
];

/** Config overrides selecting a broker with a prefix of its own (for startTestApp). */
export function busOverrides(kind: BrokerKind) {
  return {
    bus: {
      driver: kind,
      prefix: uniqueName('ta'),
      ...(TEST_NATS_URL ? { nats: { url: TEST_NATS_URL } } : {}),
      ...(TEST_AMQP_URL ? { rabbitmq: { url: TEST_AMQP_URL } } : {}),
    },
  };
}

/** Options of a NATS broker on the test server under `prefix`. */
export function testNatsOptions(prefix: string, overrides: { ackWaitMs?: number } = {}) {
  return {
    ...CONTRACT_OPTIONS,
    prefix,
    url: TEST_NATS_URL!,
    replicas: 1,
    duplicateWindowMs: 60_000,
    ackWaitMs: 5_000,
    maxAgeMs: 3_600_000,
    ...overrides,
  };
}

/** A broker of `kind` with a unique prefix, and a cleanup that deletes what it created. */
export async function openTestBroker(
  kind: BrokerKind,
  prefix = uniqueName('tb'),
): Promise<{ broker: Broker; cleanup: () => Promise<void> }> {
  if (kind === 'memory') {
    return { broker: new MemoryBroker({ prefix, ...CONTRACT_OPTIONS }), cleanup: async () => {} };
  }
  if (kind === 'nats') {
    const options = testNatsOptions(prefix);
    return {
      broker: await NatsBroker.connect(options),
      cleanup: async () => {
        const admin = await NatsBroker.connect(options);
        await admin.deleteEverything();
        await admin.close();
      },
    };
  }
  const broker = await RabbitBroker.connect({ ...CONTRACT_OPTIONS, prefix, url: TEST_AMQP_URL! });
  return { broker, cleanup: () => deleteRabbitNames(TEST_AMQP_URL!, broker.declared) };
}

/** Deletes the streams, exchanges and queues an app's broker created (after app.stop()). */
export async function cleanupAppBroker(app: {
  broker: Broker;
  config: { bus: { prefix: string } };
}) {
  if (app.broker instanceof RabbitBroker) {
    await deleteRabbitNames(TEST_AMQP_URL!, app.broker.declared);
  } else if (app.broker instanceof NatsBroker) {
    const admin = await NatsBroker.connect(testNatsOptions(app.config.bus.prefix));
    await admin.deleteEverything();
    await admin.close();
  }
}
