import type { Kysely } from 'kysely';
import { insertedRows, skipExisting } from '../../adapters/storage/portable.js';
import { Precompiled } from '../../adapters/storage/precompiled.js';
import type { Database } from '../../adapters/storage/schema.js';
import type { Pair } from '../../shared/pair-batch.js';
import type { BlockedUser } from './social.entity.js';

type Db = Kysely<Database>;

/** Asked before every private message, so precompiled. */
const IS_BLOCKED = new Precompiled('select 1 from blacklist where user_id = ? and blocked_uid = ?');

/** The block list in SQL (one class for every dialect). */
export class BlacklistRepository {
  constructor(private readonly db: Db) {}

  /** Whether `userId` has blocked `otherUid`: one primary-key lookup. */
  async isBlocked(userId: string, otherUid: string, q: Db = this.db): Promise<boolean> {
    return (await IS_BLOCKED.first(q, [userId, otherUid])) !== undefined;
  }

  /**
   * The pairs among `pairs` (owner, other) where the owner blocked the other, in one
   * statement: the same question as isBlocked for each pair (SocialDirectory batches them).
   */
  async blocksAmong(pairs: readonly Pair[], q: Db = this.db): Promise<Pair[]> {
    if (pairs.length === 0) return [];
    const rows = await q
      .selectFrom('blacklist')
      .select(['userId', 'blockedUid'])
      .where((eb) =>
        eb.or(pairs.map(([a, b]) => eb.and([eb('userId', '=', a), eb('blockedUid', '=', b)]))),
      )
      .execute();
    return rows.map((r) => [r.userId, r.blockedUid] as const);
  }

  /** Adds the pair unless present (the primary key decides). True if this call added it. */
  async insert(q: Db, userId: string, blockedUid: string, now: number): Promise<boolean> {
    const res = await skipExisting(
      q,
      q.insertInto('blacklist').values({ userId, blockedUid, createdAt: now }),
    ).executeTakeFirst();
    return insertedRows(res) > 0;
  }

  async delete(q: Db, userId: string, blockedUid: string): Promise<boolean> {
    const res = await q
      .deleteFrom('blacklist')
      .where('userId', '=', userId)
      .where('blockedUid', '=', blockedUid)
      .executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  /** Removes every row naming `userId` on either side (account deletion). */
  async deleteAllOf(q: Db, userId: string): Promise<void> {
    await q
      .deleteFrom('blacklist')
      .where((eb) => eb.or([eb('userId', '=', userId), eb('blockedUid', '=', userId)]))
      .execute();
  }

  /** Who `userId` blocked, with nickname and avatar, most recent first. */
  async list(userId: string): Promise<BlockedUser[]> {
    return this.db
      .selectFrom('blacklist')
      .innerJoin('users', 'users.id', 'blacklist.blockedUid')
      .select([
        'blacklist.blockedUid as userId',
        'users.nickname',
        'users.avatar',
        'blacklist.createdAt',
      ])
      .where('blacklist.userId', '=', userId)
      .orderBy('blacklist.createdAt', 'desc')
      .orderBy('blacklist.blockedUid')
      .execute();
  }
}
