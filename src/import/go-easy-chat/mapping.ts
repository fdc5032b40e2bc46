import type {
  FriendRequestsTable,
  FriendsTable,
  GroupMembersTable,
  GroupRequestsTable,
  GroupsTable,
  UsersTable,
} from '../../adapters/storage/schema.js';
import {
  AddSource,
  GroupStatus,
  GroupType,
  HandleResult,
  JoinSource,
  RoleLevel,
  pairKey,
} from '../../modules/social/social.entity.js';
import { Sex, UserStatus } from '../../modules/user/user.entity.js';
import type {
  GoFriend,
  GoFriendRequest,
  GoGroup,
  GoGroupMember,
  GoGroupRequest,
  GoUser,
} from './go-source.js';

/**
 * From a Go easy-chat row to an easy-chat row, or the reason it cannot be one.
 * Pure: what was seen before (ids, phones, pairs) is in `ImportState`, filled as
 * rows are read, so rules such as "one pending request per pair" hold across pages.
 *
 * Codes are the Go system's, and mostly ours too: handle results 1 pending,
 * 2 accepted, 3 refused, 4 cancelled; roles 1 creator, 2 manager, 3 member; join
 * sources 1 invite, 2 apply. Ids are kept ("0x0000000100000001" fits our 32
 * characters); request ids, integers there, become "gofr-<id>" and "gogr-<id>".
 */

export type Mapped<T> = { row: T; note?: string } | { skip: string };

export interface ImportState {
  /** Go user ids that are (now) in easy-chat. */
  users: Set<string>;
  /** Phone → the Go user id that has it, first come first served. */
  phones: Map<string, string>;
  /** Directed friend pairs seen ("a b"). */
  friendPairs: Set<string>;
  /** Pair keys with a pending friend request. */
  pendingFriendPairs: Set<string>;
  /** Go group id → its creator, for groups that are in easy-chat. */
  groups: Map<string, string>;
  /** "group user" memberships seen. */
  members: Set<string>;
  /** "group user" pending join requests seen. */
  pendingJoins: Set<string>;
}

export function newImportState(): ImportState {
  return {
    users: new Set(),
    phones: new Map(),
    friendPairs: new Set(),
    pendingFriendPairs: new Set(),
    groups: new Map(),
    members: new Set(),
    pendingJoins: new Set(),
  };
}

const USER_ID_MAX = 32;

/** A TIMESTAMP as epoch ms; NULL (the Go models leave many unset) as `fallback`. */
function ms(value: Date | null, fallback: number): number {
  const time = value?.getTime();
  return time !== undefined && Number.isFinite(time) ? time : fallback;
}

/** Cut to `max` characters (code points, so an emoji is never split). */
function cut(value: string, max: number): { text: string; cut: boolean } {
  const chars = Array.from(value);
  return chars.length <= max
    ? { text: value, cut: false }
    : { text: chars.slice(0, max).join(''), cut: true };
}

const HANDLE_RESULTS = new Set<number>(Object.values(HandleResult));

export function mapUser(go: GoUser, state: ImportState, now: number): Mapped<UsersTable> {
  if (go.id.length === 0 || go.id.length > USER_ID_MAX) return { skip: 'id empty or too long' };
  const phone = (go.phone ?? '').trim();
  if (phone === '') return { skip: 'no phone number (it is the login name)' };
  const owner = state.phones.get(phone);
  if (owner !== undefined && owner !== go.id) return { skip: `phone already used by ${owner}` };
  state.phones.set(phone, go.id);
  const nickname = cut(go.nickname?.trim() || phone, 64);
  const createdAt = ms(go.created_at, now);
  return {
    row: {
      id: go.id,
      phone,
      nickname: nickname.text,
      // bcrypt as the Go system stored it: verified at login, then replaced by argon2id.
      // No password: the account exists (friends and groups refer to it) but cannot log in.
      passwordHash: go.password ?? '',
      sex: go.sex === Sex.male || go.sex === Sex.female ? go.sex : Sex.unknown,
      avatar: cut(go.avatar ?? '', 512).text,
      // The Go system never sets status; a non-zero one is its "locked".
      status: go.status ? UserStatus.disabled : UserStatus.active,
      createdAt,
      updatedAt: ms(go.updated_at, createdAt),
    },
    ...(go.password ? {} : { note: 'no password: cannot log in' }),
    ...(nickname.cut ? { note: 'nickname cut to 64 characters' } : {}),
  };
}

export function mapFriend(go: GoFriend, state: ImportState, now: number): Mapped<FriendsTable> {
  if (go.user_id === go.friend_uid) return { skip: 'friend of oneself' };
  if (!state.users.has(go.user_id) || !state.users.has(go.friend_uid)) {
    return { skip: 'user not imported' };
  }
  const pair = `${go.user_id} ${go.friend_uid}`;
  if (state.friendPairs.has(pair)) return { skip: 'duplicate friend row' };
  state.friendPairs.add(pair);
  return {
    row: {
      userId: go.user_id,
      friendUid: go.friend_uid,
      remark: cut(go.remark ?? '', 255).text,
      addSource: go.add_source ?? AddSource.request,
      createdAt: ms(go.created_at, now),
    },
  };
}

