import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { TSchema } from 'typebox';
import { insertedRows, skipExisting } from '../../adapters/storage/portable.js';
import type { Database } from '../../adapters/storage/schema.js';
import { AppError, isAppError } from '../../errors/app-error.js';
import type { Clock } from '../../shared/clock.js';
import { closeObjects, describeSchemaError } from '../../shared/closed-schema.js';
import { compileInput } from '../../shared/input-schema.js';
import { EventErrors } from '../../events/event.errors.js';
import type { EventMetrics } from '../../events/event-metrics.js';
import type {
  HandleOutcome,
  IngestContext,
  IngestHandler,
  IngestMessage,
  IngestRegistry,
} from './ingest.registry.js';
import { verifySignature } from './ingest.signature.js';

/** A sender allowed to POST /v1/events (config `ingest.sources`). */
export interface IngestSource {
  secret: string;
  /** Event types it may send; `*` allows every registered type. */
  types: readonly string[];
}

/** The seed's event envelope as it arrives (validated by the route schema). */
export interface IngestEnvelope {
  event_id?: string;
  event_type: string;
  /** RFC 3339 date-time, or epoch milliseconds. */
  timestamp: string | number;
  payload: unknown;
  metadata: { source: string; version: string | number };
}

export interface IngestResult {
  eventId: string;
  type: string;
  result: unknown;
}

/**
 * Accepts signed events from other systems: checks the sender's HMAC, the
 * timestamp window and the event id against replays, then runs the typed handler
 * registered for the type through its hooks.
 */
export class IngestService {
  private readonly validators = new Map<TSchema, ReturnType<typeof compileInput>>();

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      registry: IngestRegistry;
      sources: Readonly<Record<string, IngestSource>>;
      toleranceMs: number;
      clock: Clock;
      metrics?: EventMetrics;
    },
  ) {}

  /**
   * Names the source whose secret signed `rawBody`; throws 401 / 500001 when the
   * source is unknown or the signature does not match (without saying which).
   */
  authenticate(rawBody: string, body: unknown, signature: string | undefined): string {
    const source = (body as { metadata?: { source?: unknown } } | null)?.metadata?.source;
    const known =
      typeof source === 'string' && Object.hasOwn(this.deps.sources, source)
        ? this.deps.sources[source]
        : undefined;
    if (!known || !verifySignature(known.secret, rawBody, signature)) {
      this.deps.metrics?.ingested.inc({ type: 'unknown', outcome: 'unauthenticated' });
      throw new AppError(EventErrors.signatureInvalid);
    }
    return source as string;
  }

  async ingest(
    envelope: IngestEnvelope,
    source: string,
    rawBody: string,
    context: IngestContext,
  ): Promise<IngestResult> {
    const type = envelope.event_type;
    try {
      const result = await this.run(envelope, source, rawBody, context);
      this.deps.metrics?.ingested.inc({ type, outcome: 'ok' });
      return result;
    } catch (err) {
      const outcome = isAppError(err) ? err.key : 'error';
      this.deps.metrics?.ingested.inc({
        type: this.deps.registry.get(type) ? type : 'unknown',
        outcome,
      });
      throw err;
    }
  }

  /** Forgets ids received before `before`; older events fail the timestamp window anyway. */
  async prune(before: number): Promise<number> {
    const result = await this.deps.db
      .deleteFrom('ingestedEvents')
      .where('receivedAt', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private async run(
    envelope: IngestEnvelope,
    source: string,
    rawBody: string,
    context: IngestContext,
  ): Promise<IngestResult> {
    const { registry, sources, toleranceMs, clock, db } = this.deps;
    const handler = registry.get(envelope.event_type);
    if (!handler) {
      throw new AppError(
        EventErrors.unknownEventType,
        `no handler for event type "${envelope.event_type}"`,
      );
    }
    const allowed = sources[source]!.types;
    if (!allowed.includes('*') && !allowed.includes(handler.type)) {
      throw new AppError(EventErrors.typeNotAllowed);
    }
    const timestamp = parseTimestamp(envelope.timestamp);
    const now = clock();
    if (Math.abs(now - timestamp) > toleranceMs) {
      throw new AppError(
        EventErrors.timestampOutOfWindow,
        `event timestamp is more than ${Math.round(toleranceMs / 1000)} s from the server's time`,
      );
    }
    const version = String(envelope.metadata.version);
    const payload = this.parse(handler, envelope.payload, version);
    // Without an event_id the body itself identifies the event: an identical body is a replay.
    const eventId =
      envelope.event_id ?? `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
    const message: IngestMessage = {
      eventId,
      type: handler.type,
      timestamp,
      payload,
      metadata: { source, version },
    };

    const claimed = await db
      .insertInto('ingestedEvents')
      .values({ source, eventId, eventType: handler.type, receivedAt: now })
      .$call((insert) => skipExisting(db, insert))
      .executeTakeFirst();
    if (insertedRows(claimed) === 0) {
      throw new AppError(EventErrors.eventReplayed);
    }

    let outcome: HandleOutcome<unknown>;
    try {
      await handler.beforeHandle?.(message, context);
      outcome = { ok: true, result: await handler.handle(message, context) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    await handler.afterHandle?.(message, context, outcome);
    if (!outcome.ok) {
      // Not applied: free the id so that the sender may retry the same event.
      await db
        .deleteFrom('ingestedEvents')
        .where('source', '=', source)
        .where('eventId', '=', eventId)
        .execute();
      throw outcome.error;
    }
    return { eventId, type: handler.type, result: outcome.result ?? {} };
  }

  private parse(handler: IngestHandler, raw: unknown, version: string): unknown {
    if (handler.parse) {
      try {
        return handler.parse(raw, version);
      } catch (err) {
        if (isAppError(err)) throw err;
        throw new AppError(EventErrors.payloadInvalid, `payload: ${(err as Error).message}`);
      }
    }
    let validator = this.validators.get(handler.payload);
    if (!validator) {
      // Closed like every input: an unknown payload key is refused, naming it.
      validator = compileInput(closeObjects(handler.payload));
      this.validators.set(handler.payload, validator);
    }
    if (!validator.Check(raw)) {
      const reason = describeSchemaError(validator.Errors(raw)[0], 'payload');
      throw new AppError(EventErrors.payloadInvalid, reason);
    }
    return raw;
  }
}

function parseTimestamp(value: string | number): number {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new AppError(
      EventErrors.timestampOutOfWindow,
      'event timestamp is not a valid date-time',
    );
  }
  return ms;
}
