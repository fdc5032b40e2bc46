import {
  CamelCasePlugin,
  Kysely,
  type DatabaseConnection,
  type Dialect,
  type Driver,
} from 'kysely';
import type { Config } from '../../src/config/config.schema.js';
import type { Database } from '../../src/adapters/storage/schema.js';
import { postgresDialect } from '../../src/adapters/storage/storage.js';

/**
 * A Kysely handle on the configured PostgreSQL schema, through the server's own pool
 * (postgresDialect: pipeline mode, prepared statements, corked writes), whose driver
 * logs the first word of each query as it is sent and as it is answered
 * (`sent begin`, `answered insert`, …), in `log`. Destroy it after use.
 */
export function loggingPostgres(config: Config, log: string[]): Kysely<Database> {
  const dialect = postgresDialect(config, () => undefined);
  const logging: Dialect = {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => loggingDriver(dialect.createDriver(), log),
  };
  return new Kysely<Database>({ dialect: logging, plugins: [new CamelCasePlugin()] });
}

/** `driver`, logging the first word of each query as it is sent and as it is answered. */
function loggingDriver(driver: Driver, log: string[]): Driver {
  const logged = (connection: DatabaseConnection): DatabaseConnection => ({
    executeQuery: async (query) => {
      const verb = query.sql.trim().split(/\s/, 1)[0]!.toLowerCase();
      log.push(`sent ${verb}`);
      try {
        return await connection.executeQuery(query);
      } finally {
        log.push(`answered ${verb}`);
      }
    },
    streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
  });
  const wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();
  const originals = new WeakMap<DatabaseConnection, DatabaseConnection>();
  return {
    init: () => driver.init(),
    destroy: () => driver.destroy(),
    acquireConnection: async () => {
      const connection = await driver.acquireConnection();
      const mine = wrapped.get(connection) ?? logged(connection);
      wrapped.set(connection, mine);
      originals.set(mine, connection);
      return mine;
    },
    beginTransaction: (c, settings) => driver.beginTransaction(originals.get(c)!, settings),
    commitTransaction: (c) => driver.commitTransaction(originals.get(c)!),
    rollbackTransaction: (c) => driver.rollbackTransaction(originals.get(c)!),
    releaseConnection: (c) => driver.releaseConnection(originals.get(c)!),
  };
}
