import type { Consumer, Subscription } from '../../adapters/bus/bus.js';
import type { EventMessage } from '../../adapters/bus/event-message.js';
import { DomainTopic, type DomainEventMap } from '../../events/domain-events.js';
import type { TypedEvent } from '../../events/typed-events.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { AnswerCache } from '../../shared/answer-cache.js';
import type { SocialDirectory } from './social-directory.js';

/** What decides whether a member may post to a group (SocialDirectory.postState). */
export type PostState = { roleLevel: number; mutedUntil: number; groupMuted: boolean } | undefined;

export interface SocialAccessCacheOptions {
  /** Answers held in all (friendships, blocks, group post states); 0 turns the cache off. */
  maxEntries: number;
  /** Longest an answer is used: the bound on staleness when invalidations were lost. */
  ttlMs: number;
  clock: Clock;
  /** A number in [0, 1) (tests pin it): where an answer's refresh falls (AnswerCache). */
  random?: () => number;
}

/** The domain events that change a cached answer; the live subscription asks for these. */
export const ACCESS_EVENT_TYPES = [
  'friend-added',
  'friend-deleted',
  'blacklist-added',
  'blacklist-removed',
  'group-created',
  'group_member-joined',
  'group_member-left',
  'group_member-removed',
  'group_member-role_changed',
  'group_member-muted',
  'group-owner_transferred',
  'group-muted',
  'group-dismissed',
  'user-deleted',
] as const satisfies ReadonlyArray<keyof DomainEventMap>;

type AccessEventType = (typeof ACCESS_EVENT_TYPES)[number];
type AccessEvent = TypedEvent<DomainEventMap, AccessEventType>;
const ACCESS_TYPES: ReadonlySet<string> = new Set(ACCESS_EVENT_TYPES);

// Keys and scopes. Ids never hold a newline, so joined ids cannot collide.
const friendKey = (a: string, b: string) => `f\n${a}\n${b}`;
const blockKey = (owner: string, other: string) => `b\n${owner}\n${other}`;
const postKey = (groupId: string, userId: string) => `p\n${groupId}\n${userId}`;
/** Every post state of one group (a group-wide mute, a dismissal). */
const groupScope = (groupId: string) => `g\n${groupId}`;
/** Every answer about one user (a deleted account's block rows go without events). */
const userScope = (userId: string) => `u\n${userId}`;

/**
 * The social answers every send asks for — are these two friends, has the
 * recipient blocked the sender, may this member post to this group — held in
 * memory, so a usual send reads none of them from the database. Both answers are
 * kept ("friends" and "not friends"), each at most `ttlMs`.
 *
 * An answer is dropped by the domain event of the change that makes it wrong, two ways:
 *
 * - On the process making the change, `changing()` runs when the event is recorded,
 *   inside the change's transaction. It drops the answer and *pins* its key until
 *   the event comes back committed: meanwhile reads of that key go to the database
 *   and are not kept, so this process's very next send after the commit sees the
 *   change, without the services having to say when they committed.
 * - Every process hears the committed event through the bus's live subscription
 *   (`changed()`: drop, unpin). Another process therefore uses an old answer for
 *   at most the outbox relay's delay; when the bus connection dropped (events may
 *   be lost) `clear()` forgets everything, and the TTL bounds what a silent loss
 *   could leave.
 *
 * A read that was in flight while any answer was dropped is returned but not
 * kept (`generation`), so an answer read before a commit is never stored after
 * the event that made it wrong. A pin expires after `ttlMs`, so a rolled-back
 * change costs its key that long of database reads, never a wrong answer.
 *
 * An answer in use is read again in the background once it falls due (at a random
 * point in the second half of its TTL, AnswerCache), while sends go on using it: a
 * busy pair's sends never wait for the database, and the answers of every pair,
 * stored together at start, are not all read again in the same moment. A refreshed
 * answer is kept under the same rules as any read, and none is used past its TTL.
 *
 * Misses still come in bursts: after a lull longer than the TTL every pair's
 * answers have expired, and the first send of each pair reads them. The source
 * (SocialDirectory) answers the friendship and block questions of one turn with
 * one statement each (PairBatch), so 100 pairs cost 2 statements rather than 200
 * queued on the pool; each key's load still returns its own answer, so the rules
 * above apply per key as before.
 */
