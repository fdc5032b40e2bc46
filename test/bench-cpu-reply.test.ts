/**
 * bench:cpu's replies (BENCH_REPLY): which way each message of a pair goes, that the
 * rounds send that share of messages back, and that the ceiling script answers a reply
 * with a read receipt to the peer, as easy-chat does (a reply moves the replier's read
 * position past the peer's message).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { connectPairs, nextWay, offer, runCpuPerMessage } from '../bench/cpu-per-message.js';
import { startCeilingChat } from '../bench/support/ceiling-system.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe('bench:cpu settings', () => {
  it('refuses a warm-up that is not 0 or more seconds, before starting any system', async () => {
    const options = { rate: 10, pairs: 1, seconds: 1, rounds: 1, stores: ['sqlite' as const] };
    // NaN is what envNumber makes of BENCH_WARMUP_SECONDS=two: no warm-up, silently.
    for (const warmupSeconds of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      await expect(runCpuPerMessage({ ...options, warmupSeconds })).rejects.toThrow(
        /BENCH_WARMUP_SECONDS must be 0 or more seconds/,
      );
    }
  });
});

describe('bench:cpu with replies', () => {
  it('turns a pair round for that share of its messages', () => {
    const ways = (reply: number, n = 8) => {
      const pair = { sent: 0, back: false };
      return Array.from({ length: n }, () => (nextWay(pair, reply) ? 'b' : 'a')).join('');
    };
    expect(ways(0)).toBe('aaaaaaaa');
    expect(ways(1)).toBe('babababa');
    expect(ways(0.5)).toBe('abbaabba');
    expect(ways(0.25)).toBe('aaabbbba');
  });

  it('sends from both sides of a pair, the rate unchanged', async () => {
    // Answers every chat; counts them by sender.
    const chats = new Map<string, number>();
    const http = createServer();
    const wss = new WebSocketServer({ server: http, path: '/ws' });
    wss.on('connection', (socket, req) => {
      const user = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      socket.on('message', (raw) => {
        const frame = JSON.parse((raw as Buffer).toString('utf8')) as {
          frameType: number;
          id?: string;
        };
        if (frame.frameType === 1) return void socket.send('{"frameType":1}');
        chats.set(user, (chats.get(user) ?? 0) + 1);
        socket.send(JSON.stringify({ frameType: 2, id: frame.id, data: {} }));
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    stops.push(async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    });
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const users = ['a', 'b'].map((id) => ({ id, token: id }));
    const closes: number[] = [];
    const pairs = await connectPairs(url, users, closes);

    const oneWay = await offer({ senders: pairs, closes }, 50, 0.2, 0);
    expect(chats.get('b') ?? 0).toBe(0);
    const both = await offer({ senders: pairs, closes }, 50, 0.2, 1);
    const fromA = chats.get('a')! - oneWay.answered;
    const fromB = chats.get('b')!;
    expect(fromA + fromB).toBe(both.answered);
    expect(Math.abs(fromA - fromB)).toBeLessThanOrEqual(1);
    expect(fromB).toBeGreaterThan(0);
    for (const p of pairs) {
      p.conn.socket.terminate();
      p.peer.socket.terminate();
    }
  });

  it('the ceiling pushes the peer a read receipt for a reply, none for a message one way', async () => {
    const ceiling = await startCeilingChat('sqlite');
    stops.push(() => ceiling.stop());
    const open = (user: string) =>
      new Promise<{ socket: WebSocket; pushes: Array<{ contentType: number; readSeq?: number }> }>(
        (resolve, reject) => {
          const socket = new WebSocket(`${ceiling.urls[0]!.replace(/^http/, 'ws')}/ws`, {
            headers: { authorization: `Bearer ${user}` },
          });
          const pushes: Array<{ contentType: number; readSeq?: number }> = [];
          socket.on('message', (raw) => {
            const frame = JSON.parse((raw as Buffer).toString('utf8')) as {
              method?: string;
              data?: any;
            };
            if (frame.method === 'push') pushes.push(frame.data);
          });
          socket.once('open', () => resolve({ socket, pushes }));
          socket.once('error', reject);
        },
      );
    const a = await open('ua');
    const b = await open('ub');
    const chat = (from: typeof a, to: string, id: string) =>
      new Promise<void>((resolve) => {
        const answered = (raw: WebSocket.RawData) => {
          if ((JSON.parse((raw as Buffer).toString('utf8')) as { id?: string }).id !== id) return;
          from.socket.off('message', answered);
          resolve();
        };
        from.socket.on('message', answered);
        from.socket.send(
          JSON.stringify({
            frameType: 0,
            id,
            method: 'conversation.chat',
            data: { chatType: 2, recvId: to, clientMsgId: id, msg: { mType: 0, content: id } },
          }),
        );
      });
    await chat(a, 'ub', 'c1');
    await chat(a, 'ub', 'c2'); // one way: no receipt
    await chat(b, 'ua', 'c3'); // a reply: b read a's c1 and c2
    await chat(b, 'ua', 'c4'); // b's own message last: no receipt
    await new Promise((r) => setTimeout(r, 100));
    expect(b.pushes.map((p) => p.contentType)).toEqual([0, 0]);
    expect(a.pushes.map((p) => p.contentType)).toEqual([0, 1, 0]);
    expect(a.pushes[1]).toMatchObject({ sendId: 'ub', recvId: 'ua', readSeq: 3 });
    a.socket.terminate();
    b.socket.terminate();
  });
});
