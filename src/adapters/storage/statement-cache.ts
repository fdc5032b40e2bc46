import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * better-sqlite3 behind Kysely with prepared statements reused by SQL text.
 * Kysely's SQLite driver prepares every query anew; the same few dozen statements
 * run over and over, so preparing each once saves a measurable share of CPU on the
 * hot path (the message store). Least recently used statements are dropped past
 * `max`.
 */
export class CachedStatementDatabase implements SqliteDatabase {
  private readonly statements = new Map<string, SqliteStatement>();

  constructor(
    private readonly database: SQLite.Database,
    private readonly max = 500,
  ) {}

  prepare(sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (statement) {
      this.statements.delete(sql);
    } else {
      statement = this.database.prepare(sql);
      if (this.statements.size >= this.max) {
        this.statements.delete(this.statements.keys().next().value!);
      }
    }
    this.statements.set(sql, statement);
    return statement;
  }

  close(): void {
    this.statements.clear();
    this.database.close();
  }
}
