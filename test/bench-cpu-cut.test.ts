/**
 * bench:cpu (bench/cpu-per-message.ts) against a server that cuts a client as a slow
 * consumer (close code 4008, as easy-chat's gateway does past its high-water mark): the
 * round goes on with the other pairs, the cut is counted and reported, and the cut
 * client's sends left unanswered are not counted as served. Before, the cut sender's
 * requests waited for an answer forever (or a later send failed the whole run).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { connectPairs, offer } from '../bench/cpu-per-message.js';

/**
 * Just enough of easy-chat's frames: ping answered, every `conversation.chat` answered
 * with frameType 2, except that user `cutAfter.user`'s socket is closed with
 * `cutAfter.code` when it sends its (n+1)th chat, which is left unanswered.
 */
async function startServer(cutAfter: { user: string; n: number; code: number }) {
  const http: Server = createServer();
  const wss = new WebSocketServer({ server: http, path: '/ws' });
  wss.on('connection', (socket, req) => {
    const user = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    let chats = 0;
    socket.on('message', (raw) => {
      const frame = JSON.parse((raw as Buffer).toString('utf8')) as {
        frameType: number;
        id?: string;
      };
      if (frame.frameType === 1) return void socket.send('{"frameType":1}');
      chats += 1;
      if (user === cutAfter.user && chats > cutAfter.n) return void socket.close(cutAfter.code);
      socket.send(JSON.stringify({ frameType: 2, id: frame.id, data: {} }));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    stop: () => {
      for (const client of wss.clients) client.terminate();
      return new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const users = ['a1', 'b1', 'a2', 'b2'].map((id) => ({ id, token: id }));

describe('bench:cpu when the server cuts a slow consumer', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it('counts the cut, leaves its unanswered send out and goes on with the other pairs', async () => {
    const server = await startServer({ user: 'a1', n: 3, code: 4008 });
    stop = server.stop;
    const closes: number[] = [];
    const pairs = await connectPairs(server.url, users, closes);
    // 2 pairs at 100 messages/s: a tick every 20 ms, 10 ticks.
    const first = await offer({ senders: pairs, closes }, 100, 0.2);
    expect(first.cut).toBe(1);
    expect(first.unanswered).toBe(1);
    // a1's three answered sends, and every send of the other pair (one a tick).
    const ticks = first.answered - 3;
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(closes).toEqual([4008]);

    // The next round: the cut pair sends no more, nothing new is cut.
    const second = await offer({ senders: pairs, closes }, 100, 0.2);
    expect(second).toMatchObject({ cut: 0, unanswered: 0 });
    expect(second.answered).toBeGreaterThanOrEqual(5);
    for (const p of pairs) p.peer.socket.terminate();
  });

  it('ends the round at once when every pair is cut', async () => {
    const server = await startServer({ user: 'a1', n: 0, code: 4008 });
    stop = server.stop;
    const closes: number[] = [];
    const pairs = await connectPairs(server.url, users.slice(0, 2), closes);
    const started = Date.now();
    const first = await offer({ senders: pairs, closes }, 100, 5);
    expect(first).toEqual({ answered: 0, cut: 1, unanswered: 1 });
    expect(Date.now() - started).toBeLessThan(2_000);
    const second = await offer({ senders: pairs, closes }, 100, 5);
    expect(second).toEqual({ answered: 0, cut: 0, unanswered: 0 });
  });

  it('fails the run on any other close by the server', async () => {
    const server = await startServer({ user: 'a1', n: 2, code: 1011 });
    stop = server.stop;
    const closes: number[] = [];
    const pairs = await connectPairs(server.url, users, closes);
    await expect(offer({ senders: pairs, closes }, 100, 0.2)).rejects.toThrow(/1011/);
  });
});
