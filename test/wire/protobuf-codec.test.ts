import { describe, expect, it } from 'vitest';
import {
  jsonCodec,
  UndecodableEventError,
  type DecodeHints,
} from '../../src/adapters/bus/codec.js';
import type { EventMessage } from '../../src/adapters/bus/event-message.js';
import { PROTOBUF_CODECS, topicFormats } from '../../src/catalogue/topic-formats.js';
import { protocDecode, protocEncode, RUN_PROTOC_TESTS } from '../support/protoc.js';

const PKG = 'easychat.mq.v1';

function event(type: string, payload: unknown, traceId?: string): EventMessage {
  return {
    id: '01JD5Z8Q3K4XG2Y7B6N1M0P9AR',
    type,
    aggregate: 'system',
    timestamp: 1_764_000_000_123,
    payload,
    metadata: { source: 'easy-chat/node-1', version: 1, ...(traceId ? { traceId } : {}) },
  };
}

const ENVELOPE_TEXT = [
  'message_id: "01JD5Z8Q3K4XG2Y7B6N1M0P9AR"',
  'timestamp: 1764000000123',
  'source: "easy-chat/node-1"',
];

const hints = (type: string): DecodeHints => ({
  type,
  fallbackId: () => 'broker-id-1',
  fallbackTimestamp: () => 1_000,
});

/**
 * Each event, its message, and the text `protoc --decode` prints for easy-chat's
 * bytes (fields in number order, the envelope in 100-103).
 */
const CASES = [
  {
    topic: 'notify' as const,
    event: event('notify.email', {
      to: 'alice@example.test',
      subject: 'Welcome',
      text: 'Hello Alice',
      html: '<p>Hello Alice</p>',
    }),
    message: 'EmailNotifyReq',
    text: [
      'to: "alice@example.test"',
      'subject: "Welcome"',
      'content: "Hello Alice"',
      'html: "<p>Hello Alice</p>"',
    ],
  },
  {
    topic: 'notify' as const,
    event: event('notify.sms', {
      phone: '13800000001',
      template: 'code',
      params: { code: '4711' },
    }),
    message: 'SMSNotifyReq',
    text: [
      'mobile: "13800000001"',
      'template: "code"',
      'params {',
      '  key: "code"',
      '  value: "4711"',
      '}',
    ],
  },
  {
    topic: 'notify' as const,
    event: event(
      'notify.push',
      {
        userId: '01JD5Z8Q3K4XG2Y7B6N1M0P9U1',
        title: 'Bob',
        body: 'New message',
        data: { conversationId: 'c1' },
        collapseKey: 'chat:c1',
      },
      'req-9',
    ),
    message: 'PushNotifyReq',
    // A ULID is no int64: user_id stays unset, uid carries it.
    text: [
      'title: "Bob"',
      'message: "New message"',
      'uid: "01JD5Z8Q3K4XG2Y7B6N1M0P9U1"',
      'data {',
      '  key: "conversationId"',
      '  value: "c1"',
      '}',
      'collapse_key: "chat:c1"',
    ],
    trace: 'req-9',
  },
  {
    topic: 'log' as const,
    event: event('log.user_action', {
      userId: '1001',
      action: 'profile_update',
      targetId: 'g1',
      detail: { field: 'nickname' },
      requestId: 'req-1',
    }),
    message: 'UserActionLogReq',
    // A numeric id also fills the Go system's int64 user_id.
    text: [
      'user_id: 1001',
      'action: "profile_update"',
      'detail: "{\\"field\\":\\"nickname\\"}"',
      'uid: "1001"',
      'target_id: "g1"',
      'request_id: "req-1"',
    ],
  },
  {
    topic: 'log' as const,
    event: event('log.api_error', {
      requestId: 'req-2',
      method: 'POST',
      path: '/v1/im/chat',
      route: '/v1/im/chat',
      status: 500,
      code: 100001,
      message: 'connection reset',
      userId: 'u7',
    }),
    message: 'APIErrorLogReq',
    text: [
      'path: "/v1/im/chat"',
      'method: "POST"',
      'error: "connection reset"',
      'request_id: "req-2"',
      'route: "/v1/im/chat"',
      'status: 500',
      'code: 100001',
      'uid: "u7"',
    ],
  },
];

