import { afterEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { BROKERS, openTestBroker } from '../../test/support/brokers.js';
import { STORAGES } from '../../test/support/backends.js';
import { testRelay } from '../../test/support/outbox.js';
import { testConfig } from '../../test/support/test-app.js';
import { waitFor } from '../adapters/bus/bus.contract.js';
import type { Publisher } from '../adapters/bus/bus.js';
import type { EventMessage } from '../adapters/bus/event-message.js';
import { runsDirect } from '../adapters/storage/precompiled.js';
import type { Database } from '../adapters/storage/schema.js';
import { openStorage, type Storage } from '../adapters/storage/storage.js';
import { DomainEventSchemas } from '../catalogue/domain-events.js';
import { MIGRATIONS } from '../catalogue/migrations.js';
import { ConversationRepository } from '../modules/im/conversation.repository.js';
import { MessageRepository } from '../modules/im/message.repository.js';
import { messageSentJson, messageSentPayload, pairSendStore } from '../modules/im/pair-send.js';
import { ChatType, type Message } from '../modules/im/im.entity.js';
import { newId } from '../shared/ids.js';
import { EventRecorder } from './event-recorder.js';
import { DOMAIN_TOPIC } from './outbox-relay.js';
import { RecordedEvents } from './recorded-events.js';

/**
 * A `message-sent` envelope is written as text around its payload's JSON
 * (EventRecorder.envelopeText, messageSentJson) instead of stringified whole: the
 * outbox row holds exactly what `JSON.stringify` of the envelope made before, and
 * consumers get the same event whichever way the relay publishes it.
 */

/** Strings every escape rule of JSON.stringify touches. */
const AWKWARD = [
  '',
  'plain-ULID-01JFABCDEFGHJKMNPQRSTVWXYZ',
  'quote " and backslash \\ and slash /',
  'controls \u0000\u0001\b\t\n\f\r\u001f and DEL \u007f',
  'accents é ü, 中文, emoji 😀',
  'line separators \u2028 \u2029',
  'lone surrogates \ud800 x \udfff',
  '</script><!-- {"json":"inside"} -->',
];

/** AWKWARD's kinds of text, each short enough for an id column (32 characters). */
const SHORT_AWKWARD = [
  '\u0001\b\t\n\f\r\u001f\u007f',
  'q " b \\ s /',
  'é 中文 😀 \ufffd',
  '\u2028 \u2029 </script>',
  'lone \ud800 x \udfff',
];

/** A stored message with awkward text in each string field the payload carries. */
function message(i: number, seq: number): Message {
  const text = AWKWARD[i % AWKWARD.length]!;
  return {
    msgId: `${newId()}${text}`,
    conversationId: `s_${text}_${i}`,
    chatType: ChatType.single,
    sendId: `${text}a`,
    recvId: `b${text}`,
    seq,
    sendTime: 1_764_000_000_000 + i,
    mType: i % 6,
    content: 'not in the event',
    clientMsgId: null,
    modSeq: 0,
  };
}

/** The envelope as the recorder built it before: an object of these keys, stringified. */
function oldEnvelopeText(event: EventMessage): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    aggregate: event.aggregate,
    timestamp: event.timestamp,
    payload: event.payload,
    metadata: { source: event.metadata.source, version: event.metadata.version },
  });
}

describe('messageSentJson', () => {
  it('is JSON.stringify of the payload, byte for byte, for every kind of string and number', () => {
    const numbers = [0, -0, 1, -7, 2 ** 31, Number.MAX_SAFE_INTEGER, 1e21, 1.5];
    for (let i = 0; i < AWKWARD.length * 2; i += 1) {
      const payload = messageSentPayload(message(i, numbers[i % numbers.length]!));
      expect(messageSentJson(payload)).toBe(JSON.stringify(payload));
    }
  });

  it('stringifies a payload whose fields are not of their types as it is', () => {
    const odd = [NaN, Infinity, '5', null, undefined, { n: 1 }];
    for (const value of odd) {
      const payload = { ...messageSentPayload(message(1, 1)), seq: value as number };
      expect(messageSentJson(payload)).toBe(JSON.stringify(payload));
      const named = { ...messageSentPayload(message(1, 1)), sendId: value as string };
      expect(messageSentJson(named)).toBe(JSON.stringify(named));
    }
  });
});

