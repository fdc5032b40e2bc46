import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { Dialect } from './dialect.js';

/** One migration: `up` (and optionally `down`), given the dialect for the few types that differ. */
export interface MigrationModule {
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
  down?(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

/** Migration name → migration. Names are sorted by Kysely, so keep the numeric prefix. */
export type MigrationList = Readonly<Record<string, MigrationModule>>;

/**
 * Migrations are compiled in (no directory scan) so the same list runs from src/
 * under tsx, from dist/ and inside the Docker image. Each module owns the
 * migrations of its tables; src/catalogue/migrations.ts lists them in order.
 */
export class StaticMigrationProvider implements MigrationProvider {
  constructor(
    private readonly migrations: MigrationList,
    private readonly dialect: Dialect,
  ) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, module] of Object.entries(this.migrations)) {
      out[name] = {
        up: (db) => module.up(db, this.dialect),
        ...(module.down ? { down: (db: Kysely<unknown>) => module.down!(db, this.dialect) } : {}),
      };
    }
    return out;
  }
}
