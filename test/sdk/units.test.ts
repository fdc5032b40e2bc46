import { backoffDelay, newClientMsgId, SeqTracker, type Message } from '@easy-chat/sdk';
import { describe, expect, it } from 'vitest';

const msg = (conversationId: string, seq: number): Message => ({
  msgId: `m${seq}`,
  conversationId,
  chatType: 2,
  sendId: 'a',
  recvId: 'b',
  seq,
  sendTime: seq,
  mType: 0,
  content: `c${seq}`,
  clientMsgId: null,
  modSeq: 0,
});

describe('newClientMsgId', () => {
  it('makes UUIDv7s: unique, in the order of their milliseconds', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => newClientMsgId(1_764_000_000_000 + i));
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The time is the first 48 bits.
    expect(parseInt(ids[0]!.replace('-', '').slice(0, 12), 16)).toBe(1_764_000_000_000);
    expect(newClientMsgId()).not.toBe(newClientMsgId());
  });
});

describe('backoffDelay', () => {
  it('doubles up to the cap and takes off at most the jitter share', () => {
    const opts = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 };
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, opts, () => 0))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelay(2, opts, () => 1)).toBe(200);
    for (let i = 0; i < 100; i += 1) {
      const d = backoffDelay(3, opts);
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
  });
});

describe('SeqTracker', () => {
  it('drops duplicates and holds messages past a gap until it is filled', () => {
    const tracker = new SeqTracker();
    tracker.start('c', 2);
    expect(tracker.accept(msg('c', 2))).toEqual([]);
    expect(tracker.accept(msg('c', 3)).map((m) => m.seq)).toEqual([3]);
    expect(tracker.accept(msg('c', 5))).toEqual([]);
    expect(tracker.accept(msg('c', 6))).toEqual([]);
    expect(tracker.hasGap('c')).toBe(true);
    expect(tracker.accept(msg('c', 5))).toEqual([]);
    expect(tracker.accept(msg('c', 4)).map((m) => m.seq)).toEqual([4, 5, 6]);
    expect(tracker.hasGap('c')).toBe(false);
    expect(tracker.contiguous('c')).toBe(6);
  });

  it('starts an unknown conversation at its first message and can give up on a gap', () => {
    const tracker = new SeqTracker();
    expect(tracker.accept(msg('x', 7)).map((m) => m.seq)).toEqual([7]);
    expect(tracker.accept(msg('x', 9))).toEqual([]);
    expect(tracker.release('x').map((m) => m.seq)).toEqual([9]);
    expect(tracker.contiguous('x')).toBe(9);
    expect(tracker.snapshot()).toEqual({ x: 9 });
  });
});
