import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '../../adapters/unavailable.js';
import { MemoryMailbox } from '../../adapters/mailbox/memory-mailbox.js';
import { MemoryPresence } from '../../adapters/presence/memory-presence.js';
import {
  frameText,
  type ConversationAudience,
  type LocalSockets,
} from '../../realtime/local-sockets.js';
import { answerFrame, encodingOf, FrameType, writeFrame } from '../../realtime/frame.js';
import { ChatType, ContentType, type Message } from './im.entity.js';
import { MessageFanout } from './message-fanout.js';
import { RoutedPushDelivery, type PushDelivery } from '../../realtime/push-delivery.js';
import { encodePush, type ServerPush } from '../../realtime/server-push.js';

const message = (seq: number): Message => ({
  msgId: `m${seq}`,
  conversationId: 'group-1',
  chatType: ChatType.group,
  sendId: 'alice',
  recvId: 'group-1',
  seq,
  sendTime: 0,
  mType: 0,
  content: `hello ${seq}`,
  clientMsgId: null,
  modSeq: 0,
});

/** A single chat's message from alice to bob. */
const singleMessage = (seq: number, fields: Partial<Message> = {}): Message => ({
  ...message(seq),
  conversationId: 'si_alice_bob',
  chatType: ChatType.single,
  recvId: 'bob',
  ...fields,
});

/**
 * A fan-out on the real delivery in one process (local sockets, in-memory presence and
 * mailbox): every frame it delivers is handed to `onFrame` as the text sent.
 */
function fanoutOnLocalSockets(
  audience: ConversationAudience,
  onFrame: (text: string) => void,
  onError: (err: unknown) => void = () => undefined,
): MessageFanout {
  const sockets: LocalSockets = {
    deliver: (users, frame) => {
      onFrame(frameText(frame));
      return [...users].length;
    },
    reaches: () => true,
    users: () => [],
  };
  const delivery = new RoutedPushDelivery({
    nodeId: 'n1',
    presence: new MemoryPresence('n1'),
    mailbox: new MemoryMailbox(),
    local: sockets,
    audience,
    batchSize: 100,
  });
  return new MessageFanout({ delivery, onError });
}

/** The same, whose group audience fails `failures` times (an outage), then answers. */
function fanoutWithOutage(failures: number, error: () => Error) {
  let left = failures;
  const pushed: number[] = [];
  const errors: unknown[] = [];
  const audience: ConversationAudience = {
    audience: async () => {
      if (left > 0) {
        left -= 1;
        throw error();
      }
      return ['bob', 'carol'];
    },
  };
  const fanout = fanoutOnLocalSockets(
    audience,
    (text) => pushed.push((JSON.parse(text) as { data: { seq: number } }).data.seq),
    (err) => errors.push(err),
  );
  return { fanout, pushed, errors };
}

describe('MessageFanout', () => {
  it('waits an outage out: a stored message is pushed once the audience can be read, in order', async () => {
    const { fanout, pushed, errors } = fanoutWithOutage(
      3,
      () => new DependencyUnavailableError('database'),
    );
    await Promise.all([fanout.message(message(1)), fanout.message(message(2))]);
    expect(pushed).toEqual([1, 2]);
    expect(errors).toEqual([]);
  });

  it('gives up at once on an error that is not an outage', async () => {
    const { fanout, pushed, errors } = fanoutWithOutage(1, () => new Error('a bug'));
    await fanout.message(message(1));
    await fanout.message(message(2));
    expect(pushed).toEqual([2]);
    expect(errors).toHaveLength(1);
  });
});

