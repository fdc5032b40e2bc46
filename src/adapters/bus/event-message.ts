/**
 * The envelope every domain event travels in, on the outbox, the broker and the
 * ingestion endpoint. `type` is lowercase `{noun}-{action}`; `metadata.version`
 * lets a consumer accept old and new payload shapes side by side.
 */
export interface EventMessage<T = unknown> {
  id: string;
  type: string;
  aggregate: EventAggregate;
  /** Epoch milliseconds when the change happened. */
  timestamp: number;
  payload: T;
  metadata: EventMetadata;
}

export interface EventMetadata {
  source: string;
  version: number;
  traceId?: string;
}

export type EventAggregate = 'user' | 'social' | 'chat' | 'system';
