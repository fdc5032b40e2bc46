import { describe, expect, it } from 'vitest';
import type { EventMessage } from '../../adapters/bus/event-message.js';
import { AnswerCache } from '../../shared/answer-cache.js';
import { SocialAccessCache, type PostState } from './social-access-cache.js';

/** A source that answers from plain sets and counts its reads (each stands for a query). */
class FakeDirectory {
  friends = new Set<string>();
  blocks = new Set<string>();
  posting = new Map<string, NonNullable<PostState>>();
  reads = 0;
  /** When set, reads wait for it: a query in flight while something changes. */
  gate: Promise<void> | undefined;

  async areFriends(a: string, b: string): Promise<boolean> {
    return this.answer(() => this.friends.has(`${a}:${b}`));
  }
  async isBlocked(owner: string, other: string): Promise<boolean> {
    return this.answer(() => this.blocks.has(`${owner}:${other}`));
  }
  async postState(groupId: string, userId: string): Promise<PostState> {
    return this.answer(() => this.posting.get(`${groupId}:${userId}`));
  }
  private async answer<V>(read: () => V): Promise<V> {
    this.reads += 1;
    const value = read();
    await this.gate;
    return value;
  }
}

/** Lets every promise chain already under way finish (a background read). */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

let ids = 0;
function event(type: string, payload: Record<string, unknown>): EventMessage {
  ids += 1;
  return {
    id: `e${ids}`,
    type,
    aggregate: 'social',
    timestamp: 0,
    payload,
    metadata: { source: 'test', version: 1 },
  };
}

function setup(options: { maxEntries?: number; ttlMs?: number; random?: () => number } = {}) {
  let now = 1_000;
  const source = new FakeDirectory();
  const cache = new SocialAccessCache(source, {
    maxEntries: options.maxEntries ?? 100,
    ttlMs: options.ttlMs ?? 30_000,
    clock: () => now,
    // Due at 90% of the TTL unless a test says otherwise.
    random: options.random ?? (() => 1),
  });
  return { source, cache, advance: (ms: number) => (now += ms) };
}

const member = { roleLevel: 3, mutedUntil: 0, groupMuted: false };

