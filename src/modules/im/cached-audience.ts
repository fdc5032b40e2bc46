import type { ConversationAudience } from '../../realtime/local-sockets.js';
import type { ConversationRepository } from './conversation.repository.js';

interface MemberList {
  version: number;
  /** Sorted by user id (JavaScript's order: the `after` cursor is compared here too). */
  members: Array<{ userId: string; joinSeq: number }>;
}

/** How many member entries the cache holds in all, across conversations, by default. */
const DEFAULT_MAX_ENTRIES = 500_000;

/**
 * Group audiences held in memory. A push to a group of 1,000 used to read all 1,000
 * member rows for every message (and again for the offline push); here the list is
 * read once and then checked against the conversation's `members_version` — one row
 * by primary key — on every push (its first page). Every member row added or removed bumps that number
 * in its own transaction (conversation.repository.ts), so a list is never used after
 * the change that made it wrong has committed: a member who left gets nothing sent
 * after their leaving, on any process, without any message between processes.
 *
 * The version is read before the rows, so rows read after a concurrent change are
 * stored under the older version and read again next time; never the reverse.
 * Least recently used lists go first once `maxEntries` member entries are held.
 */
export class CachedAudience implements ConversationAudience {
  private readonly lists = new Map<string, MemberList>();
  private entries = 0;

  constructor(
    private readonly repository: Pick<
      ConversationRepository,
      'audience' | 'membersVersion' | 'allMembers'
    >,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
  ) {}

  async audience(
    conversationId: string,
    seq: number,
    after: string | undefined,
    limit: number,
  ): Promise<string[]> {
    // The first page of a push checks the version; its later pages (`after` given) read
    // the list held since, which is at least as new as that check: checked after the
    // message was stored, so it holds everyone who may see it. A group of 10,000 read
    // 500 or 1,000 at a time asked the version 30 times per message for nothing.
    const held = after === undefined ? undefined : this.lists.get(conversationId);
    const list = held ?? (await this.current(conversationId));
    if (!list) return this.repository.audience(conversationId, seq, after, limit);
    const { members } = list;
    let i = after === undefined ? 0 : firstAbove(members, after);
    const out: string[] = [];
    for (; i < members.length && out.length < limit; i += 1) {
      if (members[i]!.joinSeq < seq) out.push(members[i]!.userId);
    }
    return out;
  }

  /** The conversation's list as of its current version, or undefined for no conversation. */
  private async current(conversationId: string): Promise<MemberList | undefined> {
    const version = await this.repository.membersVersion(conversationId);
    if (version === undefined) return undefined;
    const held = this.lists.get(conversationId);
    if (held?.version === version) {
      // Most recently used last: the first entries are the ones to evict.
      this.lists.delete(conversationId);
      this.lists.set(conversationId, held);
      return held;
    }
    const members = (await this.repository.allMembers(conversationId)).sort((a, b) =>
      a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0,
    );
    const list = { version, members };
    this.forget(conversationId);
    if (members.length <= this.maxEntries) {
      this.lists.set(conversationId, list);
      this.entries += members.length;
      this.evict();
    }
    return list;
  }

  private forget(conversationId: string): void {
    const held = this.lists.get(conversationId);
    if (!held) return;
    this.lists.delete(conversationId);
    this.entries -= held.members.length;
  }

  private evict(): void {
    for (const conversationId of this.lists.keys()) {
      if (this.entries <= this.maxEntries) return;
      this.forget(conversationId);
    }
  }
}

/** Index of the first member whose id sorts after `after` (binary search). */
function firstAbove(members: ReadonlyArray<{ userId: string }>, after: string): number {
  let lo = 0;
  let hi = members.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (members[mid]!.userId <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
