import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../dialect.js';
import * as m0001 from '../../../modules/user/migrations/0001-users.js';
import * as m0002 from '../../../events/migrations/0002-outbox.js';
import * as m0003 from '../../../modules/social/migrations/0003-social.js';
import * as m0004 from '../../../events/migrations/0004-events.js';
import * as m0005 from '../../../modules/im/migrations/0005-im.js';

interface MigrationModule {
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
  down?(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

/** Every migration in order. Names are sorted by Kysely, so keep the numeric prefix. */
const MIGRATIONS: Record<string, MigrationModule> = {
  '0001-users': m0001,
  '0002-outbox': m0002,
  '0003-social': m0003,
  '0004-events': m0004,
  '0005-im': m0005,
};

/**
 * Migrations are compiled in (no directory scan) so the same list runs from src/
 * under tsx, from dist/ and inside the Docker image. Each gets the dialect for the
 * few column types that differ.
 */
export class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, module] of Object.entries(MIGRATIONS)) {
      out[name] = {
        up: (db) => module.up(db, this.dialect),
        ...(module.down ? { down: (db: Kysely<unknown>) => module.down!(db, this.dialect) } : {}),
      };
    }
    return out;
  }
}
