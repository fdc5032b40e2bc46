import type { App } from '../../src/app/create-app.js';
import type { EventMessage } from '../../src/adapters/bus/event-message.js';
import { DomainEventSchemas } from '../../src/catalogue/domain-events.js';
import { DOMAIN_TOPIC } from '../../src/events/outbox-relay.js';

/**
 * What a test app's outbox relay published, as a consumer of the domain topic sees
 * it. The relay deletes each outbox row once published, so tests read the events
 * here, where a missing one stays missing, rather than from the table.
 */
const published = new WeakMap<App, Array<{ event: EventMessage; key: string }>>();

/** Subscribes to every domain event of `app` (startTestApp does it before the app starts). */
export async function recordPublishedEvents(app: App): Promise<void> {
  const seen: Array<{ event: EventMessage; key: string }> = [];
  published.set(app, seen);
  await app.broker.subscribe(
    { topic: DOMAIN_TOPIC, types: Object.keys(DomainEventSchemas) },
    async ({ event, key }) => {
      seen.push({ event, key });
    },
  );
}

export interface PublishedEvent {
  id: string;
  type: string;
  partitionKey: string;
  payload: Record<string, unknown>;
  /** The whole envelope, as consumers got it. */
  event: EventMessage;
}

/**
 * The domain events of the given types (all without), in the order published, once
 * the relay published everything recorded so far (the outbox is empty). Each event
 * once: a republished one (the relay's at-least-once) counts as the event it is.
 */
export async function publishedEvents(app: App, ...types: string[]): Promise<PublishedEvent[]> {
  const seen = published.get(app);
  if (!seen) throw new Error('not a test app: no recorder on its domain topic');
  // The in-process broker hands subscribers each event inside publish, before the
  // relay deletes its row: an empty outbox means every event has been seen.
  if (app.broker.kind !== 'memory') throw new Error('publishedEvents needs the in-process broker');
  await outboxDrained(app);
  const ids = new Set<string>();
  const out: PublishedEvent[] = [];
  for (const { event, key } of seen) {
    if (ids.has(event.id) || (types.length > 0 && !types.includes(event.type))) continue;
    ids.add(event.id);
    out.push({
      id: event.id,
      type: event.type,
      // The relay publishes each event under its outbox row's partition key.
      partitionKey: key,
      payload: event.payload as Record<string, unknown>,
      event,
    });
  }
  return out;
}

async function outboxDrained(app: App): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    app.events.relay.nudge();
    const left = await app.storage.db.selectFrom('outboxEvents').select('id').execute();
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${left.length} outbox events not published`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