describe.each(STORAGES)('the outbox row of a message-sent event on %s', (storageKind) => {
  let storage: Storage;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(): Promise<Kysely<Database>> {
    const made = testConfig({ storage: storageKind });
    storage = openStorage(made.config, MIGRATIONS);
    cleanups.push(made.cleanup, () => storage.close());
    await storage.migrate();
    return storage.db;
  }

  const recorder = new EventRecorder({
    clock: () => 1_764_000_000_123,
    source: 'easy-chat/"node" \\ é',
    schemas: DomainEventSchemas,
  });

  const envelopeOf = async (db: Kysely<Database>, id: string) =>
    (
      await db
        .selectFrom('outboxEvents')
        .select('envelope')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).envelope;

  it('holds exactly what JSON.stringify of the envelope made, whatever the strings hold', async () => {
    const db = await setup();
    const events: EventMessage[] = [];
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < AWKWARD.length * 2; i += 1) {
        const payload = messageSentPayload(message(i, i + 1));
        const json = messageSentJson(payload);
        // The synchronous path where the engine has it (SQLite), else the async one.
        const event =
          runsDirect(trx) && i % 2 === 0
            ? recorder.recordNow(trx, 'message-sent', `c${i % 3}`, payload, json)
            : await recorder.record(trx, 'message-sent', `c${i % 3}`, payload, undefined, json);
        events.push(event);
      }
    });
    for (const event of events) {
      const text = await envelopeOf(db, event.id);
      expect(text).toBe(oldEnvelopeText(event));
      expect(text).toBe(JSON.stringify(event));
    }
  });

  it('writes the payload text it is given, without stringifying the payload again', async () => {
    const db = await setup();
    const payload = messageSentPayload(message(3, 1));
    const json = messageSentJson(payload);
    // A payload that cannot be stringified: only the text given may be written.
    const unstringifiable = {
      ...payload,
      toJSON: () => {
        throw new Error('the payload was stringified');
      },
    };
    const ids: string[] = [];
    await db.transaction().execute(async (trx) => {
      if (runsDirect(trx)) {
        ids.push(recorder.recordNow(trx, 'message-sent', 'k', unstringifiable, json).id);
      }
      ids.push(
        (await recorder.record(trx, 'message-sent', 'k', unstringifiable, undefined, json)).id,
      );
    });
    for (const id of ids) {
      expect(JSON.parse(await envelopeOf(db, id))).toEqual({
        id,
        type: 'message-sent',
        aggregate: 'chat',
        timestamp: 1_764_000_000_123,
        payload,
        metadata: { source: 'easy-chat/"node" \\ é', version: 1 },
      });
    }
  });

  it('stringifies the envelope whole without a payload text or with a trace id', async () => {
    const db = await setup();
    const payload = messageSentPayload(message(2, 1));
    const events = await db
      .transaction()
      .execute(async (trx) => [
        await recorder.record(trx, 'message-sent', 'k', payload),
        await recorder.record(
          trx,
          'message-sent',
          'k',
          payload,
          'trace "1"',
          messageSentJson(payload),
        ),
        await recorder.record(trx, 'user-updated', 'u', { userId: 'u\u2028', fields: ['é'] }),
      ]);
    for (const event of events) expect(await envelopeOf(db, event.id)).toBe(JSON.stringify(event));
    expect(events[1]!.metadata.traceId).toBe('trace "1"');
  });

  it('gives a statement the texts around id, timestamp and payload, and its listener the row text', async () => {
    const db = await setup();
    const told: Array<[EventMessage, string]> = [];
    const listened = new EventRecorder({
      clock: () => 1_764_000_000_123,
      source: 'easy-chat/"node" \\ é',
      schemas: DomainEventSchemas,
      onRecorded: (event, text) => told.push([event, text]),
    });
    const parts = listened.envelopeParts('message-sent');
    expect(listened.envelopeParts('message-sent')).toBe(parts);
    expect(listened.aggregateOf('message-sent')).toBe('chat');
    for (let i = 0; i < AWKWARD.length; i += 1) {
      const payload = messageSentPayload(message(i, 40 + i));
      const json = messageSentJson(payload);
      const event = await db
        .transaction()
        .execute((trx) => recorder.record(trx, 'message-sent', 'k', payload, undefined, json));
      const { id, timestamp } = listened.stamp();
      expect(timestamp).toBe(1_764_000_000_123);
      // What a statement makes of the parts and the row's columns.
      const made = parts[0] + id + parts[1] + String(timestamp) + parts[2] + json + parts[3];
      expect(made).toBe((await envelopeOf(db, event.id)).replace(event.id, id));
      listened.written('message-sent', id, timestamp, payload, json);
      const [toldEvent, toldText] = told.at(-1)!;
      expect(toldEvent).toEqual({ ...event, id });
      expect(toldText).toBe(made);
      expect(JSON.stringify(toldEvent)).toBe(made);
    }
  });
});

