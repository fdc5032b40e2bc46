/**
 * What the IM module needs to know about people and groups, answered by the user
 * and social modules. IM never reads their tables itself.
 */
export interface ChatAccess {
  userExists(userId: string): Promise<boolean>;
  areFriends(a: string, b: string): Promise<boolean>;
  /** Whether `ownerId` has blocked `otherId` (who then cannot message them). */
  isBlocked(ownerId: string, otherId: string): Promise<boolean>;
  isGroupMember(groupId: string, userId: string): Promise<boolean>;
  /** 1 creator, 2 manager, 3 member; undefined when not a member. */
  groupRole(groupId: string, userId: string): Promise<number | undefined>;
  groupExists(groupId: string): Promise<boolean>;
  friendIds(userId: string): Promise<string[]>;
}