describe('AnswerCache', () => {
  it('spreads when answers stored together fall due over the second half of the TTL', () => {
    const draws = [0, 0.5, 0.75];
    const cache = new AnswerCache<number>({
      maxEntries: 10,
      ttlMs: 1_000,
      clock: () => 0,
      random: () => draws.shift()!,
    });
    for (const key of ['a', 'b', 'c']) cache.set(key, 1);
    const due = ['a', 'b', 'c'].map((key) => cache.lookup(key)!.refreshAt);
    expect(due).toEqual([500, 700, 800]);
    expect(cache.lookup('a')!.expiresAt).toBe(1_000);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = new AnswerCache<number>({ maxEntries: 2, ttlMs: 1_000, clock: () => 0 });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.lookup('a')?.value).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.lookup('b')).toBeUndefined();
    expect(cache.lookup('a')?.value).toBe(1);
    expect(cache.lookup('c')?.value).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('tells a remembered undefined from a miss, and forgets at the TTL', () => {
    let now = 0;
    const cache = new AnswerCache<number | undefined>({
      maxEntries: 10,
      ttlMs: 100,
      clock: () => now,
    });
    cache.set('none', undefined);
    expect(cache.lookup('none')).toMatchObject({ value: undefined, expiresAt: 100 });
    now = 100;
    expect(cache.lookup('none')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('holds nothing with maxEntries 0', () => {
    const cache = new AnswerCache<number>({ maxEntries: 0, ttlMs: 100, clock: () => 0 });
    cache.set('a', 1);
    expect(cache.lookup('a')).toBeUndefined();
  });
});

describe('SocialAccessCache', () => {
  it('reads each answer once, positive and negative alike', async () => {
    const { source, cache } = setup();
    source.friends.add('a:b');
    source.posting.set('g:a', member);
    for (let i = 0; i < 3; i += 1) {
      expect(await cache.areFriends('a', 'b')).toBe(true);
      expect(await cache.areFriends('a', 'c')).toBe(false);
      expect(await cache.isBlocked('b', 'a')).toBe(false);
      expect(await cache.postState('g', 'a')).toEqual(member);
      expect(await cache.postState('g', 'x')).toBeUndefined();
    }
    expect(source.reads).toBe(5);
  });

  it('says "may send" at once only from held answers not yet due, and never after a change', async () => {
    const { source, cache, advance } = setup({ ttlMs: 1_000, random: () => 0 });
    source.friends.add('a:b');
    expect(cache.maySendHeld('a', 'b')).toBeUndefined();
    expect(await cache.areFriends('a', 'b')).toBe(true);
    expect(cache.maySendHeld('a', 'b')).toBeUndefined();
    expect(await cache.isBlocked('b', 'a')).toBe(false);
    expect(cache.maySendHeld('a', 'b')).toBe(true);
    expect(cache.maySendHeld('a', 'b')).toBe(true);
    // Only a's answers about b: b's sends to a still need b's own.
    expect(cache.maySendHeld('b', 'a')).toBeUndefined();
    expect(source.reads).toBe(2);
    // Due for its refresh (at half the TTL here): the asynchronous read must run.
    advance(500);
    expect(cache.maySendHeld('a', 'b')).toBeUndefined();
    await cache.areFriends('a', 'b');
    await cache.isBlocked('b', 'a');
    await settled();
    expect(source.reads).toBe(4);
    expect(cache.maySendHeld('a', 'b')).toBe(true);
    // A change recorded here drops the answer (and pins the key): nothing held.
    source.blocks.add('b:a');
    cache.changing(event('blacklist-added', { userId: 'b', blockedUid: 'a' }));
    expect(cache.maySendHeld('a', 'b')).toBeUndefined();
    expect(await cache.isBlocked('b', 'a')).toBe(true);
    expect(cache.maySendHeld('a', 'b')).toBeUndefined();
  });

  it('holds "may send" only until the earlier of its two answers falls due', async () => {
    const draws = [0, 0.5];
    const { source, cache, advance } = setup({ ttlMs: 1_000, random: () => draws.shift() ?? 0 });
    source.friends.add('a:b');
    // Friendship due at 500, the block's answer at 700.
    await cache.areFriends('a', 'b');
    await cache.isBlocked('b', 'a');
    expect(cache.maySendHeld('a', 'b')).toBe(true);
    advance(499);
    expect(cache.maySendHeld('a', 'b')).toBe(true);
    advance(1);
    expect(cache.maySendHeld('a', 'b')).toBeUndefined();
  });

  it('drops every held "may send" on a committed change from the bus, and on clear', async () => {
    const { source, cache } = setup();
    for (const pair of ['a:b', 'c:d', 'e:f']) source.friends.add(pair);
    const hold = async (sender: string, recipient: string) => {
      await cache.areFriends(sender, recipient);
      await cache.isBlocked(recipient, sender);
      return cache.maySendHeld(sender, recipient);
    };
    expect(await hold('a', 'b')).toBe(true);
    expect(await hold('c', 'd')).toBe(true);
    expect(await hold('e', 'f')).toBe(true);
    // Another process's block, heard over the bus: a may no longer send to b.
    source.blocks.add('b:a');
    cache.changed(event('blacklist-added', { userId: 'b', blockedUid: 'a' }));
    expect(cache.maySendHeld('a', 'b')).toBeUndefined();
    expect(await cache.isBlocked('b', 'a')).toBe(true);
    expect(cache.maySendHeld('a', 'b')).toBeUndefined();
    // The others are made again from their answers, still held.
    expect(cache.maySendHeld('c', 'd')).toBe(true);
    // An unfriend in the other direction ends both.
    source.friends.delete('c:d');
    cache.changed(event('friend-deleted', { userId: 'd', friendUid: 'c' }));
    expect(cache.maySendHeld('c', 'd')).toBeUndefined();
    expect(await cache.areFriends('c', 'd')).toBe(false);
    // A deleted account: nothing about it is held any more.
    cache.changed(event('user-deleted', { userId: 'f' }));
    expect(cache.maySendHeld('e', 'f')).toBeUndefined();
    expect(await hold('e', 'f')).toBe(true);
    // The bus reconnected: everything is read again.
    cache.clear();
    expect(cache.maySendHeld('e', 'f')).toBeUndefined();
    expect(source.reads).toBe(10);
  });

  it('keeps "may send" right beyond maxEntries pairs', async () => {
    const { source, cache } = setup({ maxEntries: 4 });
    const pairs = [
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
    ] as const;
    for (const [sender, recipient] of pairs) source.friends.add(`${sender}:${recipient}`);
    for (const [sender, recipient] of pairs) {
      await cache.areFriends(sender, recipient);
      await cache.isBlocked(recipient, sender);
      expect(cache.maySendHeld(sender, recipient)).toBe(true);
    }
    // Four answers held of six: the first pair's were evicted, the last two pairs' kept.
    expect(cache.size).toBe(4);
    source.blocks.add('f:e');
    cache.changed(event('blacklist-added', { userId: 'f', blockedUid: 'e' }));
    expect(cache.maySendHeld('e', 'f')).toBeUndefined();
    expect(cache.maySendHeld('c', 'd')).toBe(true);
    expect(cache.maySendHeld('a', 'b')).toBeUndefined();
  });

  it('reads again after the TTL', async () => {
    const { source, cache, advance } = setup({ ttlMs: 1_000 });
    await cache.isBlocked('b', 'a');
    advance(899);
    await cache.isBlocked('b', 'a');
    expect(source.reads).toBe(1);
    advance(101);
    source.blocks.add('b:a');
    expect(await cache.isBlocked('b', 'a')).toBe(true);
    expect(source.reads).toBe(2);
  });

  it('reads an answer in use again in the background once due, once at a time', async () => {
    const { source, cache, advance } = setup({ ttlMs: 1_000, random: () => 0 });
    expect(await cache.isBlocked('b', 'a')).toBe(false);
    advance(499);
    await cache.isBlocked('b', 'a');
    expect(source.reads).toBe(1);
    advance(1);
    source.blocks.add('b:a');
    let release!: () => void;
    source.gate = new Promise<void>((resolve) => (release = resolve));
    // Due: the send gets the answer held, without waiting, while it is read again.
    expect(await cache.isBlocked('b', 'a')).toBe(false);
    expect(await cache.isBlocked('b', 'a')).toBe(false);
    expect(source.reads).toBe(2);
    release();
    await settled();
    expect(await cache.isBlocked('b', 'a')).toBe(true);
    expect(source.reads).toBe(2);
    // Refreshed at 500: held until 1,500, due again at 1,000.
    advance(499);
    await cache.isBlocked('b', 'a');
    expect(source.reads).toBe(2);
  });

  it('does not keep a background read that a change overtook', async () => {
    const { source, cache, advance } = setup({ ttlMs: 1_000, random: () => 0 });
    await cache.isBlocked('b', 'a');
    advance(500);
    let release!: () => void;
    source.gate = new Promise<void>((resolve) => (release = resolve));
    expect(await cache.isBlocked('b', 'a')).toBe(false);
    // The block commits while the refresh (which read "not blocked") is in flight.
    source.blocks.add('b:a');
    cache.changed(event('blacklist-added', { userId: 'b', blockedUid: 'a' }));
    release();
    await settled();
    source.gate = undefined;
    expect(await cache.isBlocked('b', 'a')).toBe(true);
    expect(source.reads).toBe(3);
  });

  it('drops the answers a committed event changes, in both directions of a friendship', async () => {
    const { source, cache } = setup();
    source.friends.add('a:b').add('b:a');
    expect(await cache.areFriends('a', 'b')).toBe(true);
    expect(await cache.areFriends('b', 'a')).toBe(true);
    source.friends.clear();
    cache.changed(event('friend-deleted', { userId: 'b', friendUid: 'a' }));
    expect(await cache.areFriends('a', 'b')).toBe(false);
    expect(await cache.areFriends('b', 'a')).toBe(false);

    await cache.isBlocked('b', 'a');
    source.blocks.add('b:a');
    cache.changed(event('blacklist-added', { userId: 'b', blockedUid: 'a' }));
    expect(await cache.isBlocked('b', 'a')).toBe(true);
  });

  it('drops one member on member events and the whole group on group-wide ones', async () => {
    const { source, cache } = setup();
    source.posting.set('g:a', member).set('g:b', member).set('h:a', member);
    await cache.postState('g', 'a');
    await cache.postState('g', 'b');
    await cache.postState('h', 'a');
    source.posting.set('g:a', { ...member, mutedUntil: 5_000 });
    cache.changed(
      event('group_member-muted', {
        groupId: 'g',
        userId: 'a',
        operatorUid: 'o',
        mutedUntil: 5_000,
      }),
    );
    expect((await cache.postState('g', 'a'))?.mutedUntil).toBe(5_000);
    expect(source.reads).toBe(4);

    for (const key of ['g:a', 'g:b']) {
      source.posting.set(key, { ...source.posting.get(key)!, groupMuted: true });
    }
    cache.changed(event('group-muted', { groupId: 'g', operatorUid: 'o', muted: true }));
    expect((await cache.postState('g', 'a'))?.groupMuted).toBe(true);
    expect((await cache.postState('g', 'b'))?.groupMuted).toBe(true);
    expect(await cache.postState('h', 'a')).toEqual(member);
    expect(source.reads).toBe(6);

    source.posting.delete('g:a');
    source.posting.delete('g:b');
    cache.changed(event('group-dismissed', { groupId: 'g', operatorUid: 'o', memberIds: [] }));
    expect(await cache.postState('g', 'a')).toBeUndefined();
    expect(await cache.postState('g', 'b')).toBeUndefined();
  });

  it('moves the creator and the new owner on an ownership transfer', async () => {
    const { source, cache } = setup();
    source.posting.set('g:a', { ...member, roleLevel: 1 }).set('g:b', member);
    await cache.postState('g', 'a');
    await cache.postState('g', 'b');
    source.posting.set('g:a', member).set('g:b', { ...member, roleLevel: 1 });
    cache.changed(
      event('group-owner_transferred', {
        groupId: 'g',
        fromUid: 'a',
        toUid: 'b',
        fromRoleLevel: 3,
      }),
    );
    expect((await cache.postState('g', 'a'))?.roleLevel).toBe(3);
    expect((await cache.postState('g', 'b'))?.roleLevel).toBe(1);
  });

  it('forgets every answer about a deleted account', async () => {
    const { source, cache } = setup();
    source.blocks.add('a:b');
    await cache.isBlocked('a', 'b');
    await cache.isBlocked('c', 'd');
    source.blocks.clear();
    cache.changed(event('user-deleted', { userId: 'b' }));
    expect(await cache.isBlocked('a', 'b')).toBe(false);
    await cache.isBlocked('c', 'd');
    expect(source.reads).toBe(3);
  });

  it('ignores events that change no answer', async () => {
    const { source, cache } = setup();
    await cache.areFriends('a', 'b');
    cache.changed(event('group-updated', { groupId: 'g', operatorUid: 'o', changes: {} }));
    cache.changing(event('friend_request-created', { reqUid: 'a', userId: 'b' }));
    await cache.areFriends('a', 'b');
    expect(source.reads).toBe(1);
  });

  it('reads a key changed on this process from the source until its event comes back committed', async () => {
    const { source, cache } = setup();
    source.friends.add('a:b').add('b:a');
    await cache.areFriends('a', 'b');
    const deleted = event('friend-deleted', { userId: 'a', friendUid: 'b' });
    // Recorded inside the transaction: not committed yet, so the source still says friends.
    cache.changing(deleted);
    expect(await cache.areFriends('a', 'b')).toBe(true);
    // Committed: the very next read sees it, before the bus brings the event.
    source.friends.clear();
    expect(await cache.areFriends('a', 'b')).toBe(false);
    expect(await cache.areFriends('b', 'a')).toBe(false);
    expect(source.reads).toBe(4); // nothing kept while pinned
    cache.changed(deleted);
    await cache.areFriends('a', 'b');
    await cache.areFriends('a', 'b');
    expect(source.reads).toBe(5); // kept again once the event came back
  });

  it('unpins a rolled-back change after the TTL', async () => {
    const { source, cache, advance } = setup({ ttlMs: 1_000 });
    cache.changing(event('blacklist-added', { userId: 'b', blockedUid: 'a' }));
    await cache.isBlocked('b', 'a');
    await cache.isBlocked('b', 'a');
    expect(source.reads).toBe(2);
    advance(1_000);
    await cache.isBlocked('b', 'a');
    await cache.isBlocked('b', 'a');
    expect(source.reads).toBe(3);
  });

  it('keeps a key pinned while a second change to it is still uncommitted', async () => {
    const { source, cache } = setup();
    const first = event('blacklist-added', { userId: 'b', blockedUid: 'a' });
    const second = event('blacklist-removed', { userId: 'b', blockedUid: 'a' });
    cache.changing(first);
    cache.changing(second);
    cache.changed(first);
    await cache.isBlocked('b', 'a');
    await cache.isBlocked('b', 'a');
    expect(source.reads).toBe(2);
  });

  it('pins a whole group for a group-wide change', async () => {
    const { source, cache } = setup();
    source.posting.set('g:a', member);
    const muted = event('group-muted', { groupId: 'g', operatorUid: 'o', muted: true });
    cache.changing(muted);
    await cache.postState('g', 'a');
    await cache.postState('g', 'a');
    expect(source.reads).toBe(2);
    cache.changed(muted);
    await cache.postState('g', 'a');
    await cache.postState('g', 'a');
    expect(source.reads).toBe(3);
  });

  it('does not keep an answer read while something was dropped', async () => {
    const { source, cache } = setup();
    source.friends.add('a:b');
    let open!: () => void;
    source.gate = new Promise((resolve) => (open = resolve));
    const inFlight = cache.areFriends('a', 'b'); // read before the change committed
    source.friends.clear();
    cache.changed(event('friend-deleted', { userId: 'a', friendUid: 'b' }));
    open();
    expect(await inFlight).toBe(true);
    source.gate = undefined;
    expect(await cache.areFriends('a', 'b')).toBe(false);
  });

  it('forgets everything on clear (the bus reconnected), but keeps pins', async () => {
    const { source, cache } = setup();
    await cache.areFriends('a', 'b');
    cache.changing(event('blacklist-added', { userId: 'b', blockedUid: 'a' }));
    cache.clear();
    expect(cache.size).toBe(0);
    await cache.areFriends('a', 'b');
    await cache.isBlocked('b', 'a');
    await cache.isBlocked('b', 'a');
    expect(source.reads).toBe(4);
  });
});
