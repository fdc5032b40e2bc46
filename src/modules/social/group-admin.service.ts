import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';
import { AppError } from '../../errors/app-error.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { Clock } from '../../shared/clock.js';
import { GroupEvents } from './group-events.js';
import type { GroupMembershipListener } from './group-membership-listener.js';
import type { GroupRepository } from './group.repository.js';
import { RoleLevel, type Group } from './social.entity.js';
import { SocialErrors } from './social.errors.js';

type Db = Kysely<Database>;

export interface GroupAdminServiceDeps {
  db: Db;
  groups: GroupRepository;
  events: EventRecorder;
  clock: Clock;
  membership: GroupMembershipListener;
}

export interface SetRoleInput {
  groupId: string;
  userId: string;
  /** 1 transfers ownership to userId; 2 makes them a manager; 3 an ordinary member. */
  roleLevel: number;
}

/**
 * Leaving and running a group: quit, roles and ownership, removal, dismissal.
 * Like GroupService, each change locks the group row first and checks the
 * caller's role inside that transaction, so a role that changes concurrently
 * cannot be used after it is gone.
 */
export class GroupAdminService {
  /** Group events, with their notices posted to the group conversation. */
  private readonly groupEvents: GroupEvents;

  constructor(private readonly deps: GroupAdminServiceDeps) {
    this.groupEvents = new GroupEvents(deps.events, deps.membership);
  }

  /** The caller leaves; the creator cannot (transfer ownership or dismiss instead). */
  async quit(callerId: string, groupId: string): Promise<void> {
    const { groups } = this.deps;
    await this.inLockedGroup(groupId, async (trx, group) => {
      const role = await groups.roleOf(group.id, callerId, trx);
      if (role === undefined) throw new AppError(SocialErrors.notGroupMember);
      if (role === RoleLevel.creator) throw new AppError(SocialErrors.creatorCannotQuit);
      await groups.deleteMember(trx, group.id, callerId);
      await groups.addToMemberCount(trx, group.id, -1);
      await this.deps.membership.memberLeft(trx, group.id, callerId);
      await this.groupEvents.record(trx, 'group_member-left', group.id, {
        groupId: group.id,
        userId: callerId,
      });
    });
  }

  /**
   * The creator makes a member a manager (2) or an ordinary member (3), or hands
   * over ownership (1): the target becomes creator and the caller a manager.
   * Setting the role a member already has changes nothing.
   */
  async setRole(callerId: string, input: SetRoleInput): Promise<void> {
    const { groups, events } = this.deps;
    await this.inLockedGroup(input.groupId, async (trx, group) => {
      if (group.creatorUid !== callerId) throw new AppError(SocialErrors.notGroupCreator);
      if (input.userId === callerId) throw new AppError(SocialErrors.targetIsSelf);
      const oldRole = await groups.roleOf(group.id, input.userId, trx);
      if (oldRole === undefined) throw new AppError(SocialErrors.memberNotFound);
      if (oldRole === input.roleLevel) return;
      const changed = async (userId: string, from: number, to: number) => {
        await groups.setRole(trx, group.id, userId, to);
        await this.groupEvents.record(trx, 'group_member-role_changed', group.id, {
          groupId: group.id,
          userId,
          oldRoleLevel: from,
          roleLevel: to,
          operatorUid: callerId,
        });
      };
      if (input.roleLevel !== RoleLevel.creator) {
        await changed(input.userId, oldRole, input.roleLevel);
        return;
      }
      // The one-creator index is checked per statement: step down before promoting.
      await changed(callerId, RoleLevel.creator, RoleLevel.manager);
      await changed(input.userId, oldRole, RoleLevel.creator);
      await groups.setCreator(trx, group.id, input.userId);
      await events.record(trx, 'group-owner_transferred', group.id, {
        groupId: group.id,
        fromUid: callerId,
        toUid: input.userId,
        fromRoleLevel: RoleLevel.manager,
      });
    });
  }

