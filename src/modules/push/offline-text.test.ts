import { describe, expect, it } from 'vitest';
import { OfflineTextComposer } from './offline-text.js';
import { notificationText, type NotifiedMessage, type PushPreview } from './push-decision.js';

const sent = {
  msgId: 'm1',
  conversationId: 'g1',
  chatType: 1,
  sendId: 'a',
  seq: 4,
  mType: 2,
};

const lookups: string[][] = [];

function composer(preview: PushPreview, stored?: Partial<NotifiedMessage>, nickname = 'Alice') {
  return new OfflineTextComposer({
    preview,
    nickname: async (id) => (id === 'a' ? nickname : undefined),
    groupName: async (id) => (id === 'g1' ? 'Hikers' : undefined),
    unreadTotals: async (ids) => {
      lookups.push([...ids]);
      return new Map(ids.map((id) => [id, id === 'b' ? 5 : 1]));
    },
    badgesAndMutes: async (ids, conversationId, seq) => {
      lookups.push([...ids, conversationId, String(seq)]);
      return { badges: new Map(ids.map((id) => [id, 2])), quiet: new Set(['c']) };
    },
    findMessage: async (msgId) =>
      stored && msgId === 'm1'
        ? { ...sent, content: '{"fileId":"f","name":"name.pdf"}', ...stored }
        : undefined,
  });
}

describe('OfflineTextComposer', () => {
  it('reads the stored message, the names and each recipient’s unread total', async () => {
    const c = composer('full', {});
    const context = await c.context(sent);
    expect(context).toEqual({
      message: { ...sent, content: '{"fileId":"f","name":"name.pdf"}' },
      senderName: 'Alice',
      groupName: 'Hikers',
      preview: 'full',
    });
    expect(notificationText({ ...context, message: context.message! })).toEqual({
      title: 'Hikers',
      body: 'Alice: [File] name.pdf',
    });
    lookups.length = 0;
    const badges = await c.badges(['b', 'c', 'b']);
    expect([badges.get('b'), badges.get('c')]).toEqual([5, 1]);
    // One lookup for every recipient, each named once; none for nobody.
    expect(lookups).toEqual([['b', 'c']]);
    expect((await c.badges([])).size).toBe(0);
    expect(lookups).toHaveLength(1);
    // A push's badges come with the mutes, in one lookup, each recipient named once.
    const states = await c.badgesAndMutes(['b', 'c', 'c'], 'g1', 4);
    expect([states.badges.get('b'), [...states.quiet]]).toEqual([2, ['c']]);
    expect(lookups[1]).toEqual(['b', 'c', 'g1', '4']);
  });

  it('says when the message is gone, and names a deleted sender "Someone"', async () => {
    expect((await composer('full').context(sent)).message).toBeUndefined();
    const single = await composer('none', { chatType: 2, mType: 0, content: 'hi' }, '').context({
      ...sent,
      chatType: 2,
      conversationId: 'a_b',
      mType: 0,
    });
    expect(single).toMatchObject({ senderName: 'Someone', preview: 'none' });
    expect(single.groupName).toBeUndefined();
  });
});