describe('MessageFanout.conversationUpdated', () => {
  /** One process; `online` lists the connections (`{user, id}`) it holds. */
  function fanoutWith(online: Array<{ userId: string; id: string }>) {
    const delivered: Array<{ userIds: string[]; frame: string }> = [];
    const sockets: LocalSockets = {
      deliver: (users, frame, except) => {
        const userIds = [...users].filter((u) =>
          online.some((c) => c.userId === u && c.id !== except),
        );
        if (userIds.length > 0) delivered.push({ userIds, frame: frameText(frame) });
        return userIds.length;
      },
      reaches: (users, except) =>
        [...users].some((u) => online.some((c) => c.userId === u && c.id !== except)),
      users: () => online.map((c) => c.userId),
    };
    let queued = 0;
    const delivery = new RoutedPushDelivery({
      nodeId: 'n1',
      presence: new MemoryPresence('n1'),
      mailbox: new MemoryMailbox(),
      local: sockets,
      audience: { audience: async () => [] },
      batchSize: 100,
    });
    const toUsers = delivery.toUsers.bind(delivery);
    delivery.toUsers = (...args) => {
      queued += 1;
      return toUsers(...args);
    };
    const fanout = new MessageFanout({ delivery, onError: () => undefined });
    return { fanout, delivered, queued: () => queued };
  }
  const state = {
    conversationId: 'c1',
    pinned: false,
    muted: false,
    isShow: true,
    readSeq: 3,
    clearSeq: 0,
  };

  it('queues nothing when the user has no device but the one that caused it', async () => {
    const { fanout, delivered, queued } = fanoutWith([{ userId: 'alice', id: 'a1' }]);
    await fanout.conversationUpdated('alice', state, 'a1');
    expect(queued()).toBe(0);
    expect(delivered).toEqual([]);
  });

  it('tells the user’s other devices', async () => {
    const { fanout, delivered } = fanoutWith([
      { userId: 'alice', id: 'a1' },
      { userId: 'alice', id: 'a2' },
    ]);
    await fanout.conversationUpdated('alice', state, 'a1');
    expect(delivered).toHaveLength(1);
    expect(JSON.parse(delivered[0]!.frame)).toMatchObject({
      method: 'conversation.updated',
      data: state,
    });
  });
});

describe('MessageFanout.message: one encoding for the push and the answer', () => {
  it('sends the bytes JSON.stringify makes of each frame', async () => {
    const frames: string[] = [];
    const fanout = fanoutOnLocalSockets({ audience: async () => [] }, (text) => frames.push(text));
    const sent = singleMessage(7, {
      content: 'quote " backslash \\ newline \n emoji 😀 \u2028',
      clientMsgId: 'c-1',
      replyTo: { msgId: 'm1', sendId: 'bob', mType: 101, excerpt: 'hi' },
    });
    await fanout.message(sent);
    expect(frames).toHaveLength(1);
    const push = JSON.parse(frames[0]!) as { id: string };
    expect(frames[0]).toBe(
      JSON.stringify({
        frameType: FrameType.data,
        id: push.id,
        method: 'push',
        formId: 'alice',
        data: { ...sent, contentType: ContentType.chat },
      }),
    );
    // The answer to the sender carries the same object, spliced the same way.
    expect(answerFrame('r1', 'conversation.chat', sent)).toBe(
      JSON.stringify({
        frameType: FrameType.ack,
        id: 'r1',
        method: 'conversation.chat',
        data: sent,
      }),
    );
  });

  it('hands the delivery a push whose data is the message with its contentType, its JSON beside it', async () => {
    const pushes: ServerPush[] = [];
    const delivery: PushDelivery = {
      mayReach: () => true,
      toUsers: async (_users, push) => {
        pushes.push(push);
        return 1;
      },
      toConversation: async () => undefined,
    };
    const fanout = new MessageFanout({ delivery, onError: () => undefined });
    const sent = singleMessage(3, { content: 'tab \t and "quotes"' });
    await fanout.message(sent, 'conn-1');
    expect(pushes).toHaveLength(1);
    const push = pushes[0]!;
    expect(push.method).toBe('push');
    expect(push.formId).toBe('alice');
    expect(push.data).toEqual({ ...sent, contentType: ContentType.chat });
    expect(push.dataJson).toBe(JSON.stringify({ ...sent, contentType: ContentType.chat }));
    push.id = 'p1';
    expect(encodePush(push)).toBe(
      JSON.stringify({
        frameType: FrameType.data,
        id: 'p1',
        method: 'push',
        formId: 'alice',
        data: { ...sent, contentType: ContentType.chat },
      }),
    );
  });

  it('writes a push from its dataJson without reading its data', () => {
    const push = {
      method: 'push' as const,
      id: 'p2',
      formId: 'alice',
      dataJson: '{"seq":1,"contentType":0}',
      get data(): never {
        throw new Error('data read');
      },
    };
    expect(encodePush(push)).toBe(
      '{"frameType":0,"id":"p2","method":"push","formId":"alice","data":{"seq":1,"contentType":0}}',
    );
  });

  it('writes each frame as JSON.stringify would, data shared or not', () => {
    const data = { a: 1, b: 'x "q" \u2028' };
    expect(encodingOf(data)).toBe(JSON.stringify(data));
    const cases: Array<
      [number, string | undefined, string | undefined, string | undefined, unknown]
    > = [
      [FrameType.ack, 'i', 'm', undefined, data],
      [FrameType.data, 'i\n"', 'push', 'alice', data],
      [FrameType.ack, 'i', undefined, undefined, { a: 1 }],
      [FrameType.error, '', 'm', undefined, { code: 1, msg: 'no' }],
      [FrameType.ping, undefined, undefined, undefined, undefined],
      [FrameType.ack, 'i', 'm', undefined, [1, 'two', null]],
      [FrameType.ack, 'i', 'm', undefined, 'text'],
      [FrameType.ack, 'i', 'm', undefined, () => 1],
    ];
    for (const [frameType, id, method, formId, value] of cases) {
      expect(writeFrame(frameType, id, method, formId, value)).toBe(
        JSON.stringify({ frameType, id, method, formId, data: value }),
      );
    }
    expect(writeFrame(FrameType.ack, 'i', 'm', undefined, { ignored: true }, '{"given":1}')).toBe(
      '{"frameType":2,"id":"i","method":"m","data":{"given":1}}',
    );
  });
});

