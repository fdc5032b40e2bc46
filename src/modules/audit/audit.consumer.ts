import type { Kysely } from 'kysely';
import type { Consumer, Delivery, Subscription } from '../../adapters/bus/bus.js';
import type { Database } from '../../adapters/storage/schema.js';
import type { Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import type { AuditRepository } from './audit.repository.js';
import { LOG_TOPIC, type LogEventMap } from './log.events.js';
import { DOMAIN_TOPIC } from '../../events/outbox-relay.js';
import type { ProcessedEvents } from '../../events/processed-events.js';
import { EventTopic, type TypedEvent } from '../../events/typed-events.js';
import { AUDITED_DOMAIN_TYPES, toUserAction } from './user-action-map.js';

/** Queue of the consumer turning domain events into user-action audit rows. */
export const USER_ACTION_QUEUE = 'log.user_action';
/** Queue of the consumer writing `log.*` events (API errors, explicit actions). */
export const LOG_QUEUE = 'log.audit';

/** What the log consumers take (also listed in docs/events.md). */
export const AUDIT_CONSUMER_SPECS = {
  userActions: { queue: USER_ACTION_QUEUE, topic: DOMAIN_TOPIC, types: AUDITED_DOMAIN_TYPES },
  logRecords: { queue: LOG_QUEUE, topic: LOG_TOPIC, types: ['log.api_error', 'log.user_action'] },
} as const;

/**
 * The log consumers: `log.user_action` maps domain events (register, login,
 * friend and group changes; see user-action-map.ts) to audit rows, and
 * `log.audit` stores `log.api_error` and `log.user_action` events. Each row and
 * its processed-event mark are one transaction, so redelivery adds nothing.
 */
export class AuditConsumers {
  constructor(
    private readonly deps: {
      bus: Consumer;
      db: Kysely<Database>;
      audit: AuditRepository;
      processed: ProcessedEvents;
      clock: Clock;
    },
  ) {}

  /** `logRecords: false` leaves the log topic to another consumer (`bus.topics.log.consume`). */
  async start({ logRecords = true } = {}): Promise<Subscription[]> {
    const { bus } = this.deps;
    return [
      await bus.consume(AUDIT_CONSUMER_SPECS.userActions, (d) => this.onDomainEvent(d)),
      ...(logRecords
        ? [
            await new EventTopic<LogEventMap>(LOG_TOPIC).consume(
              bus,
              AUDIT_CONSUMER_SPECS.logRecords,
              (event) => this.onLogEvent(event),
            ),
          ]
        : []),
    ];
  }

  private async onDomainEvent({ event }: Delivery): Promise<void> {
    const action = toUserAction(event.type, event.payload);
    if (!action) return;
    await this.deps.processed.once(USER_ACTION_QUEUE, event.id, (trx) =>
      this.deps.audit.insert(trx, {
        id: newId(),
        eventId: event.id,
        kind: 'user_action',
        action: action.action,
        userId: action.userId,
        targetId: action.targetId ?? null,
        detail: { type: event.type, ...(action.detail ?? {}) },
        requestId: event.metadata.traceId ?? null,
        method: null,
        path: null,
        status: null,
        code: null,
        source: event.metadata.source,
        occurredAt: event.timestamp,
        recordedAt: this.deps.clock(),
      }),
    );
  }

  private async onLogEvent(event: TypedEvent<LogEventMap>): Promise<void> {
    const base = {
      id: newId(),
      eventId: event.id,
      source: event.metadata.source,
      occurredAt: event.timestamp,
      recordedAt: this.deps.clock(),
    };
    await this.deps.processed.once(LOG_QUEUE, event.id, async (trx) => {
      if (event.type === 'log.api_error') {
        const p = event.payload;
        await this.deps.audit.insert(trx, {
          ...base,
          kind: 'api_error',
          action: 'api_error',
          userId: p.userId ?? null,
          targetId: null,
          detail: { message: p.message, ...(p.route ? { route: p.route } : {}) },
          // Empty and zero are "not known" (a Go producer's protobuf leaves them unset).
          requestId: p.requestId || null,
          method: p.method,
          path: p.path,
          status: p.status || null,
          code: p.code || null,
        });
      } else {
        const p = event.payload;
        await this.deps.audit.insert(trx, {
          ...base,
          kind: 'user_action',
          action: p.action,
          userId: p.userId,
          targetId: p.targetId ?? null,
          detail: p.detail,
          requestId: p.requestId ?? null,
          method: null,
          path: null,
          status: null,
          code: null,
        });
      }
    });
  }
}
