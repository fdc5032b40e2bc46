import { describe, expect, it } from 'vitest';
import { retryWhileOtherSchemaGone } from './storage.js';

/** A PostgreSQL error as pg reports it. */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('retryWhileOtherSchemaGone (the migration listing on a shared PostgreSQL)', () => {
  it("runs the scan again while another schema's drop breaks it", async () => {
    let calls = 0;
    const result = await retryWhileOtherSchemaGone(async () => {
      calls += 1;
      if (calls === 1) throw pgError('3F000', 'schema "t_other" does not exist');
      if (calls === 2) throw pgError('42P01', 'relation "t_other.users" does not exist');
      return 'listed';
    }, 't_ours');
    expect(result).toBe('listed');
    expect(calls).toBe(3);
  });

  it('fails at once when the schema gone is ours, or on any other error', async () => {
    let calls = 0;
    const ours = retryWhileOtherSchemaGone(async () => {
      calls += 1;
      throw pgError('3F000', 'schema "t_ours" does not exist');
    }, 't_ours');
    await expect(ours).rejects.toThrow('t_ours');
    expect(calls).toBe(1);
    await expect(
      retryWhileOtherSchemaGone(async () => {
        throw pgError('28P01', 'password authentication failed');
      }, 't_ours'),
    ).rejects.toThrow('password');
  });

  it('gives up after ten tries', async () => {
    let calls = 0;
    const endless = retryWhileOtherSchemaGone(async () => {
      calls += 1;
      throw pgError('3F000', 'schema "t_other" does not exist');
    }, 't_ours');
    await expect(endless).rejects.toThrow('t_other');
    expect(calls).toBe(10);
  });
});
