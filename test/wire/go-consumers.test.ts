import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/adapters/bus/bus.contract.js';
import { jsonCodec } from '../../src/adapters/bus/codec.js';
import type { MemoryBroker } from '../../src/adapters/bus/memory-broker.js';
import { TEST_AMQP_URL, TEST_NATS_URL } from '../support/backends.js';
import { BROKERS, busOverrides, cleanupAppBroker, type BrokerKind } from '../support/brokers.js';
import { fakeProvider, sleep, webhook } from '../support/fake-webhook.js';
import { smtpSink } from '../support/fake-smtp.js';
import type { HttpAnswer } from '../support/http-client.js';
import { protocDecode, protocEncode, RUN_PROTOC_TESTS } from '../support/protoc.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * easy-chat next to the Go system's services: the notify and log topics under the
 * Go names (`notify_topic`, `log_topic`) in protobuf. A "Go side" publishes and
 * reads raw messages with the broker's own client, and protoc stands in for the Go
 * code generated from proto/: nothing of easy-chat's decoding is used to check
 * what it wrote, nor its encoding to make what it reads.
 */
const PKG = 'easychat.mq.v1';
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';
const TOPICS = {
  notify: { name: 'notify_topic', codec: 'protobuf' as const, consume: true },
  log: { name: 'log_topic', codec: 'protobuf' as const, consume: true },
};
const LOGICAL: Record<string, string> = { notify_topic: 'notify', log_topic: 'log' };

interface WireMessage {
  type: string;
  key?: string;
  contentType?: string;
  body: Uint8Array;
}

interface GoSide {
  publish(
    topicName: string,
    type: string,
    body: Uint8Array,
    extra?: { key?: string; contentType?: string },
  ): Promise<void>;
  /** Collects the messages published on the topic from now on (server-backed brokers). */
  watch?(topicName: string): Promise<WireMessage[]>;
  close(): Promise<void>;
}

async function natsSide(prefix: string): Promise<GoSide> {
  const nc = await connect({ servers: TEST_NATS_URL! });
  const js = jetstream(nc);
  const stops: Array<() => Promise<void>> = [];
  return {
    async publish(topicName, type, body, extra = {}) {
      const h = headers();
      if (extra.key) h.set('Ec-Key', extra.key);
      if (extra.contentType) h.set('Content-Type', extra.contentType);
      await js.publish(`${prefix}.${topicName}.${type}`, body, { headers: h });
    },
    async watch(topicName) {
      // The stream exists once either side used the topic; a Go service that starts
      // first declares it with the same subjects (easy-chat then uses it as it is).
      const stream = `${prefix}_${topicName}`;
      const jsm = await jetstreamManager(nc);
      if (!(await jsm.streams.info(stream).catch(() => undefined))) {
        await jsm.streams.add({ name: stream, subjects: [`${prefix}.${topicName}.>`] });
      }
      // An ordered (ephemeral) consumer of the topic's stream, as a Go reader would make.
      const consumer = await js.consumers.get(stream, {
        deliver_policy: DeliverPolicy.New,
      });
      const messages = await consumer.consume();
      const seen: WireMessage[] = [];
      const head = `${prefix}.${topicName}.`;
      const reading = (async () => {
        for await (const m of messages) {
          seen.push({
            type: m.subject.slice(head.length),
            key: m.headers?.get('Ec-Key'),
            contentType: m.headers?.get('Content-Type'),
            body: m.data,
          });
        }
      })();
      stops.push(async () => {
        await messages.close();
        await reading;
      });
      return seen;
    },
    async close() {
      for (const stop of stops) await stop();
      await nc.close();
    },
  };
}