export class SocialAccessCache {
  private readonly answers: AnswerCache<unknown>;
  /** Scope → ids of the recorded, not yet seen committed, events pinning it, with their expiry. */
  private readonly pins = new Map<string, Map<string, number>>();
  private generation = 0;
  /** Keys being read again in the background (one read each at a time). */
  private readonly refreshing = new Set<string>();
  /**
   * maySendHeld's answers: sender → recipient → until when (the clock's ms) "may send"
   * holds, the earlier of its two answers' refresh times. Emptied whenever an answer
   * is dropped (drops), so it never outlives either answer it was made of.
   */
  private readonly maySend = new Map<string, Map<string, number>>();
  /** Entries in maySend (bounded by maxEntries). */
  private maySendCount = 0;

  constructor(
    private readonly source: Pick<SocialDirectory, 'areFriends' | 'isBlocked' | 'postState'>,
    private readonly options: SocialAccessCacheOptions,
  ) {
    this.answers = new AnswerCache(options);
  }

  /** Answers held (tests, metrics). */
  get size(): number {
    return this.answers.size;
  }

  /** Whether `a` has `b` as a friend. */
  areFriends(a: string, b: string): Promise<boolean> {
    return this.read(
      friendKey(a, b),
      () => this.source.areFriends(a, b),
      userScope(a),
      userScope(b),
    );
  }

  /** Whether `ownerId` has blocked `otherId`. */
  isBlocked(ownerId: string, otherId: string): Promise<boolean> {
    return this.read(
      blockKey(ownerId, otherId),
      () => this.source.isBlocked(ownerId, otherId),
      userScope(ownerId),
      userScope(otherId),
    );
  }

  /**
   * Whether `senderId` may send to `recipientId` in a single chat, known at once: true
   * when both answers a send asks for are held and not yet due for a refresh (friends,
   * and the recipient has not blocked the sender): what areFriends and isBlocked would
   * answer now, and all they would do. Undefined when only they can tell (a miss, an
   * answer due to be read again, a refusal).
   * The usual send asks this once, and a pair that keeps sending finds the one answer
   * in a map by sender and recipient: no key built, no two lookups with their LRU
   * moves, until an access event drops any answer (every such answer is then made
   * again from the two held ones) or the earlier of the two falls due.
   */
  maySendHeld(senderId: string, recipientId: string): true | undefined {
    const now = this.options.clock();
    const bySender = this.maySend.get(senderId);
    const until = bySender?.get(recipientId);
    if (until !== undefined && until > now) return true;
    const friends = this.answers.lookup(friendKey(senderId, recipientId), now);
    if (friends?.value !== true || friends.refreshAt <= now) return undefined;
    const blocked = this.answers.lookup(blockKey(recipientId, senderId), now);
    if (blocked?.value !== false || blocked.refreshAt <= now) return undefined;
    if (until === undefined) {
      if (this.maySendCount >= this.options.maxEntries) this.forgetMaySend();
      this.maySendCount += 1;
    }
    const held = bySender ?? new Map<string, number>();
    if (!bySender) this.maySend.set(senderId, held);
    held.set(recipientId, Math.min(friends.refreshAt, blocked.refreshAt));
    return true;
  }

  /** The member's role and mutes in an active group; undefined when not a member. */
  postState(groupId: string, userId: string): Promise<PostState> {
    return this.read(
      postKey(groupId, userId),
      () => this.source.postState(groupId, userId),
      groupScope(groupId),
      userScope(userId),
    );
  }

  /**
   * An event being recorded on this process, inside the transaction of its change
   * (EventRecorder's listener): drops and pins what it changes.
   */
  changing(event: EventMessage): void {
    if (!isAccessEvent(event)) return;
    const now = this.options.clock();
    this.sweepPins(now);
    const until = now + this.options.ttlMs;
    for (const scope of scopesOf(event)) {
      let ids = this.pins.get(scope);
      if (!ids) this.pins.set(scope, (ids = new Map<string, number>()));
      ids.set(event.id, until);
      this.drop(scope);
    }
    this.dropped();
  }

  /** A committed event from the bus (any process's): drops what it changed and unpins. */
  changed(event: EventMessage): void {
    if (!isAccessEvent(event)) return;
    for (const scope of scopesOf(event)) {
      const ids = this.pins.get(scope);
      if (ids?.delete(event.id) && ids.size === 0) this.pins.delete(scope);
      this.drop(scope);
    }
    this.dropped();
  }

  /** Forgets every answer: invalidations may have been missed (the bus reconnected). */
  clear(): void {
    this.answers.clear();
    this.dropped();
  }

  /**
   * Answers were dropped: a read in flight is not kept (generation), and no "may send"
   * made of them is used again (each is made again from the answers still held).
   */
  private dropped(): void {
    this.generation += 1;
    this.forgetMaySend();
  }