describe.runIf(RUN_PROTOC_TESTS)('protobuf codec against protoc', () => {
  it.each(CASES)('writes $event.type as $message that protoc --decode reads', (c) => {
    const codec = PROTOBUF_CODECS[c.topic];
    expect(codec.messageName(c.event.type)).toBe(`${PKG}.${c.message}`);
    const bytes = codec.encode(c.event);
    const expected = [...c.text, ...ENVELOPE_TEXT, ...(c.trace ? [`trace_id: "${c.trace}"`] : [])];
    expect(protocDecode(`${PKG}.${c.message}`, bytes)).toBe(`${expected.join('\n')}\n`);
    // And reads its own bytes back to the same event.
    expect(codec.decode(bytes, hints(c.event.type))).toEqual(c.event);
  });

  it('reads what protoc --encode writes from the Go system fields alone', () => {
    const notify = PROTOBUF_CODECS.notify;
    const log = PROTOBUF_CODECS.log;
    const read = (codec: typeof notify, type: string, message: string, text: string) =>
      codec.decode(protocEncode(`${PKG}.${message}`, text), hints(type));

    // No message_id or timestamp: the broker's id and time stand in.
    expect(
      read(
        notify,
        'notify.email',
        'EmailNotifyReq',
        'to: "a@example.test" subject: "Hi" content: "Grüße"',
      ),
    ).toEqual({
      id: 'broker-id-1',
      type: 'notify.email',
      aggregate: 'system',
      timestamp: 1_000,
      payload: { to: 'a@example.test', subject: 'Hi', text: 'Grüße' },
      metadata: { source: 'unknown', version: 1 },
    });
    expect(
      read(
        notify,
        'notify.sms',
        'SMSNotifyReq',
        'mobile: "139" template: "t1" params { key: "k" value: "v" } message_id: "go-1" timestamp: 1700000000000',
      ),
    ).toMatchObject({
      id: 'go-1',
      timestamp: 1_700_000_000_000,
      payload: { phone: '139', template: 't1', params: { k: 'v' } },
    });
    // The Go system's numeric user id names the user when uid is empty.
    expect(
      read(
        notify,
        'notify.push',
        'PushNotifyReq',
        'user_id: 9007199254740993 title: "T" message: "M"',
      ).payload,
    ).toEqual({ userId: '9007199254740993', title: 'T', body: 'M' });
    expect(
      read(
        log,
        'log.user_action',
        'UserActionLogReq',
        'user_id: 7 action: "login" detail: "from app"',
      ).payload,
    ).toEqual({ userId: '7', action: 'login', detail: { text: 'from app' } });
    expect(
      read(log, 'log.api_error', 'APIErrorLogReq', 'path: "/api/x" method: "GET" error: "boom"')
        .payload,
    ).toEqual({
      requestId: '',
      method: 'GET',
      path: '/api/x',
      status: 0,
      code: 0,
      message: 'boom',
    });
  });

  it('refuses bytes that are no message, or a message that makes no valid event, with a reason', () => {
    const notify = PROTOBUF_CODECS.notify;
    const refuse = (type: string, bytes: Uint8Array) => {
      try {
        notify.decode(bytes, hints(type));
      } catch (err) {
        expect(err).toBeInstanceOf(UndecodableEventError);
        return (err as Error).message;
      }
      throw new Error('decoded');
    };
    expect(refuse('notify.email', Buffer.from([0x0a, 0x20, 0x61]))).toMatch(
      /^not a valid easychat\.mq\.v1\.EmailNotifyReq: /,
    );
    expect(refuse('notify.email', Buffer.from('{"id":"x","type":"notify.email"}'))).toMatch(
      /EmailNotifyReq/,
    );
    expect(
      refuse('notify.email', protocEncode(`${PKG}.EmailNotifyReq`, 'subject: "no recipient"')),
    ).toMatch(/EmailNotifyReq does not make a valid notify\.email: to /);
    // The input rules hold for another system's messages too: no NUL in any string.
    expect(
      refuse(
        'notify.email',
        protocEncode(`${PKG}.EmailNotifyReq`, 'to: "a@x.y" subject: "s\\000" content: "c"'),
      ),
    ).toMatch(/EmailNotifyReq does not make a valid notify\.email: subject /);
    expect(refuse('notify.push', protocEncode(`${PKG}.PushNotifyReq`, 'title: "T"'))).toBe(
      'easychat.mq.v1.PushNotifyReq: names no user (uid and user_id are empty)',
    );
    expect(refuse('notify.fax', Buffer.alloc(0))).toBe(
      'no protobuf message for event type "notify.fax"',
    );
  });
});

describe('wire formats of the notify and log topics', () => {
  const formats = topicFormats({
    notify: { name: 'notify_topic', codec: 'protobuf', consume: true },
    log: { name: 'log', codec: 'json', consume: true },
  });
  const email = event('notify.email', { to: 'a@example.test', subject: 'S', text: 'T' });

  it('names topics on the broker and writes each with its codec', () => {
    expect(formats.name('notify')).toBe('notify_topic');
    expect(formats.name('log')).toBe('log');
    expect(formats.name('domain')).toBe('domain');
    expect(formats.encode('notify', email).contentType).toBe('application/x-protobuf');
    const logged = event('log.user_action', { userId: null, action: 'login', detail: {} });
    expect(formats.encode('log', logged).contentType).toBe('application/json');
  });

  it('reads either codec by content type, and the topic codec when there is none', () => {
    const proto = formats.encode('notify', email).body;
    const json = jsonCodec.encode(email);
    expect(formats.decode('notify', proto, { ...hints('notify.email') })).toEqual(email);
    expect(
      formats.decode('notify', json, { ...hints('notify.email'), contentType: 'application/json' }),
    ).toEqual(email);
    // A JSON topic still reads protobuf sent with its content type (a codec switch in flight).
    const logged = event('log.user_action', { userId: 'u1', action: 'login', detail: {} });
    const protoLog = PROTOBUF_CODECS.log.encode(logged);
    expect(
      formats.decode('log', protoLog, {
        ...hints('log.user_action'),
        contentType: 'application/protobuf',
      }),
    ).toEqual(logged);
    expect(() => formats.decode('log', protoLog, hints('log.user_action'))).toThrow(
      /^json: not JSON|^not JSON/,
    );
  });
});
