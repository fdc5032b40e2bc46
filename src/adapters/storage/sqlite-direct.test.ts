import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DirectStatement } from './sqlite-direct.js';

describe('DirectStatement', () => {
  // Short parameter lists go to better-sqlite3 as arguments of their own, long ones as
  // one array: both bind the same values, in order.
  it.each([3, 64, 65, 200])('binds %i parameters in order, of every kind', (count) => {
    const db = new Database(':memory:');
    const columns = Array.from({ length: count }, (_, i) => `c${i}`);
    db.exec(`create table t (${columns.join(', ')})`);
    const values = Array.from(
      { length: count },
      (_, i) => [`text ${i}`, i * 1.5, null, Buffer.from([i % 256]), BigInt(i) << 40n][i % 5],
    );
    const marks = columns.map(() => '?').join(', ');
    const insert = new DirectStatement(db, `insert into t values (${marks})`);
    expect(insert.write(values)).toBe(1);
    expect(insert.run(values).numAffectedRows).toBe(1n);
    expect(insert.first(values)).toBeUndefined();
    const read = new DirectStatement<Record<string, unknown>>(
      db,
      `select ${columns.join(', ')} from t where ${columns.map((c) => `${c} is ?`).join(' and ')}`,
    );
    db.defaultSafeIntegers(false);
    const expected = Object.fromEntries(
      columns.map((c, i) => {
        const v = values[i];
        return [c, typeof v === 'bigint' ? Number(v) : v];
      }),
    );
    expect(read.first(values)).toEqual(expected);
    expect(read.run(values).rows).toEqual([expected, expected, expected]);
    db.close();
  });
});
