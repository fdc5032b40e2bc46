import { describe, expect, it } from 'vitest';
import { jsonCodec, WireFormats, type EventCodec } from './codec.js';
import type { EventMessage } from './event-message.js';

const event: EventMessage = {
  id: '01JABCDEFGHJKMNPQRSTVWXYZ0',
  type: 'message-sent',
  aggregate: 'chat',
  timestamp: 1_796_000_000_123,
  // Escapes, non-ASCII and a lone surrogate: what JSON.stringify writes its own way.
  payload: { content: 'a "b" \\ \n \u0001 é 汉 😀 \ud800', seq: 7, n: -0, big: 1e21 },
  metadata: { source: 'test', version: 1 },
};

describe('WireFormats.encode with the event text at hand', () => {
  it('sends the text as it is on a JSON topic: the same bytes the codec makes', () => {
    const formats = new WireFormats();
    const text = JSON.stringify(event);
    const given = formats.encode('domain', event, text);
    const made = formats.encode('domain', event);
    expect(Buffer.from(given.body).equals(Buffer.from(made.body))).toBe(true);
    expect(given.contentType).toBe(made.contentType);
    // The text itself, not the event stringified again (a text that differs shows it).
    const spaced = formats.encode('domain', event, ` ${text}`);
    expect(Buffer.from(spaced.body).toString('utf8')).toBe(` ${text}`);
  });

  it('ignores the text on a topic another codec writes', () => {
    const marker: EventCodec = {
      name: 'protobuf',
      contentType: 'application/x-test',
      encode: () => Uint8Array.of(1, 2, 3),
      decode: () => event,
    };
    const formats = new WireFormats({ domain: { codec: marker } });
    const encoded = formats.encode('domain', event, JSON.stringify(event));
    expect([...encoded.body]).toEqual([1, 2, 3]);
    expect(encoded.contentType).toBe('application/x-test');
    expect(jsonCodec.encode(event)).toEqual(Buffer.from(JSON.stringify(event)));
  });
});
