import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CachedStatementDatabase } from './statement-cache.js';

describe('CachedStatementDatabase', () => {
  it('reuses a prepared statement per SQL text and drops the least recently used', () => {
    const db = new CachedStatementDatabase(new SQLite(':memory:'), 2);
    const a = db.prepare('select 1 as x');
    expect(db.prepare('select 1 as x')).toBe(a);
    const b = db.prepare('select 2 as x');
    db.prepare('select 1 as x'); // a is now the most recent
    db.prepare('select 3 as x'); // evicts b
    expect(db.prepare('select 1 as x')).toBe(a);
    expect(db.prepare('select 2 as x')).not.toBe(b);
    expect(a.all([])).toEqual([{ x: 1 }]);
    db.close();
  });

  it('keeps working after the schema changes under a cached statement', () => {
    const db = new CachedStatementDatabase(new SQLite(':memory:'));
    db.prepare('create table t (a integer)').run([]);
    db.prepare('insert into t (a) values (?)').run([1]);
    const select = db.prepare('select * from t');
    expect(select.all([])).toEqual([{ a: 1 }]);
    db.prepare('alter table t add column b integer').run([]);
    expect(db.prepare('select * from t').all([])).toEqual([{ a: 1, b: null }]);
    db.close();
  });
});
