import { describe, expect, it } from 'vitest';
import {
  decideNotifications,
  messagePreview,
  recallText,
  type DecisionInput,
  type NotifiedMessage,
  type Recipient,
} from './push-decision.js';

const text = (over: Partial<NotifiedMessage> = {}): NotifiedMessage => ({
  msgId: 'm1',
  conversationId: 'a_b',
  chatType: 2,
  sendId: 'a',
  seq: 7,
  mType: 0,
  content: 'hello there',
  ...over,
});
const recipient = (userId: string, over: Partial<Recipient> = {}): Recipient => ({
  userId,
  online: false,
  muted: false,
  unread: 3,
  devices: [{ deviceId: `${userId}-phone`, platform: 'fcm', locale: null }],
  ...over,
});
const decide = (over: Partial<DecisionInput>) =>
  decideNotifications({
    message: text(),
    senderName: 'Alice',
    preview: 'full',
    recipients: [recipient('b')],
    ...over,
  });

describe('decideNotifications', () => {
  it('a private message: title the sender, body the text, badge, data, collapse per conversation', () => {
    expect(decide({})).toEqual([
      {
        userId: 'b',
        deviceId: 'b-phone',
        platform: 'fcm',
        title: 'Alice',
        body: 'hello there',
        badge: 3,
        data: { conversationId: 'a_b', seq: '7', msgId: 'm1' },
        collapseKey: 'a_b',
        dedupKey: 'b\u0000b-phone\u0000m1',
      },
    ]);
  });

  it('a group message: title the group name, body prefixed with the sender', () => {
    const [n] = decide({
      message: text({ chatType: 1, conversationId: 'g1' }),
      groupName: 'Hikers',
    });
    expect([n!.title, n!.body, n!.collapseKey]).toEqual(['Hikers', 'Alice: hello there', 'g1']);
  });

  it('preview sender and none hide the content', () => {
    expect(decide({ preview: 'sender' }).map((n) => [n.title, n.body])).toEqual([
      ['Alice', 'sent you a message'],
    ]);
    const group = decide({
      preview: 'sender',
      message: text({ chatType: 1 }),
      groupName: 'G',
    });
    expect(group.map((n) => [n.title, n.body])).toEqual([['G', 'Alice sent a message']]);
    expect(decide({ preview: 'none' }).map((n) => [n.title, n.body])).toEqual([
      ['New message', 'You have a new message'],
    ]);
  });

  it('never the sender, never someone online, one per device', () => {
    const out = decide({
      recipients: [
        recipient('a'),
        recipient('b', { online: true }),
        recipient('c', {
          devices: [
            { deviceId: 'c1', platform: 'apns', locale: 'en' },
            { deviceId: 'c2', platform: 'webpush', locale: null },
            { deviceId: 'c1', platform: 'apns', locale: 'en' },
          ],
        }),
      ],
    });
    expect(out.map((n) => [n.userId, n.deviceId, n.platform])).toEqual([
      ['c', 'c1', 'apns'],
      ['c', 'c2', 'webpush'],
    ]);
  });

  it('a muted conversation notifies only those it mentions', () => {
    const recipients = [
      recipient('b', { muted: true }),
      recipient('c', { muted: true }),
      recipient('d'),
    ];
    const plain = decide({ message: text({ chatType: 1 }), recipients });
    expect(plain.map((n) => n.userId)).toEqual(['d']);
    const atC = decide({ message: text({ chatType: 1, atUserIds: ['c'] }), recipients });
    expect(atC.map((n) => n.userId)).toEqual(['c', 'd']);
    const atAll = decide({ message: text({ chatType: 1, atAll: true }), recipients });
    expect(atAll.map((n) => n.userId)).toEqual(['b', 'c', 'd']);
  });

  it('nothing for notices or recalled messages', () => {
    expect(decide({ message: text({ mType: 10, content: '{"type":"member.joined"}' }) })).toEqual(
      [],
    );
    expect(decide({ message: text({ revoked: { by: 'a', at: 1 }, content: '' }) })).toEqual([]);
  });
});

describe('messagePreview', () => {
  it('names what cannot be shown as text', () => {
    expect(messagePreview(1, '{"fileId":"f","name":"cat.jpg"}')).toBe('[Image]');
    expect(messagePreview(2, '{"fileId":"f","name":"name.pdf"}')).toBe('[File] name.pdf');
    expect(messagePreview(2, 'not json')).toBe('[File]');
    expect(messagePreview(4, '{}')).toBe('[Voice]');
    expect(messagePreview(5, '{}')).toBe('[Video]');
    expect(messagePreview(3, '{"x":1}')).toBe('[Message]');
  });

  it('folds whitespace and shortens long text to 100 characters', () => {
    expect(messagePreview(0, ' a\n\n b ')).toBe('a b');
    const long = messagePreview(0, '😀'.repeat(150));
    expect([...long]).toHaveLength(100);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('recallText', () => {
  const message = {
    msgId: 'm1',
    conversationId: 'g1',
    chatType: 1,
    sendId: 'a',
    seq: 3,
    mType: 0,
    content: '',
  };
  it('says who recalled, never what, by preview', () => {
    expect(
      recallText({ message, senderName: 'Alice', groupName: 'Hikers', preview: 'full' }),
    ).toEqual({ title: 'Hikers', body: 'Alice recalled a message' });
    expect(
      recallText({ message: { ...message, chatType: 2 }, senderName: 'Alice', preview: 'sender' }),
    ).toEqual({ title: 'Alice', body: 'recalled a message' });
    expect(recallText({ message, senderName: 'Alice', preview: 'none' })).toEqual({
      title: 'New message',
      body: 'A message was recalled',
    });
  });
});
