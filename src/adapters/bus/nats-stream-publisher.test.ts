import { jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_NATS_URL, uniqueName } from '../../../test/support/backends.js';
import { BrokerClosedError } from './bus.js';
import { StreamPublisher, type StreamMessage } from './nats-stream-publisher.js';

describe.runIf(TEST_NATS_URL)('StreamPublisher (NATS JetStream)', () => {
  const prefix = uniqueName('sp');
  const stream = `${prefix}_s`;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nc = await connect({ servers: TEST_NATS_URL });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: stream,
      subjects: [`${prefix}.s.>`],
      storage: StorageType.File,
      duplicate_window: nanos(60_000),
    });
  });

  afterAll(async () => {
    await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  });

  const message = (id: string, extra: Record<string, string> = {}): StreamMessage => {
    const h = headers();
    h.set('Nats-Msg-Id', id);
    for (const [k, v] of Object.entries(extra)) h.set(k, v);
    return { subject: `${prefix}.s.item`, body: new TextEncoder().encode(id), headers: h };
  };

  const stored = async () => {
    const info = await jsm.streams.info(stream);
    const bodies: string[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq += 1) {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (m) bodies.push(new TextDecoder().decode(m.data));
    }
    return bodies;
  };

  it('stores a batch in call order once every ack is in, and a batch published again once', async () => {
    await jsm.streams.purge(stream);
    const publisher = new StreamPublisher(nc);
    const batch = Array.from({ length: 300 }, (_, i) => message(`e${i}`));
    await publisher.publish(batch);
    expect(await stored()).toEqual(batch.map((_, i) => `e${i}`));
    // The relay publishes a batch again when it could not mark it: the msgIDs drop it.
    await Promise.all([
      publisher.publish(batch.slice(0, 100)),
      publisher.publish([message('e300')]),
    ]);
    expect(await stored()).toEqual([...batch.map((_, i) => `e${i}`), 'e300']);
    publisher.close();
  });

  it('fails a batch no stream takes (no responders)', async () => {
    const publisher = new StreamPublisher(nc);
    const lost = { ...message('x'), subject: `${prefix}.nostream.item` };
    await expect(publisher.publish([message('ok1'), lost])).rejects.toThrow(/no responders/);
    publisher.close();
  });

  it('fails a batch one of whose messages the stream refuses', async () => {
    const publisher = new StreamPublisher(nc);
    const refused = message('r1', { 'Nats-Expected-Stream': 'another' });
    await expect(publisher.publish([message('r0'), refused])).rejects.toThrow(/refused/);
    // The publisher goes on: acks for the failed batch's other messages are ignored.
    await publisher.publish([message('r2')]);
    publisher.close();
  });

  it('fails a batch whose acks do not all come within the timeout', async () => {
    // A plain subscriber answers nothing: the publish has a responder but no ack.
    const silent = nc.subscribe(`${prefix}.quiet.>`);
    await nc.flush();
    const publisher = new StreamPublisher(nc, 200);
    const unanswered = { ...message('q'), subject: `${prefix}.quiet.item` };
    await expect(publisher.publish([unanswered])).rejects.toThrow(
      /1 of 1 JetStream acks not received in 200 ms/,
    );
    silent.unsubscribe();
    publisher.close();
  });

  it('fails what is waiting when closed, and publishes no more', async () => {
    const silent = nc.subscribe(`${prefix}.quiet2.>`);
    await nc.flush();
    const publisher = new StreamPublisher(nc, 60_000);
    const waiting = publisher.publish([{ ...message('w'), subject: `${prefix}.quiet2.item` }]);
    publisher.close();
    await expect(waiting).rejects.toBeInstanceOf(BrokerClosedError);
    await expect(publisher.publish([message('after')])).rejects.toBeInstanceOf(BrokerClosedError);
    silent.unsubscribe();
  });
});