  /**
   * Removes a member: the creator removes managers and members, a manager removes
   * ordinary members only, nobody removes the creator.
   */
  async removeMember(callerId: string, groupId: string, userId: string): Promise<void> {
    const { groups } = this.deps;
    await this.inLockedGroup(groupId, async (trx, group) => {
      const callerRole = await groups.roleOf(group.id, callerId, trx);
      if (callerRole !== RoleLevel.creator && callerRole !== RoleLevel.manager) {
        throw new AppError(SocialErrors.notGroupManager);
      }
      if (userId === callerId) throw new AppError(SocialErrors.targetIsSelf);
      const targetRole = await groups.roleOf(group.id, userId, trx);
      if (targetRole === undefined) throw new AppError(SocialErrors.memberNotFound);
      if (
        targetRole === RoleLevel.creator ||
        (callerRole === RoleLevel.manager && targetRole !== RoleLevel.member)
      ) {
        throw new AppError(SocialErrors.cannotRemoveMember);
      }
      await groups.deleteMember(trx, group.id, userId);
      await groups.addToMemberCount(trx, group.id, -1);
      await this.deps.membership.memberLeft(trx, group.id, userId);
      await this.groupEvents.record(trx, 'group_member-removed', group.id, {
        groupId: group.id,
        userId,
        roleLevel: targetRole,
        operatorUid: callerId,
      });
    });
  }

  /**
   * The creator dismisses the group: memberships end, pending requests are
   * cancelled and the group is kept as dismissed (its id stays unique and
   * history can still name it). The event lists every former member.
   */
  async dismiss(callerId: string, groupId: string): Promise<void> {
    await this.inLockedGroup(groupId, async (trx, group) => {
      if (group.creatorUid !== callerId) throw new AppError(SocialErrors.notGroupCreator);
      await this.dismissLocked(trx, group, callerId);
    });
  }

  /**
   * A deleted account leaves a group inside the deleting transaction. When it
   * created the group, ownership passes to the longest-serving manager, else the
   * longest-serving member; a group with nobody else in it is dismissed.
   */
  async leaveDeletedAccount(trx: Db, groupId: string, userId: string): Promise<void> {
    const { groups, events, clock } = this.deps;
    const group = await groups.lockActive(trx, groupId, clock());
    if (!group) return;
    const role = await groups.roleOf(group.id, userId, trx);
    if (role === undefined) return;
    const heir =
      role === RoleLevel.creator ? await groups.successor(trx, group.id, userId) : undefined;
    if (role === RoleLevel.creator && !heir) {
      await this.dismissLocked(trx, group, userId);
      return;
    }
    // The leaving creator goes first: the one-creator index allows no overlap.
    await groups.deleteMember(trx, group.id, userId);
    await groups.addToMemberCount(trx, group.id, -1);
    await this.deps.membership.memberLeft(trx, group.id, userId);
    await this.groupEvents.record(trx, 'group_member-left', group.id, {
      groupId: group.id,
      userId,
    });
    if (!heir) return;
    await groups.setRole(trx, group.id, heir.userId, RoleLevel.creator);
    await groups.setCreator(trx, group.id, heir.userId);
    await this.groupEvents.record(trx, 'group_member-role_changed', group.id, {
      groupId: group.id,
      userId: heir.userId,
      oldRoleLevel: heir.roleLevel,
      roleLevel: RoleLevel.creator,
      operatorUid: userId,
    });
    await events.record(trx, 'group-owner_transferred', group.id, {
      groupId: group.id,
      fromUid: userId,
      toUid: heir.userId,
      fromRoleLevel: 0,
    });
  }

  /** Ends a locked group: memberships, pending requests; the group stays as dismissed. */
  private async dismissLocked(trx: Db, group: Group, operatorUid: string): Promise<void> {
    const { groups, clock } = this.deps;
    const memberIds = await groups.allMemberIds(trx, group.id);
    const now = clock();
    await groups.deleteAllMembers(trx, group.id);
    await groups.cancelAllPending(trx, group.id, operatorUid, now);
    await groups.markDismissed(trx, group.id, now);
    await this.deps.membership.groupDismissed(trx, group.id);
    await this.groupEvents.record(trx, 'group-dismissed', group.id, {
      groupId: group.id,
      operatorUid,
      memberIds,
    });
  }

  private inLockedGroup(
    groupId: string,
    work: (trx: Db, group: Group) => Promise<void>,
  ): Promise<void> {
    const { db, groups, clock } = this.deps;
    return db.transaction().execute(async (trx) => {
      const group = await groups.lockActive(trx, groupId, clock());
      if (!group) throw new AppError(SocialErrors.groupNotFound);
      await work(trx, group);
    });
  }
}
