import { afterEach, describe, expect, it } from 'vitest';
import { CONTRACT_OPTIONS, testEvent, waitFor } from './bus.contract.js';
import { jsonCodec, WireFormats, type EventCodec } from './codec.js';
import type { EventMessage } from './event-message.js';
import { MemoryBroker } from './memory-broker.js';

/** The JSON codec, counting its calls. */
function countingCodec() {
  const calls = { encode: 0, decode: 0 };
  const codec: EventCodec = {
    ...jsonCodec,
    encode(event) {
      calls.encode += 1;
      return jsonCodec.encode(event);
    },
    decode(body, hints) {
      calls.decode += 1;
      return jsonCodec.decode(body, hints);
    },
  };
  return { codec, calls };
}

describe('MemoryBroker', () => {
  let broker: MemoryBroker | undefined;
  afterEach(() => broker?.close());

  it('hands a JSON topic’s event to its queues as published, with no JSON round trip', async () => {
    broker = new MemoryBroker({ prefix: 'mb', ...CONTRACT_OPTIONS });
    const received: EventMessage[][] = [[], []];
    for (const [n, queue] of ['a', 'b'].entries()) {
      await broker.consume({ queue, topic: 'domain', types: ['item-created'] }, async (d) => {
        received[n]!.push(d.event);
      });
    }
    const event = testEvent('item-created', { at: 1 });
    await broker.publish('domain', [{ event }]);
    await waitFor(() => received.every((list) => list.length === 1), 'both queues');
    expect(received[0]![0]).toBe(event);
    expect(received[1]![0]).toBe(event);
  });

  it('still runs a topic’s own codec (anything but plain JSON), once per event', async () => {
    const { codec, calls } = countingCodec();
    const named: EventCodec = { ...codec, name: 'protobuf' };
    broker = new MemoryBroker({
      prefix: 'mb',
      ...CONTRACT_OPTIONS,
      formats: new WireFormats({ other: { codec: named } }),
    });
    const received: EventMessage[] = [];
    for (const queue of ['a', 'b']) {
      await broker.consume({ queue, topic: 'other', types: ['item-created'] }, async (d) => {
        received.push(d.event);
      });
    }
    const event = testEvent('item-created', { at: 1 });
    await broker.publish('other', [{ event }]);
    await waitFor(() => received.length === 2, 'both queues');
    expect(calls).toEqual({ encode: 1, decode: 1 });
    expect(received[0]).toEqual(event);
    expect(received[0]).not.toBe(event);
  });

  it('dead-letters a passed-through event and replays it like any other', async () => {
    broker = new MemoryBroker({ prefix: 'mb', ...CONTRACT_OPTIONS, maxAttempts: 1 });
    let failures = 0;
    const handled: string[] = [];
    await broker.consume({ queue: 'q', topic: 'domain', types: ['item-created'] }, async (d) => {
      if (failures === 0) {
        failures += 1;
        throw new Error('poison');
      }
      handled.push(d.event.id);
    });
    const event = testEvent('item-created');
    await broker.publish('domain', [{ event }]);
    await waitFor(() => failures === 1, 'the failing attempt');
    const replayed = [];
    // Dead-lettered once the runner has settled the failure.
    for (let i = 0; i < 200 && replayed.length === 0; i += 1) {
      replayed.push(...(await broker.replayDeadLetters('q', 10)));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(replayed.map((d) => d.event)).toEqual([event]);
    await waitFor(() => handled.length === 1, 'the replayed event handled');
    expect(handled).toEqual([event.id]);
  });
});
