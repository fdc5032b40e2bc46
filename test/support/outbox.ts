import type { Kysely } from 'kysely';
import type { Publisher } from '../../src/adapters/bus/bus.js';
import type { Database } from '../../src/adapters/storage/schema.js';
import { OutboxRelay, type OutboxRelayDeps } from '../../src/events/outbox-relay.js';
import { RelayLease } from '../../src/events/relay-lease.js';
import { createLogger } from '../../src/shared/logger.js';

/**
 * A relay of `db`'s outbox to `publisher` as tests run it: its own lease as `w1`,
 * batches of 10 polled every 20 ms, silent; `deps` overrides any of that.
 */
export function testRelay(
  db: Kysely<Database>,
  publisher: Publisher,
  deps: Partial<OutboxRelayDeps> = {},
): OutboxRelay {
  return new OutboxRelay({
    db,
    publisher,
    lease: new RelayLease({ db, name: 'outbox', owner: 'w1', ttlMs: 10_000, clock: Date.now }),
    clock: Date.now,
    logger: createLogger({ level: 'silent', nodeId: 'test' }),
    batchSize: 10,
    pollIntervalMs: 20,
    retryDelayMs: 20,
    ...deps,
  });
}
