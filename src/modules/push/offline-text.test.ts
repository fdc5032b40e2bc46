import { describe, expect, it } from 'vitest';
import { OfflineTextComposer } from './offline-text.js';
import type { NotifiedMessage, PushPreview } from './push-decision.js';

const sent = {
  msgId: 'm1',
  conversationId: 'g1',
  chatType: 1,
  sendId: 'a',
  seq: 4,
  mType: 2,
};

function composer(preview: PushPreview, stored?: Partial<NotifiedMessage>, nickname = 'Alice') {
  return new OfflineTextComposer({
    preview,
    nickname: async (id) => (id === 'a' ? nickname : undefined),
    groupName: async (id) => (id === 'g1' ? 'Hikers' : undefined),
    totalUnread: async (id) => (id === 'b' ? 5 : 1),
    findMessage: async (msgId) =>
      stored && msgId === 'm1'
        ? { ...sent, content: '{"fileId":"f","name":"name.pdf"}', ...stored }
        : undefined,
  });
}

describe('OfflineTextComposer', () => {
  it('reads the stored message, the names and each recipient’s unread total', async () => {
    const texts = await composer('full', {}).compose(sent, ['b', 'c']);
    expect(Object.fromEntries(texts)).toEqual({
      b: { title: 'Hikers', body: 'Alice: [File] name.pdf', badge: 5 },
      c: { title: 'Hikers', body: 'Alice: [File] name.pdf', badge: 1 },
    });
  });

  it('never shows a message recalled (or gone) before the push went out', async () => {
    const recalled = await composer('full', { revoked: { by: 'a', at: 1 }, content: '' }).compose(
      sent,
      ['b'],
    );
    expect(recalled.get('b')).toEqual({ title: 'Hikers', body: 'Alice sent a message', badge: 5 });
    const gone = await composer('full').compose(sent, ['b']);
    expect(gone.get('b')!.body).toBe('Alice sent a message');
  });

  it('honours preview none, and names a deleted sender "Someone"', async () => {
    expect((await composer('none', {}).compose(sent, ['b'])).get('b')).toEqual({
      title: 'New message',
      body: 'You have a new message',
      badge: 5,
    });
    const single = await composer('full', { chatType: 2, mType: 0, content: 'hi' }, '').compose(
      { ...sent, chatType: 2, conversationId: 'a_b', mType: 0 },
      ['b'],
    );
    expect(single.get('b')).toEqual({ title: 'Someone', body: 'hi', badge: 5 });
  });
});