describe('MessageFanout: a single chat’s push written before its call returns', () => {
  const seqOf = (push: ServerPush) =>
    (JSON.parse(encodePush(push)) as { data: { seq: number } }).data.seq;

  it('writes the pushes of one conversation in a row to the sockets before message() returns', () => {
    const frames: string[] = [];
    const fanout = fanoutOnLocalSockets({ audience: async () => [] }, (text) => frames.push(text));
    void fanout.message(singleMessage(1));
    // The conversation's first push is done: the second is not queued behind it.
    void fanout.message(singleMessage(2));
    void fanout.receipt({
      conversationId: 'si_alice_bob',
      chatType: ChatType.single,
      sendId: 'bob',
      recvId: 'alice',
      readSeq: 2,
      sendTime: 0,
    });
    expect(
      frames.map((f) => JSON.parse(f) as { data: { seq?: number; contentType: number } }),
    ).toMatchObject([
      { data: { seq: 1, contentType: ContentType.chat } },
      { data: { seq: 2, contentType: ContentType.chat } },
      { data: { contentType: ContentType.readReceipt } },
    ]);
  });

  /**
   * A delivery that cannot write seq 1 at once (as if a recipient were on another
   * node): seq 1 goes the queued way, through `toUsers`, which meets `outages` outages
   * and then waits for `release`. Every other push can be written at once.
   */
  function halfRoutedDelivery(outages: number) {
    const written: number[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let left = outages;
    const delivery: PushDelivery = {
      mayReach: () => true,
      toUsersNow: (_users, push) => {
        if (seqOf(push) === 1) return undefined;
        written.push(seqOf(push));
        return 1;
      },
      toUsers: async (_users, push) => {
        if (left > 0) {
          left -= 1;
          throw new DependencyUnavailableError('presence');
        }
        await released;
        written.push(seqOf(push));
        return 1;
      },
      toConversation: async () => undefined,
    };
    return { delivery, written, release };
  }

  it('queues a push behind its conversation’s pending one, even when it could be written at once', async () => {
    const { delivery, written, release } = halfRoutedDelivery(0);
    const errors: unknown[] = [];
    const fanout = new MessageFanout({ delivery, onError: (err) => errors.push(err) });
    const first = fanout.message(singleMessage(1));
    const second = fanout.message(singleMessage(2));
    // Another conversation does not wait.
    await fanout.message(singleMessage(3, { conversationId: 'si_alice_carol', recvId: 'carol' }));
    expect(written).toEqual([3]);
    release();
    await Promise.all([first, second]);
    expect(written).toEqual([3, 1, 2]);
    // Once nothing of the conversation is pending, its pushes are written at once again.
    void fanout.message(singleMessage(4));
    expect(written).toEqual([3, 1, 2, 4]);
    expect(errors).toEqual([]);
  });

  it('retries a queued single-chat push through an outage, later pushes waiting behind it', async () => {
    const { delivery, written, release } = halfRoutedDelivery(2);
    release();
    const errors: unknown[] = [];
    const fanout = new MessageFanout({ delivery, onError: (err) => errors.push(err) });
    await Promise.all([fanout.message(singleMessage(1)), fanout.message(singleMessage(2))]);
    expect(written).toEqual([1, 2]);
    expect(errors).toEqual([]);
  });

  it('reports a push that throws while written at once, as the queue reports a failed push', async () => {
    const errors: Array<[unknown, string]> = [];
    const delivery: PushDelivery = {
      mayReach: () => true,
      toUsersNow: () => {
        throw new Error('a bug');
      },
      toUsers: async () => 0,
      toConversation: async () => undefined,
    };
    const fanout = new MessageFanout({
      delivery,
      onError: (err, conversationId) => errors.push([err, conversationId]),
    });
    await expect(fanout.message(singleMessage(1))).resolves.toBeUndefined();
    expect(errors).toEqual([[new Error('a bug'), 'si_alice_bob']]);
  });
});
