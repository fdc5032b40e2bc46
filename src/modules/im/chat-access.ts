/**
 * What the IM module needs to know about people and groups, answered by the user
 * and social modules. IM never reads their tables itself.
 */
export interface ChatAccess {
  userExists(userId: string): Promise<boolean>;
  areFriends(a: string, b: string): Promise<boolean>;
  /** Whether `ownerId` has blocked `otherId` (who then cannot message them). */
  isBlocked(ownerId: string, otherId: string): Promise<boolean>;
  /**
   * Whether `senderId` may send to `recipientId` in a single chat, answered at once
   * from memory when it can be (optional): true when they are friends and the recipient
   * has not blocked the sender, as areFriends and isBlocked would answer; undefined
   * when only those can tell. A send between friends whose answers are held then
   * checks its access without a promise.
   */
  maySendNow?(senderId: string, recipientId: string): true | undefined;
  isGroupMember(groupId: string, userId: string): Promise<boolean>;
  /** 1 creator, 2 manager, 3 member; undefined when not a member. */
  groupRole(groupId: string, userId: string): Promise<number | undefined>;
  /**
   * What decides whether a member may post to a group, in one read: the role, the
   * end of the member's own mute (epoch ms, 0 none) and the group-wide mute.
   * Undefined when not a member of an active group.
   */
  groupPostState(
    groupId: string,
    userId: string,
  ): Promise<{ roleLevel: number; mutedUntil: number; groupMuted: boolean } | undefined>;
  groupExists(groupId: string): Promise<boolean>;
  friendIds(userId: string): Promise<string[]>;
}
