import type { Static, TSchema } from 'typebox';
import { SocialEventSchemas } from '../modules/social/social.events.js';
import { ImEventSchemas } from '../modules/im/im.events.js';
import { UserEventSchemas } from '../modules/user/user.events.js';
import type { EventAggregate } from '../adapters/bus/event-message.js';

/**
 * Every domain event type with its payload schema and aggregate. Modules declare
 * their own table of events; this is the one place that joins them, so that
 * `EventRecorder.record()` is type-checked and the catalogue can be generated.
 */
export const DomainEventSchemas = {
  ...UserEventSchemas,
  ...SocialEventSchemas,
  ...ImEventSchemas,
} as const satisfies Record<string, { aggregate: EventAggregate; payload: TSchema }>;

export type DomainEventType = keyof typeof DomainEventSchemas;

export type DomainEventMap = {
  [K in DomainEventType]: Static<(typeof DomainEventSchemas)[K]['payload']>;
};