  private forgetMaySend(): void {
    if (this.maySendCount === 0) return;
    this.maySend.clear();
    this.maySendCount = 0;
  }

  /**
   * The held answer, or the source's, kept unless an answer was dropped while it
   * was read or a change in progress here covers the key or one of its two wider
   * scopes (the group or the users it is about).
   */
  private async read<V>(
    key: string,
    load: () => Promise<V>,
    widerA: string,
    widerB: string,
  ): Promise<V> {
    const hit = this.answers.lookup(key);
    if (!hit) return this.load(key, load, widerA, widerB);
    if (hit.refreshAt <= this.options.clock() && !this.refreshing.has(key)) {
      this.refreshing.add(key);
      // A failed refresh leaves the answer to expire; the send after that reads it.
      void this.load(key, load, widerA, widerB)
        .catch(() => undefined)
        .finally(() => this.refreshing.delete(key));
    }
    return hit.value as V;
  }

  /** The source's answer, kept unless something dropped or pinned it meanwhile (read). */
  private async load<V>(
    key: string,
    load: () => Promise<V>,
    widerA: string,
    widerB: string,
  ): Promise<V> {
    const generation = this.generation;
    const value = await load();
    if (
      generation === this.generation &&
      !this.pinned(key) &&
      !this.pinned(widerA) &&
      !this.pinned(widerB)
    ) {
      this.answers.set(key, value);
    }
    return value;
  }

  /** Whether a change recorded here and not yet seen committed covers the scope. */
  private pinned(scope: string): boolean {
    if (this.pins.size === 0) return false;
    const ids = this.pins.get(scope);
    if (!ids) return false;
    const now = this.options.clock();
    for (const [id, until] of ids) if (until <= now) ids.delete(id);
    if (ids.size > 0) return true;
    this.pins.delete(scope);
    return false;
  }

  /**
   * Forgets expired pins (rolled-back changes, or events the bus never brought
   * back). Few are ever held: each lives from a change's record to its relay.
   */
  private sweepPins(now: number): void {
    for (const [scope, ids] of this.pins) {
      for (const [id, until] of ids) if (until <= now) ids.delete(id);
      if (ids.size === 0) this.pins.delete(scope);
    }
  }

  private drop(scope: string): void {
    const [kind, id] = scope.split('\n', 2) as [string, string];
    if (kind === 'g') {
      const prefix = postKey(id, '');
      this.answers.deleteWhere((key) => key.startsWith(prefix));
    } else if (kind === 'u') {
      // The ids follow the kind letter.
      this.answers.deleteWhere((key) => key.split('\n').includes(id, 1));
    } else {
      this.answers.delete(scope);
    }
  }
}

function isAccessEvent(event: EventMessage): event is EventMessage & AccessEvent {
  return ACCESS_TYPES.has(event.type);
}

/** The keys and scopes whose answers an event changes. */
function scopesOf(event: AccessEvent): string[] {
  switch (event.type) {
    case 'friend-added':
    case 'friend-deleted': {
      const { userId, friendUid } = event.payload;
      // Friendships are written in both directions, and ended in both.
      return [friendKey(userId, friendUid), friendKey(friendUid, userId)];
    }
    case 'blacklist-added':
    case 'blacklist-removed':
      return [blockKey(event.payload.userId, event.payload.blockedUid)];
    case 'group-created':
      return [postKey(event.payload.groupId, event.payload.creatorUid)];
    case 'group_member-joined':
    case 'group_member-left':
    case 'group_member-removed':
    case 'group_member-role_changed':
    case 'group_member-muted':
      return [postKey(event.payload.groupId, event.payload.userId)];
    case 'group-owner_transferred': {
      const { groupId, fromUid, toUid } = event.payload;
      return [postKey(groupId, fromUid), postKey(groupId, toUid)];
    }
    case 'group-muted':
    case 'group-dismissed':
      return [groupScope(event.payload.groupId)];
    case 'user-deleted':
      return [userScope(event.payload.userId)];
  }
}

/**
 * Keeps a process's access cache current from the bus: every committed access
 * event, whichever process made the change. After the broker connection came back
 * everything is forgotten, since what was published meanwhile never arrives.
 */
export function followSocialChanges(deps: {
  broker: Consumer;
  cache: SocialAccessCache;
  logger: Logger;
}): Promise<Subscription> {
  const { cache, logger } = deps;
  return DomainTopic.subscribe(
    deps.broker,
    ACCESS_EVENT_TYPES,
    async (event) => cache.changed(event),
    () => {
      logger.info('bus reconnected: social access cache cleared');
      cache.clear();
    },
  );
}