const combos = STORAGES.flatMap((storage) => BROKERS.map((broker) => [storage, broker] as const));

describe.each(combos)(
  'message-sent events relayed on %s with %s broker',
  (storageKind, brokerKind) => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    it('reach consumers as the envelope text says, published from memory or read back', async () => {
      const made = testConfig({ storage: storageKind });
      const storage = openStorage(made.config, MIGRATIONS);
      cleanups.push(made.cleanup, () => storage.close());
      await storage.migrate();
      const { broker, cleanup } = await openTestBroker(brokerKind);
      cleanups.push(cleanup, () => broker.close());

      const received = new Map<string, EventMessage>();
      await broker.subscribe({ topic: DOMAIN_TOPIC, types: ['message-sent'] }, async (d) => {
        received.set(d.event.id, d.event);
      });
      const kept = new RecordedEvents();
      // What the relay hands the broker: each event with its row's text, which a JSON
      // topic sends as it is (byte for byte the event's JSON.stringify, checked below).
      const handed = new Map<string, string | undefined>();
      const publisher: Publisher = {
        publish: (topic, events) => {
          for (const e of events) handed.set(e.event.id, e.text);
          return broker.publish(topic, events);
        },
        resilientPublish: (topic, events) => {
          for (const e of events) handed.set(e.event.id, e.text);
          return broker.resilientPublish(topic, events);
        },
      };
      const relay = testRelay(storage.db, publisher, { batchSize: 5, recorded: kept });
      relay.start();
      cleanups.push(() => relay.stop());
      // This process's recorder (its events kept, published from memory) and another's
      // (nothing kept: the relay reads and parses the envelope).
      const recorders = [kept, undefined].map(
        (keeping) =>
          new EventRecorder({
            clock: Date.now,
            source: 'test',
            schemas: DomainEventSchemas,
            onRecorded: keeping && ((event, text) => keeping.add(event, text)),
          }),
      );
      const texts = new Map<string, string>();
      for (let i = 0; i < AWKWARD.length * 2; i += 1) {
        const payload = messageSentPayload(message(i, i + 1));
        await storage.db.transaction().execute(async (trx) => {
          const recorder = recorders[i % 2]!;
          const json = messageSentJson(payload);
          const event = runsDirect(trx)
            ? recorder.recordNow(trx, 'message-sent', `c${i % 3}`, payload, json)
            : await recorder.record(trx, 'message-sent', `c${i % 3}`, payload, undefined, json);
          // Read in the transaction: the relay cannot have published (and deleted) it yet.
          const row = await trx
            .selectFrom('outboxEvents')
            .select('envelope')
            .where('id', '=', event.id)
            .executeTakeFirstOrThrow();
          texts.set(event.id, row.envelope);
        });
      }
      // PostgreSQL's single-chat sends, whose envelopes the statement makes: awkward
      // ids (short enough for their columns) in the envelope, a plain conversation id
      // as the key (NATS sends the key as a header, which takes no line breaks).
      if (storageKind === 'postgres') {
        for (let i = 0; i < SHORT_AWKWARD.length * 2; i += 1) {
          const text = SHORT_AWKWARD[i % SHORT_AWKWARD.length]!;
          const pairs = pairSendStore(storage.db, {
            conversations: new ConversationRepository(storage.db),
            messages: new MessageRepository(storage.db),
            events: recorders[i % 2]!,
          });
          const conversationId = `pair-${i}`;
          await storage.db.transaction().execute(async (trx) => {
            await pairs.store(trx, {
              ...message(i, 0),
              msgId: `m${i}${text}`,
              conversationId,
              sendId: `${text}${i}a`,
              recvId: `b${i}${text}`,
            });
            const rows = await trx
              .selectFrom('outboxEvents')
              .select(['id', 'envelope'])
              .where('partitionKey', '=', conversationId)
              .execute();
            expect(rows).toHaveLength(1);
            texts.set(rows[0]!.id, rows[0]!.envelope);
          });
        }
      }
      await waitFor(() => received.size >= texts.size, 'every event received');
      for (const [id, text] of texts) {
        const event = received.get(id)!;
        expect(event).toEqual(JSON.parse(text));
        // Field for field and in the same order: encoded again, the same bytes.
        expect(JSON.stringify(event)).toBe(text);
        expect(handed.get(id)).toBe(text);
      }
      expect(kept.isEmpty).toBe(true);
    });
  },
);
