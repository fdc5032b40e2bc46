import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../../test/support/backends.js';
import { seededRandom } from '../../../test/support/seeded-random.js';
import { pgBinaryArray } from './pg-binary-array.js';

/** Strings an array's text form could take for something else if not quoted right. */
const NASTY = [
  '',
  'NULL',
  'null',
  '"',
  '\\',
  '\\"',
  '{}',
  '{a,b}',
  ',',
  ' ',
  '  padded  ',
  'tab\tnew\nline\r',
  "it's",
  'é中文😀',
  '\ud83d',
  '\u0001\u001f\u007f',
  '{"msgId":"x","content":"a \\"q\\" \\\\ b"}',
  'x'.repeat(5000) + '"' + '\\'.repeat(3),
];

function randomStrings(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  const alphabet = ['"', '\\', '{', '}', ',', ' ', '\t', '\n', 'N', 'a', 'é', '😀', "'"];
  return Array.from({ length: count }, () =>
    Array.from(
      { length: Math.floor(random() * 12) },
      () => alphabet[Math.floor(random() * alphabet.length)],
    ).join(''),
  );
}

describe('pgBinaryArray', () => {
  it("writes array_send's layout: dimensions, null flag, element oid, bounds, elements", () => {
    expect(pgBinaryArray('int2', [7, null]).toString('hex')).toBe(
      [
        '00000001', // one dimension
        '00000001', // has nulls
        '00000015', // int2 (oid 21)
        '00000002', // two elements
        '00000001', // from index 1
        '00000002',
        '0007',
        'ffffffff', // NULL
      ].join(''),
    );
    expect(pgBinaryArray('text', ['é']).toString('hex')).toBe(
      '00000001' + '00000000' + '00000019' + '00000001' + '00000001' + '00000002' + 'c3a9',
    );
    expect(pgBinaryArray('int8', [-2]).toString('hex')).toBe(
      '00000001' +
        '00000000' +
        '00000014' +
        '00000001' +
        '00000001' +
        '00000008' +
        'fffffffffffffffe',
    );
    expect(pgBinaryArray('text', []).toString('hex')).toBe('00000000' + '00000000' + '00000019');
  });

  it('refuses elements not of the type before writing anything', () => {
    expect(() => pgBinaryArray('text', ['a', 1])).toThrow(/\(text\): element 1 is 1/);
    expect(() => pgBinaryArray('int8', [1.5])).toThrow(/\(int8\): element 0 is 1.5/);
    expect(() => pgBinaryArray('int8', [2 ** 53])).toThrow(/element 0 is 9007199254740992/);
    expect(() => pgBinaryArray('int8', ['1'])).toThrow(/element 0 is a string/);
    expect(() => pgBinaryArray('int2', [32_768])).toThrow(/\(int2\): element 0 is 32768/);
    expect(() => pgBinaryArray('int2', [Number.NaN])).toThrow(/element 0 is NaN/);
    expect(() => pgBinaryArray('int2', [true])).toThrow(/element 0 is a boolean/);
  });
});

describe.runIf(TEST_DATABASE_URL)('pgBinaryArray on postgres', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
  });

  it('arrives as the same text[] as the array given to pg as text, byte for byte', async () => {
    const values: Array<string | null> = [...NASTY, null, ...randomStrings(3, 500), null];
    const { rows } = await client.query<{ ours: string[]; theirs: string[]; same: boolean }>(
      `select $1::text[] as ours, $2::text[] as theirs,
         (select bool_and(convert_to(o, 'UTF8') is not distinct from convert_to(t, 'UTF8'))
            from unnest($1::text[], $2::text[]) as u (o, t)) as same`,
      [pgBinaryArray('text', values), values],
    );
    // A lone surrogate reaches PostgreSQL as U+FFFD either way (pg writes UTF-8).
    const expected = values.map((v) => (v === '\ud83d' ? '\ufffd' : v));
    expect(rows[0]!.ours).toEqual(expected);
    expect(rows[0]!.theirs).toEqual(expected);
    expect(rows[0]!.same).toBe(true);
  });

  it('arrives as bigint[] and smallint[], NULLs and extremes included', async () => {
    const big = [0, -1, 1, 2 ** 32, -(2 ** 32) - 1, 1_700_000_000_123, Number.MAX_SAFE_INTEGER];
    big.push(Number.MIN_SAFE_INTEGER);
    const small = [0, 1, -1, -32_768, 32_767, null];
    const { rows } = await client.query<{ big: string[]; small: Array<number | null> }>(
      'select $1::bigint[] as big, $2::smallint[] as small, $3::text[] as none',
      [
        pgBinaryArray('int8', [...big, null]),
        pgBinaryArray('int2', small),
        pgBinaryArray('text', []),
      ],
    );
    expect(rows[0]!.big).toEqual([...big.map(String), null]);
    expect(rows[0]!.small).toEqual(small);
    expect(rows[0]).toMatchObject({ none: [] });
  });

  it('is refused by PostgreSQL, as the text form is, for a NUL or the wrong element type', async () => {
    await expect(
      client.query('select $1::text[]', [pgBinaryArray('text', ['a\u0000b'])]),
    ).rejects.toMatchObject({ code: '22021' });
    await expect(client.query('select $1::text[]', [['a\u0000b']])).rejects.toMatchObject({
      code: '22021',
    });
    await expect(
      client.query('select $1::bigint[]', [pgBinaryArray('int2', [1])]),
    ).rejects.toMatchObject({ code: '42804' });
  });
});
