import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';
import type { DomainEventMap } from '../../events/domain-events.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { GroupNotice } from '../../shared/group-notice.js';
import type { GroupMembershipListener } from './group-membership-listener.js';

/**
 * The group events that members read about as notices in the group conversation
 * (every one but `group-created` and `group-owner_transferred`: creation is told
 * by the creator's `member.joined`, a transfer by its two `member.role` notices).
 */
type NoticedEvent =
  | 'group_member-joined'
  | 'group_member-left'
  | 'group_member-removed'
  | 'group_member-role_changed'
  | 'group_member-muted'
  | 'group-updated'
  | 'group-muted'
  | 'group-dismissed';

/** Which event becomes which notice (DESIGN.md §7, mType 10 content; docs/api.md lists the fields). */
const NOTICES: { [K in NoticedEvent]: (p: DomainEventMap[K]) => GroupNotice } = {
  // Who let them in: the manager who approved, else the inviter, else they joined themself.
  'group_member-joined': (p) => ({
    type: 'member.joined',
    operatorId: p.operatorUid ?? p.inviterUid ?? p.userId,
    userId: p.userId,
    roleLevel: p.roleLevel,
    joinSource: p.joinSource,
    ...(p.inviterUid ? { inviterId: p.inviterUid } : {}),
  }),
  'group_member-left': (p) => ({ type: 'member.left', operatorId: p.userId, userId: p.userId }),
  'group_member-removed': (p) => ({
    type: 'member.kicked',
    operatorId: p.operatorUid,
    userId: p.userId,
  }),
  'group_member-role_changed': (p) => ({
    type: 'member.role',
    operatorId: p.operatorUid,
    userId: p.userId,
    roleLevel: p.roleLevel,
    oldRoleLevel: p.oldRoleLevel,
  }),
  'group_member-muted': (p) => ({
    type: 'member.muted',
    operatorId: p.operatorUid,
    userId: p.userId,
    mutedUntil: p.mutedUntil,
  }),
  'group-updated': (p) => ({ type: 'group.updated', operatorId: p.operatorUid, ...p.changes }),
  'group-muted': (p) => ({ type: 'group.muted', operatorId: p.operatorUid, muted: p.muted }),
  'group-dismissed': (p) => ({ type: 'group.dismissed', operatorId: p.operatorUid }),
};

function isNoticed(type: string): type is NoticedEvent {
  return Object.hasOwn(NOTICES, type);
}

/**
 * Records a group's domain event and, for the changes members are told about,
 * posts its notice into the group conversation in the same transaction (through
 * the membership listener, which the IM module implements).
 */
export class GroupEvents {
  constructor(
    private readonly events: EventRecorder,
    private readonly membership: GroupMembershipListener,
  ) {}

  async record<K extends keyof DomainEventMap>(
    trx: Kysely<Database>,
    type: K,
    groupId: string,
    payload: DomainEventMap[K],
  ): Promise<void> {
    await this.events.record(trx, type, groupId, payload);
    if (isNoticed(type)) {
      const notice = (NOTICES[type] as (p: DomainEventMap[K]) => GroupNotice)(payload);
      await this.membership.notice(trx, groupId, notice);
    }
  }
}
