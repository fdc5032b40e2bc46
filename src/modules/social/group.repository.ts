import type { Kysely } from 'kysely';
import { insertedRows, isMysql, skipExisting } from '../../adapters/storage/portable.js';
import type {
  Database,
  GroupMembersTable,
  GroupRequestsTable,
  GroupsTable,
} from '../../adapters/storage/schema.js';
import {
  GroupStatus,
  HandleResult,
  type Group,
  type GroupMember,
  type GroupRequest,
} from './social.entity.js';

type Db = Kysely<Database>;

const GROUP_COLUMNS = [
  'groups.id',
  'groups.name',
  'groups.icon',
  'groups.status',
  'groups.creatorUid',
  'groups.groupType',
  'groups.isVerify',
  'groups.notification',
  'groups.memberCount',
  'groups.muted',
] as const;

const REQUEST_COLUMNS = [
  'id',
  'groupId',
  'reqId',
  'reqMsg',
  'reqTime',
  'joinSource',
  'inviterUid',
  'handleUid',
  'handleResult',
] as const;

/** Where a page of members starts: after this (joinTime, userId). */
export interface MemberPosition {
  joinTime: number;
  userId: string;
}

/**
 * Groups, memberships and join requests in SQL (one class for SQLite and
 * PostgreSQL). Methods that take `q` run on the executor they are given, so
 * services call them inside their transactions.
 */
export class GroupRepository {
  constructor(private readonly db: Db) {}

  async insertGroup(q: Db, row: Omit<GroupsTable, 'muted'>): Promise<void> {
    await q
      .insertInto('groups')
      .values({
        id: row.id,
        name: row.name,
        icon: row.icon,
        status: row.status,
        creatorUid: row.creatorUid,
        groupType: row.groupType,
        isVerify: row.isVerify,
        notification: row.notification,
        notificationUid: row.notificationUid,
        memberCount: row.memberCount,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      })
      .execute();
  }

  /**
   * Locks an active group's row for the rest of the transaction and returns it.
   * Every write that touches a group's members, roles or requests starts here, so
   * they serialize per group on PostgreSQL (SQLite serializes all writers), and a
   * count, role or status read after it cannot change before commit.
   */
  async lockActive(q: Db, groupId: string, now: number): Promise<Group | undefined> {
    const touch = q
      .updateTable('groups')
      .set({ updatedAt: now })
      .where('id', '=', groupId)
      .where('status', '=', GroupStatus.active);
    if (isMysql(q)) {
      // No UPDATE … RETURNING on MySQL: the row is locked by the update, so reading
      // it back in the same transaction sees exactly what was written.
      const { numUpdatedRows } = await touch.executeTakeFirst();
      return numUpdatedRows > 0n ? this.findActive(groupId, q) : undefined;
    }
    const row = await touch.returning(GROUP_COLUMNS).executeTakeFirst();
    return row && toGroup(row);
  }

  async findActive(groupId: string, q: Db = this.db): Promise<Group | undefined> {
    const row = await q
      .selectFrom('groups')
      .select(GROUP_COLUMNS)
      .where('id', '=', groupId)
      .where('status', '=', GroupStatus.active)
      .executeTakeFirst();
    return row && toGroup(row);
  }

  async addToMemberCount(q: Db, groupId: string, delta: number): Promise<void> {
    await q
      .updateTable('groups')
      .set((eb) => ({ memberCount: eb('memberCount', '+', delta) }))
      .where('id', '=', groupId)
      .execute();
  }

  async setCreator(q: Db, groupId: string, creatorUid: string): Promise<void> {
    await q.updateTable('groups').set({ creatorUid }).where('id', '=', groupId).execute();
  }

  async markDismissed(q: Db, groupId: string, now: number): Promise<void> {
    await q
      .updateTable('groups')
      .set({ status: GroupStatus.dismissed, memberCount: 0, updatedAt: now })
      .where('id', '=', groupId)
      .execute();
  }

  /** Changes the given fields of a group's info; a new announcement records who wrote it. */
  async updateInfo(
    q: Db,
    groupId: string,
    patch: GroupInfoPatch,
    operatorUid: string,
    now: number,
  ): Promise<void> {
    // Absent fields stay as they are: Kysely leaves out a column whose value is undefined.
    const notification = patch.notification;
    await q
      .updateTable('groups')
      .set({
        name: patch.name,
        icon: patch.icon,
        notification,
        notificationUid: notification === undefined ? undefined : operatorUid,
        isVerify: patch.isVerify === undefined ? undefined : patch.isVerify ? 1 : 0,
        updatedAt: now,
      })
      .where('id', '=', groupId)
      .execute();
  }

  async setGroupMuted(q: Db, groupId: string, muted: boolean): Promise<void> {
    await q
      .updateTable('groups')
      .set({ muted: muted ? 1 : 0 })
      .where('id', '=', groupId)
      .execute();
  }

  async setMemberMutedUntil(q: Db, groupId: string, userId: string, until: number): Promise<void> {
    await q
      .updateTable('groupMembers')
      .set({ mutedUntil: until })
      .where('groupId', '=', groupId)
      .where('userId', '=', userId)
      .execute();
  }