async function rabbitSide(prefix: string): Promise<GoSide> {
  const conn = await amqp.connect(TEST_AMQP_URL!);
  const ch = await conn.createConfirmChannel();
  return {
    async publish(topicName, type, body, extra = {}) {
      ch.publish(`${prefix}.${topicName}`, type, Buffer.from(body), {
        persistent: true,
        ...(extra.contentType ? { contentType: extra.contentType } : {}),
        ...(extra.key ? { headers: { 'ec-key': extra.key } } : {}),
      });
      await ch.waitForConfirms();
    },
    async watch(topicName) {
      const exchange = `${prefix}.${topicName}`;
      await ch.assertExchange(exchange, 'topic', { durable: true });
      const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
      await ch.bindQueue(queue, exchange, '#');
      const seen: WireMessage[] = [];
      await ch.consume(
        queue,
        (m) => {
          if (!m) return;
          const key = m.properties.headers?.['ec-key'] as Buffer | string | undefined;
          seen.push({
            type: m.fields.routingKey,
            key: key === undefined ? undefined : String(key),
            contentType: m.properties.contentType as string | undefined,
            body: m.content,
          });
        },
        { noAck: true },
      );
      return seen;
    },
    close: () => conn.close(),
  };
}

function memorySide(t: TestApp): GoSide {
  const broker = t.app.broker as MemoryBroker;
  return {
    publish: (topicName, type, body, extra) =>
      broker.publishRaw(LOGICAL[topicName]!, type, body, extra),
    close: async () => {},
  };
}

async function goSide(kind: BrokerKind, t: TestApp): Promise<GoSide> {
  if (kind === 'nats') return natsSide(t.config.bus.prefix);
  if (kind === 'rabbitmq') return rabbitSide(t.config.bus.prefix);
  return memorySide(t);
}

