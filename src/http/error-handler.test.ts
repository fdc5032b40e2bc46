import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../test/support/backends.js';
import { toErrorAnswer } from './error-handler.js';

/** The error PostgreSQL raises for `text` with `value` as its parameter. */
async function pgError(text: string, value: unknown): Promise<unknown> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(text, [value]);
  } catch (err) {
    return err;
  } finally {
    await client.end();
  }
  throw new Error(`${text} did not fail`);
}

describe('the error mapper', () => {
  it('answers an unknown error 500 / 100001', () => {
    expect(toErrorAnswer(new Error('boom'))).toMatchObject({ status: 500, code: 100001 });
  });

  // The last line behind the input rules: a value the store cannot hold is the
  // client's mistake (400 / 100002), not a server error.
  describe.runIf(TEST_DATABASE_URL)('on values PostgreSQL cannot hold', () => {
    it.each([
      ['NUL in text (22021)', 'select $1::text', 'a\u0000b'],
      ['a number past BIGINT (22003)', 'select $1::bigint', '9223372036854775808'],
      ['1e300 for a BIGINT (22P02)', 'select $1::bigint', 1e300],
    ])('answers %s with 400 / 100002', async (_name, text, value) => {
      const err = await pgError(text, value);
      expect(toErrorAnswer(err)).toEqual({
        status: 400,
        code: 100002,
        msg: 'invalid request parameter',
      });
    });
  });
});
