import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';
import { AppError } from '../../errors/app-error.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { Clock } from '../../shared/clock.js';
import { GroupEvents } from './group-events.js';
import type { GroupMembershipListener } from './group-membership-listener.js';
import type { GroupInfoPatch, GroupRepository } from './group.repository.js';
import { RoleLevel, type Group } from './social.entity.js';
import { SocialErrors } from './social.errors.js';

type Db = Kysely<Database>;

export interface GroupSettingsServiceDeps {
  db: Db;
  groups: GroupRepository;
  events: EventRecorder;
  clock: Clock;
  /** Takes the notices of these changes into the group conversation. */
  membership: GroupMembershipListener;
}

export interface UpdateGroupInput extends GroupInfoPatch {
  groupId: string;
}

export interface MuteMemberInput {
  groupId: string;
  userId: string;
  /** How long from now; 0 lifts the mute. */
  seconds: number;
}

/**
 * A group's settings, by its creator or managers: name, icon, announcement
 * (`notification`) and verification, the group-wide mute and muting one member.
 * Like the other group services, each change locks the group row first and
 * checks the caller's role inside that transaction.
 */
export class GroupSettingsService {
  /** Group events, with their notices posted to the group conversation. */
  private readonly groupEvents: GroupEvents;

  constructor(private readonly deps: GroupSettingsServiceDeps) {
    this.groupEvents = new GroupEvents(deps.events, deps.membership);
  }

  /** Changes the given fields; fields equal to the current value change nothing. */
  async update(callerId: string, input: UpdateGroupInput): Promise<void> {
    const { groups, clock } = this.deps;
    await this.asManager(callerId, input.groupId, async (trx, group) => {
      const patch: GroupInfoPatch = {};
      if (input.name !== undefined && input.name !== group.name) patch.name = input.name;
      if (input.icon !== undefined && input.icon !== group.icon) patch.icon = input.icon;
      if (input.notification !== undefined && input.notification !== group.notification) {
        patch.notification = input.notification;
      }
      if (input.isVerify !== undefined && input.isVerify !== group.isVerify) {
        patch.isVerify = input.isVerify;
      }
      if (Object.keys(patch).length === 0) return;
      await groups.updateInfo(trx, group.id, patch, callerId, clock());
      await this.groupEvents.record(trx, 'group-updated', group.id, {
        groupId: group.id,
        operatorUid: callerId,
        changes: patch,
      });
    });
  }

  /** Mutes (or unmutes) the whole group: only the creator and managers may post. */
  async muteGroup(callerId: string, groupId: string, muted: boolean): Promise<void> {
    const { groups } = this.deps;
    await this.asManager(callerId, groupId, async (trx, group) => {
      if (group.muted === muted) return;
      await groups.setGroupMuted(trx, group.id, muted);
      await this.groupEvents.record(trx, 'group-muted', group.id, {
        groupId: group.id,
        operatorUid: callerId,
        muted,
      });
    });
  }

  /**
   * Mutes one member for `seconds` (0 lifts it). The creator mutes managers and
   * members, a manager ordinary members only; nobody mutes the creator or themself.
   */
  async muteMember(callerId: string, input: MuteMemberInput): Promise<{ mutedUntil: number }> {
    const { groups, clock } = this.deps;
    let mutedUntil = 0;
    await this.asManager(callerId, input.groupId, async (trx, group, callerRole) => {
      if (input.userId === callerId) throw new AppError(SocialErrors.targetIsSelf);
      const targetRole = await groups.roleOf(group.id, input.userId, trx);
      if (targetRole === undefined) throw new AppError(SocialErrors.memberNotFound);
      if (
        targetRole === RoleLevel.creator ||
        (callerRole === RoleLevel.manager && targetRole !== RoleLevel.member)
      ) {
        throw new AppError(SocialErrors.cannotMuteMember);
      }
      mutedUntil = input.seconds === 0 ? 0 : clock() + input.seconds * 1000;
      await groups.setMemberMutedUntil(trx, group.id, input.userId, mutedUntil);
      await this.groupEvents.record(trx, 'group_member-muted', group.id, {
        groupId: group.id,
        userId: input.userId,
        operatorUid: callerId,
        mutedUntil,
      });
    });
    return { mutedUntil };
  }

  /** Runs `work` with the group locked, when the caller is its creator or a manager. */
  private asManager(
    callerId: string,
    groupId: string,
    work: (trx: Db, group: Group, callerRole: number) => Promise<void>,
  ): Promise<void> {
    const { db, groups, clock } = this.deps;
    return db.transaction().execute(async (trx) => {
      const group = await groups.lockActive(trx, groupId, clock());
      if (!group) throw new AppError(SocialErrors.groupNotFound);
      const role = await groups.roleOf(group.id, callerId, trx);
      if (role === undefined) throw new AppError(SocialErrors.notGroupMember);
      if (role !== RoleLevel.creator && role !== RoleLevel.manager) {
        throw new AppError(SocialErrors.notGroupManager);
      }
      await work(trx, group, role);
    });
  }
}
