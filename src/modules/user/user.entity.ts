/** A user as services and routes see it. The password hash never leaves the repository's credential lookup. */
export interface User {
  id: string;
  phone: string;
  nickname: string;
  sex: Sex;
  avatar: string;
  status: UserStatus;
  createdAt: number;
  updatedAt: number;
}

export const Sex = { unknown: 0, male: 1, female: 2 } as const;
export type Sex = (typeof Sex)[keyof typeof Sex];

/**
 * 2 deleted: the row stays (messages and events name its id) with its phone freed,
 * its profile replaced by DELETED_NICKNAME and no password.
 */
export const UserStatus = { active: 0, disabled: 1, deleted: 2 } as const;
export type UserStatus = (typeof UserStatus)[keyof typeof UserStatus];

/** What a deleted account is called (clients may also check `deleted`). */
export const DELETED_NICKNAME = 'Deleted user';

/** What login needs, and nothing else reads the hash. */
export interface UserCredentials {
  id: string;
  passwordHash: string;
  status: UserStatus;
}

/** The client-facing `info` object (docs/api.md; "mobile" is the Go system’s name for phone). */
export interface UserInfo {
  id: string;
  mobile: string;
  nickname: string;
  sex: number;
  avatar: string;
  /** In search results: the caller's remark for this user, when they are friends. */
  remark?: string;
  /** Present (true) when the account was deleted; its messages stay. */
  deleted?: true;
}
