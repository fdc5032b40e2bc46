import type { Static, TSchema } from 'typebox';
import type { FastifyBaseLogger } from 'fastify';

/** An event accepted by POST /v1/events, after its envelope was checked. */
export interface IngestMessage<T = unknown> {
  /** The sender's event_id, or a hash of the body when it sent none. */
  eventId: string;
  type: string;
  /** Epoch ms. */
  timestamp: number;
  payload: T;
  metadata: { source: string; version: string };
}

export interface IngestContext {
  requestId: string;
  log: FastifyBaseLogger;
}

export type HandleOutcome<R> = { ok: true; result: R } | { ok: false; error: unknown };

/**
 * A typed handler for one ingested event type, with the seed's hooks:
 * `parse` turns the raw payload of any supported version into T (the default
 * validates it against `payload`); `beforeHandle` may refuse the event;
 * `handle` does the work; `afterHandle` sees the outcome either way.
 */
export interface IngestHandler<T = unknown, R = unknown> {
  type: string;
  /** Schema of the current payload version (documentation and default parsing). */
  payload: TSchema;
  description: string;
  parse?(raw: unknown, version: string): T;
  beforeHandle?(message: IngestMessage<T>, context: IngestContext): Promise<void>;
  handle(message: IngestMessage<T>, context: IngestContext): Promise<R>;
  afterHandle?(
    message: IngestMessage<T>,
    context: IngestContext,
    outcome: HandleOutcome<R>,
  ): Promise<void>;
}

/** Declares a handler whose payload type is inferred from its schema. */
export function defineIngestHandler<S extends TSchema, R>(
  handler: IngestHandler<Static<S>, R> & { payload: S },
): IngestHandler<Static<S>, R> {
  return handler;
}

/** Event type → handler. A map, so adding a handler is one `register` call. */
export class IngestRegistry {
  private readonly handlers = new Map<string, IngestHandler<unknown, unknown>>();

  register<T, R>(handler: IngestHandler<T, R>): this {
    if (this.handlers.has(handler.type)) {
      throw new Error(`an ingest handler for "${handler.type}" is already registered`);
    }
    // Stored type-erased: the registry only hands payloads that parse() produced.
    this.handlers.set(handler.type, handler);
    return this;
  }

  get(type: string): IngestHandler<unknown, unknown> | undefined {
    return this.handlers.get(type);
  }

  list(): Array<IngestHandler<unknown, unknown>> {
    return [...this.handlers.values()];
  }
}
