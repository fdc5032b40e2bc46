import type { Static, TSchema } from 'typebox';
import type { EventAggregate } from '../adapters/bus/event-message.js';
import { DOMAIN_TOPIC } from './outbox-relay.js';
import { EventTopic } from './typed-events.js';

/** How a module declares its domain events: type → aggregate and payload schema. */
export type EventSchemaTable = Record<string, { aggregate: EventAggregate; payload: TSchema }>;

/** The payload type of every event in a module's table. */
export type PayloadsOf<T extends EventSchemaTable> = { [K in keyof T]: Static<T[K]['payload']> };

/**
 * Every domain event type with its payload type. It is empty here: each module
 * adds its table by augmenting this interface in its `<module>.events.ts`
 *
 * ```ts
 * declare module '../../events/domain-events.js' {
 *   interface DomainEventMap extends PayloadsOf<typeof UserEventSchemas> {}
 * }
 * ```
 *
 * so `EventRecorder.record()` and typed consumers (`DomainTopic.consume`) are checked
 * against every module's events while this layer imports none of them. The
 * run-time table (aggregates, schemas for the catalogue) is joined in
 * src/catalogue/domain-events.ts, which the compiler holds to this map.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by module augmentation
export interface DomainEventMap {}

export type DomainEventType = keyof DomainEventMap;

/** The aggregate of each event type, as the recorder needs it at run time. */
export type DomainEventAggregates = { [K in DomainEventType]: { aggregate: EventAggregate } };

/** The domain topic with its map: consumers get each event's payload typed by its type. */
export const DomainTopic = new EventTopic<DomainEventMap>(DOMAIN_TOPIC);
