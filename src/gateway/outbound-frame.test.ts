import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import type { WebSocket } from 'ws';
import { Connection } from './connection.js';
import { encodeTextFrame, OutboundFrame } from '../realtime/outbound-frame.js';

/** The frame parser of `ws` (exported, though its types leave it out). */
interface FrameReceiver {
  on(event: string, listener: (...args: never[]) => void): void;
  write(chunk: Buffer): void;
}
const { Receiver } = ws as unknown as {
  Receiver: new (options: { isServer: boolean }) => FrameReceiver;
};

/** What a client's `ws` reads out of these bytes. */
function decode(bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const receiver = new Receiver({ isServer: false });
    receiver.on('message', (data: Buffer, isBinary: boolean) =>
      isBinary ? reject(new Error('binary')) : resolve(data.toString('utf8')),
    );
    receiver.on('error', (err: Error) => reject(err));
    receiver.write(bytes);
  });
}

const limits = {
  idleTimeoutMs: 60_000,
  sendHighWaterBytes: 1024,
  framesPerSec: 10,
  frameBurst: 10,
};

/** A `ws` socket as Connection uses it, recording what `ws` was asked to send. */
function fakeSocket(extensions = '') {
  const sent: unknown[] = [];
  const socket = {
    OPEN: 1,
    readyState: 1,
    bufferedAmount: 0,
    extensions,
    send: (data: unknown) => sent.push(data),
    close: () => undefined,
    terminate: () => undefined,
  };
  return { socket: socket as unknown as WebSocket, sent, state: socket };
}

describe('OutboundFrame', () => {
  it('is a whole WebSocket text frame for every payload length form', async () => {
    for (const length of [0, 1, 125, 126, 65_535, 65_536, 70_000]) {
      const text = 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2);
      const frame = new OutboundFrame(text);
      // Made from the text, or from its payload when that was made first.
      expect(await decode(frame.wire)).toBe(text);
      expect(frame.payload.length).toBe(length);
      const fromPayload = new OutboundFrame(text);
      expect(fromPayload.payload.length).toBe(length);
      expect(fromPayload.wire.equals(frame.wire)).toBe(true);
      expect(frame.wire).toBe(frame.wire);
    }
  });

  it('has the header RFC 6455 gives each length', () => {
    expect([...encodeTextFrame(Buffer.alloc(125)).subarray(0, 2)]).toEqual([0x81, 125]);
    expect([...encodeTextFrame(Buffer.alloc(126)).subarray(0, 4)]).toEqual([0x81, 126, 0, 126]);
    expect([...encodeTextFrame(Buffer.alloc(65_536)).subarray(0, 10)]).toEqual([
      0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0,
    ]);
  });
});

/** A fake socket's cork: never used by these tests (frame-wire.test.ts corks a real one). */
const uncorked = { cork: () => undefined, uncork: () => undefined };

describe('Connection.sendFrame', () => {
  it('writes the encoded frame to the socket under ws in one write', () => {
    const { socket, sent } = fakeSocket();
    const written: Buffer[] = [];
    const connection = new Connection(socket, 'u1', 'jti', limits, undefined, 'c1', {
      write: (chunk) => written.push(chunk) > 0,
      writableLength: 0,
      ...uncorked,
    });
    const frame = new OutboundFrame('{"a":1}');
    expect(connection.sendFrame(frame)).toBe(true);
    expect(connection.sendFrame(frame)).toBe(true);
    expect(written).toEqual([frame.wire, frame.wire]);
    expect(sent).toEqual([]);
    connection.dispose();
  });

  it('frames a text answer itself too (send), in one write after the frames before it', async () => {
    const { socket, sent } = fakeSocket();
    const written: Buffer[] = [];
    const connection = new Connection(socket, 'u1', 'jti', limits, undefined, 'c1', {
      write: (chunk) => written.push(chunk) > 0,
      writableLength: 0,
      ...uncorked,
    });
    const push = new OutboundFrame('{"push":1}');
    expect(connection.sendFrame(push)).toBe(true);
    expect(connection.send('{"answer":"é"}')).toBe(true);
    expect(written).toHaveLength(2);
    expect(await decode(written[1]!)).toBe('{"answer":"é"}');
    // A Buffer still goes through ws.
    expect(connection.send(Buffer.from('{}'))).toBe(true);
    expect(sent).toEqual([Buffer.from('{}')]);
    connection.dispose();
  });

  it('leaves framing to ws when an extension was negotiated, or without the socket', () => {
    for (const [extensions, wire] of [
      ['permessage-deflate', { write: () => true, writableLength: 0, ...uncorked }],
      ['', undefined],
    ] as const) {
      const { socket, sent } = fakeSocket(extensions);
      const connection = new Connection(socket, 'u1', 'jti', limits, undefined, 'c1', wire);
      const frame = new OutboundFrame('{"a":1}');
      expect(connection.sendFrame(frame)).toBe(true);
      expect(sent).toEqual([frame.payload]);
      connection.dispose();
    }
  });

  it('sends nothing to a closed socket and cuts one past the high-water mark', () => {
    const { socket } = fakeSocket();
    const written: Buffer[] = [];
    let slow = 0;
    // The socket's unsent bytes, as the TCP socket counts them.
    const wire = {
      write: (chunk: Buffer) => written.push(chunk) > 0,
      writableLength: 2048,
      ...uncorked,
    };
    const connection = new Connection(socket, 'u1', 'jti', limits, () => (slow += 1), 'c1', wire);
    expect(connection.sendFrame(new OutboundFrame('x'))).toBe(false);
    expect(slow).toBe(1);
    wire.writableLength = 0;
    expect(connection.sendFrame(new OutboundFrame('x'))).toBe(false);
    expect(written).toEqual([]);
  });

  it('sends nothing once ws is closing (a close frame went out)', () => {
    const { socket, state } = fakeSocket();
    const written: Buffer[] = [];
    const wire = {
      write: (chunk: Buffer) => written.push(chunk) > 0,
      writableLength: 0,
      ...uncorked,
    };
    const connection = new Connection(socket, 'u1', 'jti', limits, undefined, 'c1', wire);
    state.readyState = 2; // CLOSING: the peer's close frame was answered by ws
    expect(connection.sendFrame(new OutboundFrame('x'))).toBe(false);
    expect(written).toEqual([]);
    connection.dispose();
  });
});
