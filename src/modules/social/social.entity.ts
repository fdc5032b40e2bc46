/** Roles in a group (docs/api.md, groups). */
export const RoleLevel = { creator: 1, manager: 2, member: 3 } as const;
export type RoleLevel = (typeof RoleLevel)[keyof typeof RoleLevel];

/** State of a friend or group request. Only a pending request can be handled. */
export const HandleResult = { pending: 1, accepted: 2, refused: 3, cancelled: 4 } as const;
export type HandleResult = (typeof HandleResult)[keyof typeof HandleResult];

/**
 * How a member came into a group: 1 invited by `inviterUid`, 2 applied. `founded`
 * (0) marks the creator's own membership, which no request precedes.
 */
export const JoinSource = { founded: 0, invite: 1, apply: 2 } as const;
export type JoinSource = (typeof JoinSource)[keyof typeof JoinSource];

export const GroupStatus = { active: 1, dismissed: 2 } as const;
export const GroupType = { normal: 1 } as const;

/** Members per page when the caller gives no `limit`, and the most one page holds. */
export const MEMBER_PAGE = { default: 200, max: 1000 } as const;

/** How a friendship came about; a friend request is the only way today. */
export const AddSource = { request: 1 } as const;

/** The key shared by A→B and B→A: both ids sorted and joined with "_". */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}_${b}` : `${b}_${a}`;
}

export interface FriendRequest {
  id: string;
  /** The addressee. */
  userId: string;
  /** The sender. */
  reqUid: string;
  reqMsg: string;
  reqTime: number;
  handleResult: number;
}

export interface Friend {
  friendUid: string;
  nickname: string;
  avatar: string;
  remark: string;
  addSource: number;
}

export interface Group {
  id: string;
  name: string;
  icon: string;
  status: number;
  creatorUid: string;
  groupType: number;
  isVerify: boolean;
  notification: string;
  memberCount: number;
  /** Group-wide mute: only the creator and managers may post. */
  muted: boolean;
}

export interface GroupMember {
  userId: string;
  roleLevel: number;
  nickname: string;
  avatar: string;
  joinTime: number;
}

export interface GroupRequest {
  id: string;
  groupId: string;
  /** The user who would join. */
  reqId: string;
  reqMsg: string;
  reqTime: number;
  joinSource: number;
  /** '' when the user applied. */
  inviterUid: string;
  /** '' while pending. */
  handleUid: string;
  handleResult: number;
}

/** One entry of the caller's block list. */
export interface BlockedUser {
  userId: string;
  nickname: string;
  avatar: string;
  /** When it was blocked, epoch milliseconds. */
  createdAt: number;
}
