import type { DomainEventAggregates } from '../events/domain-events.js';
import { ImEventSchemas } from '../modules/im/im.events.js';
import { SocialEventSchemas } from '../modules/social/social.events.js';
import { UserEventSchemas } from '../modules/user/user.events.js';

/**
 * Every module's domain events, joined at run time: the recorder reads the
 * aggregates, the catalogue (docs/events.md) the schemas. `satisfies` fails the
 * build when a module adds events to DomainEventMap without listing its table here.
 */
export const DomainEventSchemas = {
  ...UserEventSchemas,
  ...SocialEventSchemas,
  ...ImEventSchemas,
} as const satisfies DomainEventAggregates;
