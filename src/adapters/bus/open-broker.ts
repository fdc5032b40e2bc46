import type { Config } from '../../config/config.schema.js';
import type { Broker } from './bus.js';
import type { WireFormats } from './codec.js';
import type { BusLogger, BusObserver } from './delivery-runner.js';
import { MemoryBroker } from './memory-broker.js';

/**
 * Chooses and connects the Broker implementation from `bus.driver`. `formats` are
 * the topics' names and codecs (`bus.topics`, joined in src/catalogue/topic-formats.ts).
 * A broker's client library is loaded only when it is the one chosen (as in
 * src/shared/load-when-used.ts).
 */
export async function openBroker(
  config: Config,
  deps: {
    logger?: BusLogger;
    observer?: BusObserver;
    isTransient?: (err: unknown) => boolean;
    formats?: WireFormats;
  } = {},
): Promise<Broker> {
  const { bus } = config;
  const base = {
    prefix: bus.prefix,
    maxAttempts: bus.maxAttempts,
    retry: bus.retry,
    logger: deps.logger,
    observer: deps.observer,
    isTransient: deps.isTransient,
    formats: deps.formats,
  };
  switch (bus.driver) {
    case 'memory':
      return new MemoryBroker(base);
    case 'nats': {
      const { NatsBroker } = await import('./nats-broker.js');
      return NatsBroker.connect({
        ...base,
        url: bus.nats.url,
        replicas: bus.nats.replicas,
        duplicateWindowMs: bus.nats.duplicateWindowSec * 1000,
        ackWaitMs: bus.nats.ackWaitSec * 1000,
        maxAgeMs: bus.nats.maxAgeHours * 3_600_000,
      });
    }
    case 'rabbitmq': {
      const { RabbitBroker } = await import('./rabbitmq-broker.js');
      return RabbitBroker.connect({ ...base, url: bus.rabbitmq.url });
    }
  }
}