export function mapFriendRequest(
  go: GoFriendRequest,
  state: ImportState,
  now: number,
): Mapped<FriendRequestsTable> {
  if (go.handle_result === null || !HANDLE_RESULTS.has(go.handle_result)) {
    // The Go system lists only handle_result = 1 as pending: such a row was never shown.
    return { skip: 'no handle result (never shown by the Go system)' };
  }
  if (go.user_id === go.req_uid) return { skip: 'request to oneself' };
  if (!state.users.has(go.user_id) || !state.users.has(go.req_uid)) {
    return { skip: 'user not imported' };
  }
  const key = pairKey(go.user_id, go.req_uid);
  if (go.handle_result === HandleResult.pending) {
    if (state.pendingFriendPairs.has(key)) {
      return { skip: 'another pending request between the same users' };
    }
    state.pendingFriendPairs.add(key);
  }
  const reqTime = ms(go.req_time, now);
  return {
    row: {
      id: `gofr-${go.id}`,
      userId: go.user_id,
      reqUid: go.req_uid,
      pairKey: key,
      reqMsg: cut(go.req_msg ?? '', 255).text,
      reqTime,
      handleResult: go.handle_result,
      handledAt: go.handle_result === HandleResult.pending ? null : ms(go.handled_at, reqTime),
    },
  };
}

export function mapGroup(
  go: GoGroup,
  state: ImportState,
  now: number,
): Mapped<Omit<GroupsTable, 'muted'>> {
  if (go.id.length === 0 || go.id.length > USER_ID_MAX) return { skip: 'id empty or too long' };
  if (!state.users.has(go.creator_uid)) return { skip: 'creator not imported' };
  const name = cut(go.name?.trim() || go.id, 64);
  state.groups.set(go.id, go.creator_uid);
  const createdAt = ms(go.created_at, now);
  return {
    row: {
      id: go.id,
      name: name.text,
      icon: cut(go.icon ?? '', 512).text,
      status: go.status === GroupStatus.dismissed ? GroupStatus.dismissed : GroupStatus.active,
      creatorUid: go.creator_uid,
      groupType: go.group_type ?? GroupType.normal,
      isVerify: go.is_verify ? 1 : 0,
      notification: cut(go.notification ?? '', 1024).text,
      notificationUid: go.notification_uid,
      // Counted from the imported members once they are in.
      memberCount: 0,
      createdAt,
      updatedAt: ms(go.updated_at, createdAt),
    },
    ...(name.cut ? { note: 'name cut to 64 characters' } : {}),
  };
}

export function mapGroupMember(
  go: GoGroupMember,
  state: ImportState,
  now: number,
): Mapped<Omit<GroupMembersTable, 'mutedUntil'>> {
  const creator = state.groups.get(go.group_id);
  if (creator === undefined) return { skip: 'group not imported' };
  if (!state.users.has(go.user_id)) return { skip: 'user not imported' };
  const key = `${go.group_id} ${go.user_id}`;
  if (state.members.has(key)) return { skip: 'duplicate membership' };
  state.members.add(key);
  // One creator per group: the one the group row names.
  let roleLevel: number = go.role_level ?? RoleLevel.member;
  let note: string | undefined;
  if (go.user_id === creator) roleLevel = RoleLevel.creator;
  else if (roleLevel === RoleLevel.creator) {
    roleLevel = RoleLevel.manager;
    note = 'second creator made a manager';
  } else if (roleLevel !== RoleLevel.manager) roleLevel = RoleLevel.member;
  return {
    row: {
      groupId: go.group_id,
      userId: go.user_id,
      roleLevel,
      joinTime: ms(go.join_time, now),
      joinSource: go.join_source ?? JoinSource.founded,
      inviterUid: go.inviter_uid,
      operatorUid: go.operator_uid,
    },
    ...(note ? { note } : {}),
  };
}

export function mapGroupRequest(
  go: GoGroupRequest,
  state: ImportState,
  now: number,
): Mapped<GroupRequestsTable> {
  if (go.handle_result === null || !HANDLE_RESULTS.has(go.handle_result)) {
    return { skip: 'no handle result (never shown by the Go system)' };
  }
  if (!state.groups.has(go.group_id)) return { skip: 'group not imported' };
  if (!state.users.has(go.req_id)) return { skip: 'user not imported' };
  if (go.handle_result === HandleResult.pending) {
    const key = `${go.group_id} ${go.req_id}`;
    if (state.pendingJoins.has(key)) return { skip: 'another pending request of the same user' };
    state.pendingJoins.add(key);
  }
  const reqTime = ms(go.req_time, now);
  return {
    row: {
      id: `gogr-${go.id}`,
      groupId: go.group_id,
      reqId: go.req_id,
      reqMsg: cut(go.req_msg ?? '', 255).text,
      reqTime,
      joinSource: go.join_source ?? JoinSource.apply,
      inviterUid: go.inviter_user_id,
      // Go's handler leaves handle_user_id empty: "handled, by whom unknown" stays so.
      handleUid: go.handle_user_id,
      handleResult: go.handle_result,
      handledAt: go.handle_result === HandleResult.pending ? null : ms(go.handle_time, reqTime),
    },
  };
}
