import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';

/** A user's live reset code, as stored (the code itself is never stored). */
export interface StoredResetCode {
  userId: string;
  codeHash: string;
  attempts: number;
  expiresAt: number;
}

/** `password_reset_codes`: at most one row per user. */
export class PasswordResetRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a new code for the user, replacing any earlier one (and its guesses). */
  async replace(code: StoredResetCode, now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('passwordResetCodes').where('userId', '=', code.userId).execute();
      await trx
        .insertInto('passwordResetCodes')
        .values({
          userId: code.userId,
          codeHash: code.codeHash,
          attempts: code.attempts,
          expiresAt: code.expiresAt,
          createdAt: now,
        })
        .execute();
    });
  }

  async find(userId: string): Promise<StoredResetCode | undefined> {
    return this.db
      .selectFrom('passwordResetCodes')
      .select(['userId', 'codeHash', 'attempts', 'expiresAt'])
      .where('userId', '=', userId)
      .executeTakeFirst();
  }

  /** Counts a wrong guess; the code is dropped once `maxAttempts` were used. */
  async countWrongGuess(userId: string, maxAttempts: number): Promise<void> {
    await this.db
      .updateTable('passwordResetCodes')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('userId', '=', userId)
      .execute();
    await this.db
      .deleteFrom('passwordResetCodes')
      .where('userId', '=', userId)
      .where('attempts', '>=', maxAttempts)
      .execute();
  }

  /**
   * Uses the code up inside the reset's transaction: true only for the one caller
   * whose delete found the row with this hash (two resets racing with one code: one wins).
   */
  async consume(trx: Kysely<Database>, userId: string, codeHash: string): Promise<boolean> {
    const result = await trx
      .deleteFrom('passwordResetCodes')
      .where('userId', '=', userId)
      .where('codeHash', '=', codeHash)
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
