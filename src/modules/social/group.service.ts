import type { Kysely } from 'kysely';
import type { Presence } from '../../adapters/presence/presence.js';
import type { Database } from '../../adapters/storage/schema.js';
import { AppError } from '../../errors/app-error.js';
import { CommonErrors } from '../../errors/common.errors.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import type { UserRepository } from '../user/user.repository.js';
import type { BlacklistRepository } from './blacklist.repository.js';
import { GroupEvents } from './group-events.js';
import type { GroupMembershipListener } from './group-membership-listener.js';
import type { GroupRepository, MemberPosition } from './group.repository.js';
import {
  GroupStatus,
  GroupType,
  HandleResult,
  JoinSource,
  MEMBER_PAGE,
  RoleLevel,
  type Group,
  type GroupMember,
  type GroupRequest,
} from './social.entity.js';
import { SocialErrors } from './social.errors.js';

type Db = Kysely<Database>;

export interface GroupServiceDeps {
  db: Db;
  groups: GroupRepository;
  blacklist: BlacklistRepository;
  users: UserRepository;
  events: EventRecorder;
  presence: Presence;
  clock: Clock;
  /** Most members a group may have, creator included. */
  memberLimit: number;
  membership: GroupMembershipListener;
}

export interface CreateGroupInput {
  name: string;
  icon?: string;
  isVerify?: boolean;
}

export interface PutInInput {
  groupId: string;
  reqMsg?: string;
  /** 1 invite `reqId`, 2 apply for myself. */
  joinSource: typeof JoinSource.invite | typeof JoinSource.apply;
  reqId?: string;
}

export interface PutInOutcome {
  /** The pending request, when one was created or already pending. */
  id?: string;
  /** The user is a member now (joined by this call or before it). */
  joined: boolean;
}

export interface HandleGroupRequestInput {
  groupReqId: string;
  groupId: string;
  handleResult:
    typeof HandleResult.accepted | typeof HandleResult.refused | typeof HandleResult.cancelled;
}