  /**
   * What decides whether a member may post, in one query: the role, the member's
   * own mute and the group-wide mute. Undefined when not a member of an active group.
   */
  async postState(
    groupId: string,
    userId: string,
  ): Promise<{ roleLevel: number; mutedUntil: number; groupMuted: boolean } | undefined> {
    const row = await this.db
      .selectFrom('groupMembers as gm')
      .innerJoin('groups as g', 'g.id', 'gm.groupId')
      .select(['gm.roleLevel', 'gm.mutedUntil', 'g.muted'])
      .where('gm.groupId', '=', groupId)
      .where('gm.userId', '=', userId)
      .where('g.status', '=', GroupStatus.active)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      roleLevel: row.roleLevel,
      mutedUntil: Number(row.mutedUntil),
      groupMuted: Number(row.muted) === 1,
    };
  }

  async roleOf(groupId: string, userId: string, q: Db = this.db): Promise<number | undefined> {
    const row = await q
      .selectFrom('groupMembers')
      .select('roleLevel')
      .where('groupId', '=', groupId)
      .where('userId', '=', userId)
      .executeTakeFirst();
    return row?.roleLevel;
  }

  /** Adds a member unless already one (the primary key decides). True if added. */
  async insertMember(q: Db, row: Omit<GroupMembersTable, 'mutedUntil'>): Promise<boolean> {
    const inserted = await q
      .insertInto('groupMembers')
      .values({
        groupId: row.groupId,
        userId: row.userId,
        roleLevel: row.roleLevel,
        joinTime: row.joinTime,
        joinSource: row.joinSource,
        inviterUid: row.inviterUid,
        operatorUid: row.operatorUid,
      })
      .$call((insert) => skipExisting(q, insert))
      .executeTakeFirst();
    return insertedRows(inserted) > 0;
  }

  async deleteMember(q: Db, groupId: string, userId: string): Promise<boolean> {
    const res = await q
      .deleteFrom('groupMembers')
      .where('groupId', '=', groupId)
      .where('userId', '=', userId)
      .executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  async setRole(q: Db, groupId: string, userId: string, roleLevel: number): Promise<void> {
    await q
      .updateTable('groupMembers')
      .set({ roleLevel })
      .where('groupId', '=', groupId)
      .where('userId', '=', userId)
      .execute();
  }

  /** Every member id of a group (for dismissal, which must name them all). */
  async allMemberIds(q: Db, groupId: string): Promise<string[]> {
    const rows = await q
      .selectFrom('groupMembers')
      .select('userId')
      .where('groupId', '=', groupId)
      .orderBy('userId')
      .execute();
    return rows.map((r) => r.userId);
  }

  async deleteAllMembers(q: Db, groupId: string): Promise<void> {
    await q.deleteFrom('groupMembers').where('groupId', '=', groupId).execute();
  }

  /** Member ids in id order, `limit` after `after` (keyset paging for batch work). */
  async memberIds(groupId: string, page: { after?: string; limit: number }): Promise<string[]> {
    let query = this.db.selectFrom('groupMembers').select('userId').where('groupId', '=', groupId);
    if (page.after !== undefined) query = query.where('userId', '>', page.after);
    const rows = await query.orderBy('userId').limit(page.limit).execute();
    return rows.map((r) => r.userId);
  }

  /** The creator and managers of a group (who handle its join requests). */
  async managerIds(groupId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('groupMembers')
      .select('userId')
      .where('groupId', '=', groupId)
      .where('roleLevel', 'in', [1, 2])
      .orderBy('userId')
      .execute();
    return rows.map((r) => r.userId);
  }

  /** A page of members with nickname and avatar (one joined query), in join order. */
  async listMembers(
    groupId: string,
    page: { after?: MemberPosition; limit: number },
  ): Promise<GroupMember[]> {
    let query = this.db
      .selectFrom('groupMembers')
      .innerJoin('users', 'users.id', 'groupMembers.userId')
      .select([
        'groupMembers.userId',
        'groupMembers.roleLevel',
        'users.nickname',
        'users.avatar',
        'groupMembers.joinTime',
      ])
      .where('groupMembers.groupId', '=', groupId);
    const after = page.after;
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('groupMembers.joinTime', '>', after.joinTime),
          eb.and([
            eb('groupMembers.joinTime', '=', after.joinTime),
            eb('groupMembers.userId', '>', after.userId),
          ]),
        ]),
      );
    }
    return query
      .orderBy('groupMembers.joinTime')
      .orderBy('groupMembers.userId')
      .limit(page.limit)
      .execute();
  }

  /** Active groups `userId` belongs to, in the order they were joined. */
  async listGroupsOf(userId: string): Promise<Group[]> {
    const rows = await this.db
      .selectFrom('groupMembers')
      .innerJoin('groups', 'groups.id', 'groupMembers.groupId')
      .select(GROUP_COLUMNS)
      .where('groupMembers.userId', '=', userId)
      .where('groups.status', '=', GroupStatus.active)
      .orderBy('groupMembers.joinTime')
      .orderBy('groups.id')
      .execute();
    return rows.map(toGroup);
  }

  async findRequest(q: Db, id: string): Promise<GroupRequest | undefined> {
    const row = await q
      .selectFrom('groupRequests')
      .select(REQUEST_COLUMNS)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRequest(row);
  }

  async findPendingRequest(
    q: Db,
    groupId: string,
    reqId: string,
  ): Promise<GroupRequest | undefined> {
    const row = await q
      .selectFrom('groupRequests')
      .select(REQUEST_COLUMNS)
      .where('groupId', '=', groupId)
      .where('reqId', '=', reqId)
      .where('handleResult', '=', HandleResult.pending)
      .executeTakeFirst();
    return row && toRequest(row);
  }

  /** Inserts a pending request unless one is pending for (group, user). True if inserted. */
  async insertPendingRequest(
    q: Db,
    row: Omit<GroupRequestsTable, 'handleResult' | 'handleUid' | 'handledAt'>,
  ): Promise<boolean> {
    const inserted = await q
      .insertInto('groupRequests')
      .values({
        id: row.id,
        groupId: row.groupId,
        reqId: row.reqId,
        reqMsg: row.reqMsg,
        reqTime: row.reqTime,
        joinSource: row.joinSource,
        inviterUid: row.inviterUid,
        handleResult: HandleResult.pending,
        handleUid: null,
        handledAt: null,
      })
      .$call((insert) => skipExisting(q, insert))
      .executeTakeFirst();
    return insertedRows(inserted) > 0;
  }

  /** Settles one request if it is still pending; true if this call settled it. */
  async settleRequest(
    q: Db,
    id: string,
    result: HandleResult,
    handleUid: string,
    now: number,
  ): Promise<boolean> {
    const res = await q
      .updateTable('groupRequests')
      .set({ handleResult: result, handleUid, handledAt: now })
      .where('id', '=', id)
      .where('handleResult', '=', HandleResult.pending)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** Cancels every pending request for `reqId` to join any group (account deletion). */
  async cancelPendingFor(q: Db, reqId: string, now: number): Promise<void> {
    await q
      .updateTable('groupRequests')
      .set({ handleResult: HandleResult.cancelled, handleUid: reqId, handledAt: now })
      .where('reqId', '=', reqId)
      .where('handleResult', '=', HandleResult.pending)
      .execute();
  }

  /** Ids of the active groups `userId` belongs to, in id order. */
  async activeGroupIdsOf(q: Db, userId: string): Promise<string[]> {
    const rows = await q
      .selectFrom('groupMembers')
      .innerJoin('groups', 'groups.id', 'groupMembers.groupId')
      .select('groups.id')
      .where('groupMembers.userId', '=', userId)
      .where('groups.status', '=', GroupStatus.active)
      .orderBy('groups.id')
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Who takes over a group its creator leaves: the longest-serving manager, else
   * the longest-serving member; undefined when nobody else is left.
   */
  async successor(
    q: Db,
    groupId: string,
    leavingUid: string,
  ): Promise<{ userId: string; roleLevel: number } | undefined> {
    return q
      .selectFrom('groupMembers')
      .select(['userId', 'roleLevel'])
      .where('groupId', '=', groupId)
      .where('userId', '!=', leavingUid)
      .orderBy('roleLevel')
      .orderBy('joinTime')
      .orderBy('userId')
      .limit(1)
      .executeTakeFirst();
  }

  /** Cancels every pending request of a group (dismissal); how many. */
  async cancelAllPending(q: Db, groupId: string, handleUid: string, now: number): Promise<number> {
    const res = await q
      .updateTable('groupRequests')
      .set({ handleResult: HandleResult.cancelled, handleUid, handledAt: now })
      .where('groupId', '=', groupId)
      .where('handleResult', '=', HandleResult.pending)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /** Pending requests of a group, oldest first. */
  async listPendingRequests(groupId: string): Promise<GroupRequest[]> {
    const rows = await this.db
      .selectFrom('groupRequests')
      .select(REQUEST_COLUMNS)
      .where('groupId', '=', groupId)
      .where('handleResult', '=', HandleResult.pending)
      .orderBy('reqTime')
      .orderBy('id')
      .execute();
    return rows.map(toRequest);
  }
}

function toGroup(
  row: Omit<GroupsTable, 'notificationUid' | 'createdAt' | 'updatedAt' | 'muted'> & {
    muted: number;
  },
): Group {
  return { ...row, isVerify: row.isVerify === 1, muted: Number(row.muted) === 1 };
}

/** The fields of a group's info that its creator or managers change. */
export interface GroupInfoPatch {
  name?: string;
  icon?: string;
  notification?: string;
  isVerify?: boolean;
}

function toRequest(row: Pick<GroupRequestsTable, (typeof REQUEST_COLUMNS)[number]>): GroupRequest {
  return { ...row, inviterUid: row.inviterUid ?? '', handleUid: row.handleUid ?? '' };
}
