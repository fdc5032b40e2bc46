import type { Kysely } from 'kysely';
import { insertedRows, skipExisting } from '../../adapters/storage/portable.js';
import { Precompiled } from '../../adapters/storage/precompiled.js';
import type { Database, FriendRequestsTable } from '../../adapters/storage/schema.js';
import type { Pair } from '../../shared/pair-batch.js';
import { HandleResult, pairKey, type Friend, type FriendRequest } from './social.entity.js';

type Db = Kysely<Database>;

/** Asked before every private message, so precompiled. */
const ARE_FRIENDS = new Precompiled('select 1 from friends where user_id = ? and friend_uid = ?');

const REQUEST_COLUMNS = ['id', 'userId', 'reqUid', 'reqMsg', 'reqTime', 'handleResult'] as const;

/**
 * Friendships and friend requests in SQL (one class for every engine).
 * Methods that take `q` run on whatever executor they are given, so services can
 * call them inside a transaction; the others read through the pool.
 */
export class FriendRepository {
  constructor(private readonly db: Db) {}

  async areFriends(userId: string, friendUid: string, q: Db = this.db): Promise<boolean> {
    return (await ARE_FRIENDS.first(q, [userId, friendUid])) !== undefined;
  }

  /**
   * The pairs among `pairs` (user, friend) that are friendships, in one statement:
   * the same question as areFriends for each pair (SocialDirectory batches them).
   */
  async friendshipsAmong(pairs: readonly Pair[], q: Db = this.db): Promise<Pair[]> {
    if (pairs.length === 0) return [];
    const rows = await q
      .selectFrom('friends')
      .select(['userId', 'friendUid'])
      .where((eb) =>
        eb.or(pairs.map(([a, b]) => eb.and([eb('userId', '=', a), eb('friendUid', '=', b)]))),
      )
      .execute();
    return rows.map((r) => [r.userId, r.friendUid] as const);
  }

  async findRequest(id: string, q: Db = this.db): Promise<FriendRequest | undefined> {
    return q
      .selectFrom('friendRequests')
      .select(REQUEST_COLUMNS)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** The pending request between two users, whichever of them sent it. */
  async findPendingBetween(a: string, b: string, q: Db): Promise<FriendRequest | undefined> {
    return q
      .selectFrom('friendRequests')
      .select(REQUEST_COLUMNS)
      .where('pairKey', '=', pairKey(a, b))
      .where('handleResult', '=', HandleResult.pending)
      .executeTakeFirst();
  }

  /**
   * Inserts a pending request unless one is already pending between the pair (the
   * partial unique index decides, also against concurrent inserts). True if inserted.
   */
  async insertPendingRequest(
    q: Db,
    row: Omit<FriendRequestsTable, 'pairKey' | 'handleResult' | 'handledAt'>,
  ): Promise<boolean> {
    const inserted = await q
      .insertInto('friendRequests')
      .values({
        id: row.id,
        userId: row.userId,
        reqUid: row.reqUid,
        reqMsg: row.reqMsg,
        reqTime: row.reqTime,
        pairKey: pairKey(row.userId, row.reqUid),
        handleResult: HandleResult.pending,
        handledAt: null,
      })
      .$call((insert) => skipExisting(q, insert))
      .executeTakeFirst();
    return insertedRows(inserted) > 0;
  }

  /**
   * Moves a request out of pending. Conditional on it still being pending, so of
   * two concurrent handlers exactly one gets true.
   */
  async settleRequest(q: Db, id: string, result: HandleResult, now: number): Promise<boolean> {
    const res = await q
      .updateTable('friendRequests')
      .set({ handleResult: result, handledAt: now })
      .where('id', '=', id)
      .where('handleResult', '=', HandleResult.pending)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** Writes both directions of a friendship; rows that exist are kept. Rows written. */
  async insertFriendship(
    q: Db,
    a: string,
    b: string,
    addSource: number,
    now: number,
  ): Promise<number> {
    const res = await q
      .insertInto('friends')
      .values([
        { userId: a, friendUid: b, remark: '', addSource, createdAt: now },
        { userId: b, friendUid: a, remark: '', addSource, createdAt: now },
      ])
      .$call((insert) => skipExisting(q, insert))
      .executeTakeFirst();
    return insertedRows(res);
  }

  /** Sets the remark on the caller's side of a friendship; false when there is none. */
  async setRemark(userId: string, friendUid: string, remark: string): Promise<boolean> {
    const res = await this.db
      .updateTable('friends')
      .set({ remark })
      .where('userId', '=', userId)
      .where('friendUid', '=', friendUid)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** Remarks the viewer gave to any of `ids` (friends only), for search results. */
  async remarksOf(viewerId: string, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('friends')
      .select(['friendUid', 'remark'])
      .where('userId', '=', viewerId)
      .where('friendUid', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [r.friendUid, r.remark]));
  }

  /** Ends every friendship of `userId` (account deletion); the former friends' ids. */
  async deleteAllOf(q: Db, userId: string): Promise<string[]> {
    const rows = await q
      .selectFrom('friends')
      .select('friendUid')
      .where('userId', '=', userId)
      .orderBy('friendUid')
      .execute();
    await q
      .deleteFrom('friends')
      .where((eb) => eb.or([eb('userId', '=', userId), eb('friendUid', '=', userId)]))
      .execute();
    return rows.map((r) => r.friendUid);
  }

  /** Cancels every pending request sent by or to `userId` (account deletion). */
  async cancelAllPendingOf(q: Db, userId: string, now: number): Promise<void> {
    await q
      .updateTable('friendRequests')
      .set({ handleResult: HandleResult.cancelled, handledAt: now })
      .where((eb) => eb.or([eb('userId', '=', userId), eb('reqUid', '=', userId)]))
      .where('handleResult', '=', HandleResult.pending)
      .execute();
  }

  /** Deletes both directions; the number of rows deleted (0 when they were not friends). */
  async deleteFriendship(q: Db, a: string, b: string): Promise<number> {
    const res = await q
      .deleteFrom('friends')
      .where((eb) =>
        eb.or([
          eb.and([eb('userId', '=', a), eb('friendUid', '=', b)]),
          eb.and([eb('userId', '=', b), eb('friendUid', '=', a)]),
        ]),
      )
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Pending requests addressed to `userId`, oldest first. */
  async listPendingFor(userId: string): Promise<FriendRequest[]> {
    return this.db
      .selectFrom('friendRequests')
      .select(REQUEST_COLUMNS)
      .where('userId', '=', userId)
      .where('handleResult', '=', HandleResult.pending)
      .orderBy('reqTime')
      .orderBy('id')
      .execute();
  }

  /** Friends with their nickname and avatar, in one joined query, oldest friendship first. */
  async listFriends(userId: string): Promise<Friend[]> {
    return this.db
      .selectFrom('friends')
      .innerJoin('users', 'users.id', 'friends.friendUid')
      .select([
        'friends.friendUid',
        'users.nickname',
        'users.avatar',
        'friends.remark',
        'friends.addSource',
      ])
      .where('friends.userId', '=', userId)
      .orderBy('friends.createdAt')
      .orderBy('friends.friendUid')
      .execute();
  }

  async friendIds(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('friends')
      .select('friendUid')
      .where('userId', '=', userId)
      .orderBy('friendUid')
      .execute();
    return rows.map((r) => r.friendUid);
  }
}