export interface MemberPage {
  list: GroupMember[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** Ids per presence lookup when listing online members. */
const PRESENCE_BATCH = 1000;

const isManager = (role: number | undefined) =>
  role === RoleLevel.creator || role === RoleLevel.manager;

/**
 * Groups: creation, joining (applications and invitations), join requests and
 * the read side. Every write locks the group row first (GroupRepository.lockActive)
 * and checks permissions and limits inside that transaction.
 */
export class GroupService {
  /** Group events, with their notices posted to the group conversation. */
  private readonly groupEvents: GroupEvents;

  constructor(private readonly deps: GroupServiceDeps) {
    this.groupEvents = new GroupEvents(deps.events, deps.membership);
  }

  /** Creates the group and its creator's membership in one transaction. */
  async create(callerId: string, input: CreateGroupInput): Promise<{ id: string }> {
    const { db, groups, events, clock } = this.deps;
    const id = newId();
    const now = clock();
    const isVerify = input.isVerify ?? false;
    await db.transaction().execute(async (trx) => {
      await groups.insertGroup(trx, {
        id,
        name: input.name,
        icon: input.icon ?? '',
        status: GroupStatus.active,
        creatorUid: callerId,
        groupType: GroupType.normal,
        isVerify: isVerify ? 1 : 0,
        notification: '',
        notificationUid: null,
        memberCount: 1,
        createdAt: now,
        updatedAt: now,
      });
      await groups.insertMember(trx, {
        groupId: id,
        userId: callerId,
        roleLevel: RoleLevel.creator,
        joinTime: now,
        joinSource: JoinSource.founded,
        inviterUid: null,
        operatorUid: null,
      });
      await events.record(trx, 'group-created', id, {
        groupId: id,
        creatorUid: callerId,
        name: input.name,
        isVerify,
      });
      // The creator's membership first, so the notice below (seq 1, "member.joined"
      // with joinSource 0) is in their history: every group's history starts there.
      await this.deps.membership.memberJoined(trx, id, callerId);
      await this.groupEvents.record(trx, 'group_member-joined', id, {
        groupId: id,
        userId: callerId,
        roleLevel: RoleLevel.creator,
        joinSource: JoinSource.founded,
      });
    });
    return { id };
  }

  /**
   * Applies for the caller (joinSource 2) or invites `reqId` (joinSource 1; the
   * caller must be a member). Joins at once when the group needs no verification
   * or the inviter is its creator or a manager; otherwise leaves one pending
   * request. A member stays as is; a pending request is returned, not duplicated.
   */
  async putIn(callerId: string, input: PutInInput): Promise<PutInOutcome> {
    const { db, groups, users, clock } = this.deps;
    const inviting = input.joinSource === JoinSource.invite;
    const subject = inviting ? input.reqId : (input.reqId ?? callerId);
    if (subject === undefined) throw new AppError(SocialErrors.inviteeRequired);
    if (inviting && subject === callerId) throw new AppError(SocialErrors.targetIsSelf);
    if (!inviting && subject !== callerId) {
      throw new AppError(CommonErrors.badRequest, 'reqId must be your own id when applying');
    }
    if (inviting && !(await users.findById(subject))) {
      throw new AppError(SocialErrors.targetUserNotFound);
    }
    if (inviting && (await this.deps.blacklist.isBlocked(subject, callerId))) {
      throw new AppError(SocialErrors.blockedByUser);
    }

    return db.transaction().execute(async (trx) => {
      const now = clock();
      const group = await groups.lockActive(trx, input.groupId, now);
      if (!group) throw new AppError(SocialErrors.groupNotFound);
      const inviterRole = inviting ? await groups.roleOf(group.id, callerId, trx) : undefined;
      if (inviting && inviterRole === undefined) throw new AppError(SocialErrors.notGroupMember);
      if ((await groups.roleOf(group.id, subject, trx)) !== undefined) return { joined: true };

      if (!group.isVerify || isManager(inviterRole)) {
        await this.addMember(trx, group, {
          userId: subject,
          joinSource: input.joinSource,
          inviterUid: inviting ? callerId : null,
          operatorUid: null,
        });
        // A request this user had pending is answered by the join itself.
        const pending = await groups.findPendingRequest(trx, group.id, subject);
        if (pending) await this.settle(trx, pending, HandleResult.accepted, callerId);
        return { joined: true };
      }

      const existing = await groups.findPendingRequest(trx, group.id, subject);
      if (existing) return { id: existing.id, joined: false };
      const id = newId();
      const reqMsg = input.reqMsg ?? '';
      const inserted = await groups.insertPendingRequest(trx, {
        id,
        groupId: group.id,
        reqId: subject,
        reqMsg,
        reqTime: now,
        joinSource: input.joinSource,
        inviterUid: inviting ? callerId : null,
      });
      // Unreachable while the group row is locked; the unique index is the backstop.
      if (!inserted) throw new AppError(CommonErrors.databaseBusy);
      await this.deps.events.record(trx, 'group_request-created', group.id, {
        requestId: id,
        groupId: group.id,
        reqId: subject,
        joinSource: input.joinSource,
        ...(inviting ? { inviterUid: callerId } : {}),
        reqMsg,
      });
      return { id, joined: false };
    });
  }

  /**
   * Accepts (2) or refuses (3) a pending join request: creator or managers only.
   * The applicant or the inviter may cancel (4) it. Acceptance adds the member
   * (role 3) in the same transaction; a request is handled once.
   */
  async handle(callerId: string, input: HandleGroupRequestInput): Promise<void> {
    const { db, groups, clock } = this.deps;
    await db.transaction().execute(async (trx) => {
      const group = await groups.lockActive(trx, input.groupId, clock());
      if (!group) throw new AppError(SocialErrors.groupNotFound);
      const request = await groups.findRequest(trx, input.groupReqId);
      if (!request || request.groupId !== group.id) {
        throw new AppError(SocialErrors.groupRequestNotFound);
      }
      if (input.handleResult === HandleResult.cancelled) {
        if (callerId !== request.reqId && callerId !== request.inviterUid) {
          throw new AppError(SocialErrors.notGroupRequestParty);
        }
      } else if (!isManager(await groups.roleOf(group.id, callerId, trx))) {
        throw new AppError(SocialErrors.notGroupManager);
      }
      if (request.handleResult !== HandleResult.pending) {
        throw new AppError(SocialErrors.requestAlreadyHandled);
      }
      if (!(await this.settle(trx, request, input.handleResult, callerId))) {
        throw new AppError(SocialErrors.requestAlreadyHandled);
      }
      if (input.handleResult === HandleResult.accepted) {
        await this.addMember(trx, group, {
          userId: request.reqId,
          joinSource: request.joinSource,
          inviterUid: request.inviterUid || null,
          operatorUid: callerId,
        });
      }
    });
  }

  /** Pending join requests of a group: creator and managers only. */
  async pendingRequests(callerId: string, groupId: string): Promise<GroupRequest[]> {
    const role = await this.roleInActiveGroup(groupId, callerId);
    if (!isManager(role)) throw new AppError(SocialErrors.notGroupManager);
    return this.deps.groups.listPendingRequests(groupId);
  }

  /** Active groups the caller belongs to, in the order joined. */
  myGroups(callerId: string): Promise<Group[]> {
    return this.deps.groups.listGroupsOf(callerId);
  }

  /** A page of members in join order: members only. */
  async members(
    callerId: string,
    groupId: string,
    page: { limit?: number; cursor?: string },
  ): Promise<MemberPage> {
    if ((await this.roleInActiveGroup(groupId, callerId)) === undefined) {
      throw new AppError(SocialErrors.notGroupMember);
    }
    const limit = Math.min(page.limit ?? MEMBER_PAGE.default, MEMBER_PAGE.max);
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    // One extra row tells whether another page exists.
    const rows = await this.deps.groups.listMembers(groupId, { after, limit: limit + 1 });
    const list = rows.slice(0, limit);
    const last = list.at(-1);
    return { list, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** Members online now, as `{uid: true}`: members only. */
  async onlineMembers(callerId: string, groupId: string): Promise<Record<string, true>> {
    if ((await this.roleInActiveGroup(groupId, callerId)) === undefined) {
      throw new AppError(SocialErrors.notGroupMember);
    }
    const online: Record<string, true> = {};
    let after: string | undefined;
    for (;;) {
      const ids = await this.deps.groups.memberIds(groupId, { after, limit: PRESENCE_BATCH });
      if (ids.length === 0) break;
      for (const id of await this.deps.presence.onlineAmong(ids)) online[id] = true;
      if (ids.length < PRESENCE_BATCH) break;
      after = ids.at(-1);
    }
    return online;
  }

  /** The caller's role in an active group; 404 when the group does not exist. */
  private async roleInActiveGroup(groupId: string, userId: string): Promise<number | undefined> {
    const { groups } = this.deps;
    const role = await groups.roleOf(groupId, userId);
    if (role !== undefined) return role;
    if (!(await groups.findActive(groupId))) throw new AppError(SocialErrors.groupNotFound);
    return undefined;
  }

  /** Adds an ordinary member to a locked group, within its member limit. */
  private async addMember(
    trx: Db,
    group: Group,
    member: {
      userId: string;
      joinSource: number;
      inviterUid: string | null;
      operatorUid: string | null;
    },
  ): Promise<void> {
    const { groups, clock, memberLimit } = this.deps;
    if (group.memberCount >= memberLimit) throw new AppError(SocialErrors.groupFull);
    const added = await groups.insertMember(trx, {
      groupId: group.id,
      roleLevel: RoleLevel.member,
      joinTime: clock(),
      ...member,
    });
    if (!added) return;
    await groups.addToMemberCount(trx, group.id, 1);
    await this.deps.membership.memberJoined(trx, group.id, member.userId);
    await this.groupEvents.record(trx, 'group_member-joined', group.id, {
      groupId: group.id,
      userId: member.userId,
      roleLevel: RoleLevel.member,
      joinSource: member.joinSource,
      ...(member.inviterUid ? { inviterUid: member.inviterUid } : {}),
      ...(member.operatorUid ? { operatorUid: member.operatorUid } : {}),
    });
  }

  private async settle(
    trx: Db,
    request: GroupRequest,
    result: HandleGroupRequestInput['handleResult'],
    handleUid: string,
  ): Promise<boolean> {
    const now = this.deps.clock();
    if (!(await this.deps.groups.settleRequest(trx, request.id, result, handleUid, now))) {
      return false;
    }
    await this.deps.events.record(trx, 'group_request-handled', request.groupId, {
      requestId: request.id,
      groupId: request.groupId,
      reqId: request.reqId,
      handleResult: result,
      handleUid,
    });
    return true;
  }
}

/** Cursors are opaque to clients: base64url of "joinTime:userId" of the last member sent. */
function encodeCursor(member: GroupMember): string {
  return Buffer.from(`${member.joinTime}:${member.userId}`).toString('base64url');
}

function decodeCursor(cursor: string): MemberPosition {
  const match = /^(\d{1,16}):([0-9A-Za-z]{1,32})$/.exec(
    Buffer.from(cursor, 'base64url').toString('utf8'),
  );
  if (!match) throw new AppError(CommonErrors.badRequest, 'invalid cursor');
  return { joinTime: Number(match[1]), userId: match[2]! };
}
