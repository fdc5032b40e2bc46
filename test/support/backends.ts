/**
 * Which real servers the suite may use. Tests for PostgreSQL and Redis run when
 * their URL is set (the CI script sets all of them); SQLite and the in-memory
 * adapters always run.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL;
export const TEST_NATS_URL = process.env.TEST_NATS_URL;
export const TEST_AMQP_URL = process.env.TEST_AMQP_URL;
/** A MySQL or MariaDB server; each test makes (and drops) a database of its own on it. */
export const TEST_MYSQL_URL = process.env.TEST_MYSQL_URL;

export type StorageKind = 'sqlite' | 'postgres' | 'mysql';
export type CacheKind = 'memory' | 'redis';

export const STORAGES: StorageKind[] = [
  'sqlite',
  ...(TEST_DATABASE_URL ? ['postgres' as const] : []),
  ...(TEST_MYSQL_URL ? ['mysql' as const] : []),
];

/** TEST_MYSQL_URL (or `server`, a proxy's URL say) with its database replaced by `database`. */
export function mysqlUrlFor(database: string, server: string = TEST_MYSQL_URL!): string {
  const url = new URL(server);
  url.pathname = `/${database}`;
  return url.toString();
}
export const CACHES: CacheKind[] = ['memory', ...(TEST_REDIS_URL ? ['redis' as const] : [])];

/** A name unique to this test process and call, safe as a SQL schema or key prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
