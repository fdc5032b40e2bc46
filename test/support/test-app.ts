import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { dropMysqlDatabase } from '../../src/adapters/storage/mysql.js';
import type { DestinationStream } from 'pino';
import { createApp, type App } from '../../src/app/create-app.js';
import type { Config } from '../../src/config/config.schema.js';
import { loadConfig, type DeepPartial } from '../../src/config/load-config.js';
import type { Clock } from '../../src/shared/clock.js';
import {
  TEST_DATABASE_URL,
  TEST_MYSQL_URL,
  TEST_REDIS_URL,
  mysqlUrlFor,
  uniqueName,
  type CacheKind,
  type StorageKind,
} from './backends.js';
import { HttpClient } from './http-client.js';
import { recordPublishedEvents } from './published-events.js';

export interface TestAppOptions {
  storage?: StorageKind;
  cache?: CacheKind;
  overrides?: DeepPartial<Config>;
  clock?: Clock;
  logDestination?: DestinationStream;
  /** Passed to createApp (the IM module's system-notice sink). */
}

export interface TestApp {
  app: App;
  config: Config;
  url: string;
  /** The metrics listener's URL, when `metrics.listener` is enabled. */
  metricsUrl?: string;
  client: HttpClient;
  close(): Promise<void>;
}

function deepMerge(target: any, source: any): any {
  for (const [key, value] of Object.entries(source ?? {})) {
    target[key] =
      value && typeof value === 'object' && !Array.isArray(value)
        ? deepMerge(target[key] ?? {}, value)
        : value;
  }
  return target;
}

/**
 * A whole easy-chat listening on a free loopback port, on a fresh SQLite file, a
 * fresh PostgreSQL schema or a fresh MySQL database, and (for Redis) a key prefix of its own, so test files
 * can run in parallel against the same servers.
 */
export function testConfig(options: TestAppOptions = {}): {
  config: Config;
  cleanup: () => Promise<void>;
} {
  const storage = options.storage ?? 'sqlite';
  const cache = options.cache ?? 'memory';
  const dataDir = mkdtempSync(join(tmpdir(), 'easy-chat-test-'));
  const schema = uniqueName('t').toLowerCase();
  const base: DeepPartial<Config> = {
    dataDir,
    storage: {
      driver: storage,
      postgres: { schema, ...(TEST_DATABASE_URL ? { url: TEST_DATABASE_URL } : {}) },
      // A database of its own, created by the app's first migration.
      ...(TEST_MYSQL_URL ? { mysql: { url: mysqlUrlFor(schema) } } : {}),
    },
    cache: {
      driver: cache,
      redis: {
        keyPrefix: `${uniqueName('t')}:`,
        ...(TEST_REDIS_URL ? { url: TEST_REDIS_URL } : {}),
      },
    },
  };
  if (storage === 'postgres' && !TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  if (storage === 'mysql' && !TEST_MYSQL_URL) throw new Error('TEST_MYSQL_URL is not set');
  if (cache === 'redis' && !TEST_REDIS_URL) throw new Error('TEST_REDIS_URL is not set');
  const config = loadConfig({
    env: 'test',
    environment: {},
    overrides: deepMerge(base, options.overrides),
  });
  return {
    config,
    cleanup: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      if (storage === 'postgres') await dropSchema(schema);
      if (storage === 'mysql') await dropMysqlDatabase(config.storage.mysql.url);
    },
  };
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const { config, cleanup } = testConfig(options);
  const app = await createApp(config, {
    clock: options.clock,
    logDestination: options.logDestination,
  });
  await recordPublishedEvents(app);
  const { url, metricsUrl } = await app.start();
  return {
    app,
    config,
    url,
    metricsUrl,
    client: new HttpClient(url),
    async close() {
      await app.stop();
      await cleanup();
    },
  };
}

/** Drops a PostgreSQL schema a test created (on the shared server). */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}
