import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { Dialect } from './dialect.js';
import { mysqlCollation } from './mysql.js';

export type TableMaker = (name: string) => CreateTableBuilder<string, never>;

/**
 * `db.schema.createTable` for a migration. On MySQL every table is InnoDB in
 * utf8mb4 (4-byte characters such as emoji fit) with a byte-wise collation, so
 * strings compare as they do on PostgreSQL and SQLite, whatever the database's
 * default character set is.
 */
export async function tableMaker(db: Kysely<unknown>, dialect: Dialect): Promise<TableMaker> {
  if (dialect !== 'mysql') return (name) => db.schema.createTable(name);
  const collation = await mysqlCollation(db);
  return (name) =>
    db.schema
      .createTable(name)
      .modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=${sql.raw(collation)}`);
}

/** Unbounded text: MySQL's TEXT stops at 65,535 bytes, MEDIUMTEXT at 16 MB. */
export function longText(dialect: Dialect) {
  return dialect === 'mysql' ? sql`mediumtext` : ('text' as const);
}
