import type { Generated } from 'kysely';

/**
 * Row types of every table, as Kysely sees them through CamelCasePlugin (SQL
 * columns are snake_case, TypeScript fields camelCase). Mirrors ./migrations;
 * keep both in step. Times are epoch milliseconds in BIGINT columns, booleans are
 * 0/1 integers, JSON is text: the same on SQLite and PostgreSQL.
 */
export interface UsersTable {
  id: string;
  phone: string;
  nickname: string;
  passwordHash: string;
  sex: number;
  avatar: string;
  status: number;
  createdAt: number;
  updatedAt: number;
}

export interface OutboxEventsTable {
  /** Event id (also the consumers' de-duplication key). */
  id: string;
  /** Insert order; the relay publishes in this order. */
  position: Generated<number>;
  type: string;
  aggregate: string;
  /** Ordering key: events with the same key are delivered in order. */
  partitionKey: string;
  /** JSON of the whole EventMessage envelope. */
  envelope: string;
  createdAt: number;
  publishedAt: number | null;
  attempts: number;
}

// --- event layer (migration 0004) ---

/** Events a consumer has applied; the key makes redelivery a no-op. */
export interface ProcessedEventsTable {
  consumer: string;
  eventId: string;
  processedAt: number;
}

/** One audited user action or server error. */
export interface AuditLogTable {
  id: string;
  eventId: string;
  /** 'user_action' | 'api_error' */
  kind: string;
  action: string;
  userId: string | null;
  targetId: string | null;
  /** JSON object with the rest of the event. */
  detail: string;
  requestId: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  code: number | null;
  source: string;
  occurredAt: number;
  recordedAt: number;
}

/** Ids of events accepted by POST /v1/events, per source (replay protection). */
export interface IngestedEventsTable {
  source: string;
  eventId: string;
  eventType: string;
  receivedAt: number;
}

/** A named lease: who may run a singleton job (the outbox relay) until when. */
export interface RelayLeasesTable {
  name: string;
  owner: string;
  expiresAt: number;
}

export interface Database {
  users: UsersTable;
  outboxEvents: OutboxEventsTable;
  processedEvents: ProcessedEventsTable;
  auditLog: AuditLogTable;
  ingestedEvents: IngestedEventsTable;
  relayLeases: RelayLeasesTable;
}
