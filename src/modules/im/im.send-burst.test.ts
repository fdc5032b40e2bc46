import { describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { befriend } from '../../../test/support/social.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import type { Frame, WsClient } from '../../../test/support/ws-client.js';

/**
 * A device that sends messages back to back, without waiting for each answer: its
 * sends overlap (each starts once the one before has taken its place in the group
 * commit's queue), so they share commits, and they are still stored, answered and
 * followed by the device's next request in the order it sent them (docs/websocket.md).
 * MySQL has no group commit: there each send waits for the one before, as before.
 */
describe.each(STORAGES)('a device sending back to back on %s', (storage) => {
  const { t, connect } = suiteApp({ storage });

  async function friends(): Promise<[RegisteredUser, RegisteredUser]> {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    return [alice, bob];
  }

  /**
   * Sends each frame at once, then waits until every one of them is answered. The ids
   * are words with a dash, never those WsClient.request makes.
   */
  async function burst(client: WsClient, frames: Array<Record<string, unknown>>): Promise<Frame[]> {
    const ids = new Set(frames.map((f) => f.id));
    const before = client.frames.length;
    for (const frame of frames) client.send(frame);
    const answered = () => client.frames.slice(before).filter((f) => ids.has(f.id));
    await client.waitForCount((f) => ids.has(f.id), frames.length);
    return answered();
  }

  const chat = (id: string, recvId: string, content: string, extra: object = {}) => ({
    frameType: 0,
    id,
    method: 'conversation.chat',
    data: { chatType: 2, recvId, clientMsgId: id, msg: { mType: 0, content }, ...extra },
  });

  it('stores 40 sends in the order sent, answers them in that order, and shares their commits', async () => {
    const [alice, bob] = await friends();
    const a = await connect(alice);
    const batches = () => t.app.services.groupCommit?.batchesStarted ?? 0;
    const batchesBefore = batches();
    const frames = Array.from({ length: 40 }, (_, i) => chat(`send-${i}`, bob.id, `m${i}`));
    const answers = await burst(a, frames);

    expect(answers.map((f) => f.id)).toEqual(frames.map((f) => f.id));
    expect(answers.every((f) => f.frameType === 2)).toBe(true);
    expect(answers.map((f) => f.data.seq)).toEqual(frames.map((_, i) => i + 1));
    const rows = await t.app.storage.db
      .selectFrom('messages')
      .select(['seq', 'content'])
      .where('sendId', '=', alice.id)
      .orderBy('seq')
      .execute();
    expect(rows).toEqual(frames.map((_, i) => ({ seq: i + 1, content: `m${i}` })));
    if (storage !== 'mysql') {
      // One commit each, as when every send waited for the one before, would be 40.
      expect(batches() - batchesBefore).toBeLessThanOrEqual(20);
    }
  });

  it('keeps the order when sends that check more (a reply) are among them', async () => {
    const [alice, bob] = await friends();
    const a = await connect(alice);
    const first = await a.call('conversation.chat', {
      chatType: 2,
      recvId: bob.id,
      msg: { mType: 0, content: 'first' },
    });
    // A reply is checked (the message it answers is read) before it is stored: the
    // plain sends behind it wait until it has taken its place.
    const frames = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 1
        ? chat(`reply-${i}`, bob.id, `m${i}`, { replyTo: first.msgId })
        : chat(`reply-${i}`, bob.id, `m${i}`),
    );
    const answers = await burst(a, frames);
    expect(answers.map((f) => [f.id, f.frameType])).toEqual(frames.map((f) => [f.id, 2]));
    expect(answers.map((f) => f.data.seq)).toEqual(frames.map((_, i) => i + 2));
    expect(answers.filter((f) => f.data.replyTo !== undefined).map((f) => f.id)).toEqual([
      'reply-1',
      'reply-4',
      'reply-7',
      'reply-10',
    ]);
  });

  it('runs the request after the sends once they are answered: a sync behind them sees them all', async () => {
    const [alice, bob] = await friends();
    const a = await connect(alice);
    const conversationId = [alice.id, bob.id].sort().join('_');
    const frames = [
      ...Array.from({ length: 10 }, (_, i) => chat(`sync-${i}`, bob.id, `m${i}`)),
      {
        frameType: 0,
        id: 'sync-after',
        method: 'conversation.sync',
        data: { conversations: { [conversationId]: 0 } },
      },
      {
        frameType: 0,
        id: 'read-after',
        method: 'conversation.markChat',
        data: { conversationId, readSeq: 10 },
      },
    ];
    const answers = await burst(a, frames);
    expect(answers.map((f) => f.id)).toEqual(frames.map((f) => f.id));
    const synced = answers.find((f) => f.id === 'sync-after')!;
    expect(synced.frameType).toBe(2);
    const messages = synced.data.conversations[conversationId].messages as Array<{ seq: number }>;
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(answers.find((f) => f.id === 'read-after')).toMatchObject({
      frameType: 2,
      data: { readSeq: 10 },
    });
  });

  it('stores a retry sent right behind its send once, and refuses a malformed send in its place', async () => {
    const [alice, bob] = await friends();
    const a = await connect(alice);
    const once = chat('dup-first', bob.id, 'once');
    const frames = [
      chat('plain-before', bob.id, 'before'),
      once,
      { ...once, id: 'dup-again' },
      {
        ...chat('bad-send', bob.id, 'bad'),
        data: { chatType: 2, recvId: bob.id, msg: { mType: 0 } },
      },
      chat('plain-after', bob.id, 'after'),
    ];
    const answers = await burst(a, frames);
    expect(answers.map((f) => [f.id, f.frameType])).toEqual([
      ['plain-before', 2],
      ['dup-first', 2],
      ['dup-again', 2],
      ['bad-send', 9],
      ['plain-after', 2],
    ]);
    const byId = new Map(answers.map((f) => [f.id, f.data]));
    expect(byId.get('dup-again')).toEqual(byId.get('dup-first'));
    expect(byId.get('bad-send').code).toBe(100002);
    const rows = await t.app.storage.db
      .selectFrom('messages')
      .select(['seq', 'content'])
      .where('sendId', '=', alice.id)
      .orderBy('seq')
      .execute();
    expect(rows).toEqual([
      { seq: 1, content: 'before' },
      { seq: 2, content: 'once' },
      { seq: 3, content: 'after' },
    ]);
  });
});