describe.runIf(RUN_PROTOC_TESTS).each(BROKERS)(
  'the Go services next to easy-chat on %s',
  (kind) => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    async function start(consume = true) {
      const smtp = await smtpSink();
      cleanups.push(smtp.close);
      const sms = await fakeProvider([]);
      cleanups.push(sms.close);
      const push = await fakeProvider([]);
      cleanups.push(push.close);
      const bus = busOverrides(kind);
      const t = await startTestApp({
        overrides: {
          ...bus,
          bus: {
            ...bus.bus,
            maxAttempts: 2,
            topics: { notify: { ...TOPICS.notify, consume }, log: { ...TOPICS.log, consume } },
          },
          admin: { token: ADMIN_TOKEN },
          notify: {
            email: smtp.email,
            sms: { driver: 'webhook', webhook: webhook(sms.url, 1) },
            push: { driver: 'webhook', webhook: webhook(push.url, 1), collapseWindowMs: 0 },
          },
        },
      });
      cleanups.push(async () => {
        await t.close();
        await cleanupAppBroker(t.app);
      });
      const go = await goSide(kind, t);
      cleanups.push(() => go.close());
      return { t, go, mails: smtp.mails, sms, push, admin: t.client.withToken(ADMIN_TOKEN) };
    }

    it.runIf(kind !== 'memory')(
      "publishes the Go system's messages under its keys, which protoc --decode reads, and leaves them to the Go consumers",
      async () => {
        // consume: false, as when the Go notify and log services consume these topics.
        const { t, go, mails, admin } = await start(false);
        const notifySeen = await go.watch!('notify_topic');
        const logSeen = await go.watch!('log_topic');
        const { notify, log } = t.app.events;
        const sent = [
          await notify.send('notify.email', { to: 'a@example.test', subject: 'Hi', text: 'Hello' }),
          await notify.send('notify.sms', { phone: '13800000001', template: 'code', params: {} }),
          await notify.send('notify.push', { userId: '42', title: 'T', body: 'B' }),
          await log.send('log.user_action', { userId: 'u1', action: 'login', detail: {} }),
          await log.send('log.api_error', {
            requestId: 'r1',
            method: 'GET',
            path: '/v1/x',
            status: 500,
            code: 100001,
            message: 'boom',
          }),
        ];
        await waitFor(() => notifySeen.length >= 3 && logSeen.length >= 2, 'five messages');
        const expectations = [
          { topic: 'notify_topic', message: 'EmailNotifyReq', line: 'to: "a@example.test"' },
          { topic: 'notify_topic', message: 'SMSNotifyReq', line: 'template: "code"' },
          { topic: 'notify_topic', message: 'PushNotifyReq', line: 'user_id: 42' },
          { topic: 'log_topic', message: 'UserActionLogReq', line: 'action: "login"' },
          { topic: 'log_topic', message: 'APIErrorLogReq', line: 'error: "boom"' },
        ];
        const seen = [...notifySeen, ...logSeen];
        expectations.forEach(({ topic, message, line }, i) => {
          const event = sent[i]!;
          const wire = seen[i]!;
          expect(wire.type).toBe(event.type);
          expect(wire.key).toBe(`${topic}:${event.type}`);
          expect(wire.contentType).toBe('application/x-protobuf');
          const text = protocDecode(`${PKG}.${message}`, wire.body);
          expect(text).toContain(`${line}\n`);
          expect(text).toContain(`message_id: "${event.id}"\n`);
          expect(text).toContain(`timestamp: ${event.timestamp}\n`);
        });
        await sleep(300);
        expect(mails).toEqual([]);
        expect((await admin.get('/v1/admin/audit')).body.data.list).toEqual([]);
      },
    );

    it('consumes what a Go producer publishes, once per message_id, and JSON beside it', async () => {
      const { t, go, mails, sms, push, admin } = await start();
      const encode = (message: string, text: string) => protocEncode(`${PKG}.${message}`, text);
      const mail = encode(
        'EmailNotifyReq',
        'to: "go@example.test" subject: "From Go" content: "sent by the Go service" message_id: "go-mail-1"',
      );
      const key = (topic: string, type: string) => ({ key: `${topic}:${type}` });
      await go.publish('notify_topic', 'notify.email', mail, key('notify_topic', 'notify.email'));
      await go.publish(
        'notify_topic',
        'notify.sms',
        encode(
          'SMSNotifyReq',
          'mobile: "13900000000" template: "code" params { key: "code" value: "123456" } message_id: "go-sms-1"',
        ),
        key('notify_topic', 'notify.sms'),
      );
      // The Go system's numeric user id, no uid.
      await go.publish(
        'notify_topic',
        'notify.push',
        encode(
          'PushNotifyReq',
          'user_id: 42 title: "Go" message: "pushed" message_id: "go-push-1"',
        ),
      );
      // The seed sends log events with Send (no key), and without message_id here.
      await go.publish(
        'log_topic',
        'log.user_action',
        encode('UserActionLogReq', 'user_id: 7 action: "login" detail: "from the Go app"'),
      );
      await go.publish(
        'log_topic',
        'log.api_error',
        encode(
          'APIErrorLogReq',
          'path: "/api/v1/order" method: "POST" error: "db timeout" message_id: "go-err-1"',
        ),
      );
      // A JSON envelope on the same topic, named by its content type.
      const json = {
        id: 'json-mail-1',
        type: 'notify.email',
        aggregate: 'system' as const,
        timestamp: Date.now(),
        payload: { to: 'json@example.test', subject: 'JSON', text: 'still read' },
        metadata: { source: 'other', version: 1 },
      };
      await go.publish('notify_topic', 'notify.email', jsonCodec.encode(json), {
        contentType: 'application/json',
      });

      await waitFor(
        () => mails.length >= 2 && sms.calls.length >= 1 && push.calls.length >= 1,
        'mails, SMS and push',
      );
      const audit = await untilRows(() => admin.get('/v1/admin/audit'), 2);
      // The same message again: the consumers skip it by message_id.
      await go.publish('notify_topic', 'notify.email', mail);
      await sleep(400);

      expect(mails.map((m) => m.to)).toEqual([['go@example.test'], ['json@example.test']]);
      expect(mails[0]!.raw).toContain('Subject: From Go');
      expect(mails[0]!.raw).toContain('Message-ID: <go-mail-1@easy-chat>');
      expect(sms.calls.map((c) => c.body)).toEqual([
        {
          channel: 'sms',
          deliveryId: 'go-sms-1',
          phone: '13900000000',
          template: 'code',
          params: { code: '123456' },
        },
      ]);
      expect(push.calls.map((c) => c.body)).toEqual([
        expect.objectContaining({
          deliveryId: 'go-push-1',
          userId: '42',
          title: 'Go',
          body: 'pushed',
        }),
      ]);
      const rows = audit.body.data.list as Array<Record<string, unknown>>;
      expect(rows.find((r) => r.kind === 'api_error')).toMatchObject({
        eventId: 'go-err-1',
        path: '/api/v1/order',
        method: 'POST',
        status: null,
        code: null,
        requestId: null,
        detail: { message: 'db timeout' },
        source: 'unknown',
      });
      expect(rows.find((r) => r.kind === 'user_action')).toMatchObject({
        userId: '7',
        action: 'login',
        detail: { text: 'from the Go app' },
      });
      expect(t.app.broker.kind).toBe(kind);
    });

    it('dead-letters undecodable payloads with the reason and keeps consuming', async () => {
      const { go, sms, admin } = await start();
      const garbage = Buffer.from([0xff, 0xff, 0xff]);
      await go.publish('notify_topic', 'notify.sms', garbage);
      // Valid protobuf, but no template: no SMS can be sent from it.
      await go.publish(
        'notify_topic',
        'notify.sms',
        protocEncode(`${PKG}.SMSNotifyReq`, 'mobile: "139" message_id: "go-bad-1"'),
      );
      await go.publish('log_topic', 'log.api_error', Buffer.from('not protobuf at all'));
      await go.publish(
        'notify_topic',
        'notify.sms',
        protocEncode(`${PKG}.SMSNotifyReq`, 'mobile: "139" template: "t" message_id: "go-ok-1"'),
      );
      await waitFor(() => sms.calls.length >= 1, 'the valid SMS after the bad ones');
      expect(sms.calls[0]!.delivery).toBe('go-ok-1');

      const dead = await untilListed(
        () => admin.post('/v1/admin/deadLetters/discard', { queue: 'notify.sms' }),
        2,
      );
      const list = dead.body.data.list as Array<{ reason: string; event: any; type: string }>;
      expect(list.map((d) => d.type)).toEqual(['notify.sms', 'notify.sms']);
      expect(list[0]!.reason).toMatch(
        /^UndecodableEventError: not a valid easychat\.mq\.v1\.SMSNotifyReq: /,
      );
      expect(list[0]!.event.payload.undecodable.base64).toBe(garbage.toString('base64'));
      expect(list[1]!.reason).toBe(
        'UndecodableEventError: easychat.mq.v1.SMSNotifyReq does not make a valid notify.sms: template must not have fewer than 1 characters',
      );
      const logDead = await untilListed(
        () => admin.post('/v1/admin/deadLetters/discard', { queue: 'log.audit' }),
        1,
      );
      expect(logDead.body.data.list[0].reason).toMatch(/APIErrorLogReq/);
    });
  },
);

/** Audit rows arrive a broker round trip later: ask until `n` are listed. */
async function untilRows(call: () => Promise<HttpAnswer>, n: number): Promise<HttpAnswer> {
  for (let i = 0; i < 200; i += 1) {
    const res = await call();
    if ((res.body.data?.list ?? []).length >= n) return res;
    await sleep(50);
  }
  throw new Error(`fewer than ${n} audit rows`);
}

/** Dead-lettering may lag by a broker round trip: discard until `n` were answered. */
async function untilListed(call: () => Promise<HttpAnswer>, n: number): Promise<HttpAnswer> {
  const seen: unknown[] = [];
  for (let i = 0; i < 200; i += 1) {
    const res = await call();
    // discard removes what it answers: keep what earlier calls took.
    seen.push(...((res.body.data?.list ?? []) as unknown[]));
    if (seen.length >= n) return { ...res, body: { ...res.body, data: { list: seen } } };
    await sleep(50);
  }
  throw new Error(`fewer than ${n} listed: ${JSON.stringify(seen)}`);
}
