import type { BlacklistRepository } from './blacklist.repository.js';
import type { FriendRepository } from './friend.repository.js';
import type { GroupRepository } from './group.repository.js';
import { PairBatch } from '../../shared/pair-batch.js';

/**
 * Read-only answers about the social graph for other modules (IM authorization,
 * fan-out, presence). It reads committed state through the pool; decisions that
 * must hold inside another module's transaction need their own query there.
 */
export class SocialDirectory {
  /** areFriends and isBlocked asked in one turn share a statement each (PairBatch). */
  private readonly friendships: PairBatch;
  private readonly blocks: PairBatch;

  constructor(
    private readonly deps: {
      friends: FriendRepository;
      groups: GroupRepository;
      blacklist: BlacklistRepository;
    },
  ) {
    const { friends, blacklist } = deps;
    this.friendships = new PairBatch({
      one: ([a, b]) => friends.areFriends(a, b),
      many: (pairs) => friends.friendshipsAmong(pairs),
    });
    this.blocks = new PairBatch({
      one: ([owner, other]) => blacklist.isBlocked(owner, other),
      many: (pairs) => blacklist.blocksAmong(pairs),
    });
  }

  /** Whether `ownerId` has blocked `otherId` (one direction; the caller asks the one it means). */
  isBlocked(ownerId: string, otherId: string): Promise<boolean> {
    return this.blocks.ask(ownerId, otherId);
  }

  /** The remarks `viewerId` gave to any of `ids` (friends only). */
  remarksOf(viewerId: string, ids: string[]): Promise<Map<string, string>> {
    return this.deps.friends.remarksOf(viewerId, ids);
  }

  /** Whether `a` has `b` as a friend (friendships are always written in both directions). */
  areFriends(a: string, b: string): Promise<boolean> {
    return this.friendships.ask(a, b);
  }

  /** All friend ids of a user, in id order. */
  friendIds(userId: string): Promise<string[]> {
    return this.deps.friends.friendIds(userId);
  }

  /** The user's role in an active group (1 creator, 2 manager, 3 member), or undefined. */
  async membership(groupId: string, userId: string): Promise<{ roleLevel: number } | undefined> {
    const roleLevel = await this.deps.groups.roleOf(groupId, userId);
    return roleLevel === undefined ? undefined : { roleLevel };
  }

  /** The member's role and mutes, for deciding whether they may post; undefined if not a member. */
  postState(
    groupId: string,
    userId: string,
  ): Promise<{ roleLevel: number; mutedUntil: number; groupMuted: boolean } | undefined> {
    return this.deps.groups.postState(groupId, userId);
  }

  /**
   * Member ids in ascending id order, at most `limit`, after the id `after`: pass the
   * last id of one batch to get the next. Dismissed groups have no members.
   */
  memberIds(groupId: string, page: { after?: string; limit: number }): Promise<string[]> {
    return this.deps.groups.memberIds(groupId, page);
  }

  /** The creator and managers of a group, in id order. */
  managerIds(groupId: string): Promise<string[]> {
    return this.deps.groups.managerIds(groupId);
  }

  /** The name of an active group, or undefined (push notification titles). */
  async groupName(groupId: string): Promise<string | undefined> {
    return (await this.deps.groups.findActive(groupId))?.name;
  }

  /** Whether the group exists and is not dismissed. */
  async groupExists(groupId: string): Promise<boolean> {
    return (await this.deps.groups.findActive(groupId)) !== undefined;
  }
}
