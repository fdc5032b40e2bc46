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

export interface Database {
  users: UsersTable;
  outboxEvents: OutboxEventsTable;
}
