import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import { Connection } from './connection.js';
import { ConnectionRegistry } from './connection-registry.js';
import { encodeTextFrame, OutboundFrame } from '../realtime/outbound-frame.js';

/** `ws`'s own framing (exported, though its types leave it out). */
const { Sender } = ws as unknown as {
  Sender: {
    frame(
      data: Buffer,
      options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean },
    ): Buffer[];
  };
};

const limits = {
  idleTimeoutMs: 60_000,
  sendHighWaterBytes: 1 << 20,
  framesPerSec: 10,
  frameBurst: 10,
};

let server: WebSocketServer | undefined;
let users = 0;
afterEach(async () => {
  for (const client of server?.clients ?? []) client.terminate();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A real `ws` server socket wrapped as the gateway wraps it, and a client reading it. */
async function pair(perMessageDeflate = false) {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
  let wire: Socket | undefined;
  const accepted = new Promise<Connection>((resolve) =>
    server!.on('connection', (socket, request) => {
      users += 1;
      wire = request.socket;
      resolve(new Connection(socket, `u${users}`, 'jti', limits, undefined, undefined, wire));
    }),
  );
  await new Promise((resolve) => server!.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate });
  const received: string[] = [];
  client.on('message', (data, isBinary) => {
    expect(isBinary).toBe(false);
    received.push((data as Buffer).toString('utf8'));
  });
  await new Promise((resolve) => client.once('open', resolve));
  const connection = await accepted;
  return { connection, client, received, wire: wire! };
}

/** The chunks of each write the socket hands to the kernel, in order. */
function writesOf(wire: Socket): number[] {
  const writes: number[] = [];
  const target = wire as unknown as {
    _write(...args: unknown[]): void;
    _writev(chunks: unknown[], ...rest: unknown[]): void;
  };
  const write = target._write.bind(wire);
  const writev = target._writev.bind(wire);
  target._write = (...args) => {
    writes.push(1);
    write(...args);
  };
  target._writev = (chunks, ...rest) => {
    writes.push(chunks.length);
    writev(chunks, ...rest);
  };
  return writes;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i += 1) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe('a frame encoded once, written under ws', () => {
  it('is byte for byte the frame ws makes of the same text', () => {
    for (const length of [0, 5, 125, 126, 127, 65_535, 65_536, 100_000]) {
      const payload = Buffer.from('x'.repeat(length));
      const own = Buffer.concat(
        Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }),
      );
      expect(encodeTextFrame(payload).equals(own)).toBe(true);
    }
  });

  it('arrives in order with the frames ws writes to the same socket', async () => {
    const { connection, client, received } = await pair();
    const expected: string[] = [];
    for (let i = 0; i < 200; i += 1) {
      const text = `{"n":${i},"pad":"${'é'.repeat(i * 7)}"}`;
      expected.push(text);
      // Answers go through ws, pushes are written whole: interleaved, and a large one now and then.
      if (i % 3 === 0) connection.send(text);
      else connection.sendFrame(new OutboundFrame(text));
      if (i % 50 === 0) client.ping();
    }
    await until(() => received.length === expected.length);
    expect(received).toEqual(expected);
    client.close();
  });

  it('goes through ws when permessage-deflate was negotiated', async () => {
    const { connection, client, received } = await pair(true);
    expect(connection.socket.extensions).toContain('permessage-deflate');
    connection.send('{"a":1}');
    connection.sendFrame(new OutboundFrame('{"b":2}'));
    connection.send('{"c":3}');
    await until(() => received.length === 3);
    expect(received).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    client.close();
  });

  it('is sent to every connection of a group but the one left out', async () => {
    const registry = new ConnectionRegistry(4);
    const a = await pair();
    const firstServer = server!;
    server = undefined;
    const b = await pair();
    try {
      registry.add(a.connection);
      registry.add(b.connection);
      const users = [a.connection.userId, b.connection.userId];
      expect(registry.deliver(users, '{"to":"both"}')).toBe(2);
      expect(registry.deliver(users, '{"to":"b"}', a.connection.id)).toBe(1);
      // An id of no connection here leaves no one out.
      expect(registry.deliver(users, '{"to":"both again"}', 'elsewhere')).toBe(2);
      registry.remove(a.connection);
      expect(registry.deliver(users, '{"to":"b only"}', a.connection.id)).toBe(1);
      await until(() => a.received.length === 2 && b.received.length === 4);
      expect(a.received).toEqual(['{"to":"both"}', '{"to":"both again"}']);
      expect(b.received).toEqual([
        '{"to":"both"}',
        '{"to":"b"}',
        '{"to":"both again"}',
        '{"to":"b only"}',
      ]);
    } finally {
      for (const client of firstServer.clients) client.terminate();
      await new Promise((resolve) => firstServer.close(resolve));
    }
  });

  it('leaves in one write per socket what is delivered together, in order', async () => {
    const registry = new ConnectionRegistry(4);
    const { connection, client, received, wire } = await pair();
    registry.add(connection);
    const writes = writesOf(wire);
    const user = [connection.userId];
    registry.deliver(user, '{"n":1}');
    registry.deliver(user, '{"n":2}');
    expect(writes).toEqual([1, 1]);
    // A reply's push and its read receipt (ChatService.post), an answer in between.
    const result = registry.together(() => {
      registry.deliver(user, '{"n":3}');
      connection.send('{"n":4}');
      // Nested: still the one write of the outer call.
      registry.together(() => registry.deliver(user, '{"n":5}'));
      return 'done';
    });
    expect(result).toBe('done');
    expect(writes).toEqual([1, 1, 3]);
    // Work that throws still lets its frames go.
    expect(() =>
      registry.together(() => {
        registry.deliver(user, '{"n":6}');
        registry.deliver(user, '{"n":7}');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(writes).toEqual([1, 1, 3, 2]);
    // Afterwards a frame goes alone again.
    registry.deliver(user, '{"n":8}');
    expect(writes).toEqual([1, 1, 3, 2, 1]);
    await until(() => received.length === 8);
    expect(received).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `{"n":${n}}`));
    client.close();
  });
});
