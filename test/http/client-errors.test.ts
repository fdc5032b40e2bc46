/**
 * Requests Node's HTTP parser refuses before there is a request object (too-large
 * head, malformed bytes, too slow): raw sockets, since fetch would refuse to send them.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface RawAnswer {
  status: number;
  headers: string;
  body: any;
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfterMs: number;
}

/**
 * Sends `chunks` over one connection (a chunk every `everyMs`, the last one repeated
 * until the server closes) and reads everything until the server closes it.
 */
function rawExchange(url: string, chunks: string[], everyMs = 0): Promise<RawAnswer> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket: Socket = connect(Number(port), hostname);
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    let next = 0;
    const sendNext = () => {
      if (socket.destroyed) return;
      socket.write(chunks[Math.min(next, chunks.length - 1)]!);
      next += 1;
      if (everyMs > 0) timer = setTimeout(sendNext, everyMs);
      else if (next < chunks.length) sendNext();
    };
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after 20 s; received ${JSON.stringify(received)}`));
    }, 20_000);
    socket.setEncoding('utf8');
    socket.on('connect', sendNext);
    socket.on('data', (d: string) => (received += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      clearTimeout(giveUp);
      const [head = '', body = ''] = received.split('\r\n\r\n');
      let parsed: unknown = body;
      try {
        parsed = JSON.parse(body);
      } catch {
        /* asserted by the caller */
      }
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        headers: head,
        body: parsed,
        closedAfterMs: Date.now() - started,
      });
    });
  });
}

describe('requests the HTTP parser refuses', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      overrides: { server: { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 } },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers a header block over 16 KiB with a 431 envelope', async () => {
    const answer = await rawExchange(t.url, [
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ]);
    expect(answer.status).toBe(431);
    expect(answer.headers).toMatch(/content-type: application\/json/i);
    expect(answer.body).toEqual({
      code: 100012,
      msg: 'request line and headers larger than 16 KiB',
      data: null,
    });
  });

  it('answers a 60 KB URL with a 431 envelope', async () => {
    const answer = await rawExchange(t.url, [
      `GET /v1/user/users?name=${'b'.repeat(60_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ]);
    expect(answer.status).toBe(431);
    expect(answer.body.code).toBe(100012);
  });

  it.each([
    [
      'a NUL in a header value',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\u0000b\r\n\r\n',
    ],
    ['a broken request line', 'NOT HTTP AT ALL\r\n\r\n'],
    ['a header without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nbroken\r\n\r\n'],
  ])('answers %s with a 400 envelope', async (_name, request) => {
    const answer = await rawExchange(t.url, [request]);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ code: 100002, msg: 'invalid request parameter', data: null });
  });

  it('closes a connection whose headers trickle in, with a 408 envelope, soon after server.headersTimeoutMs', async () => {
    // One header line every 200 ms, never the blank line that ends the head.
    const answer = await rawExchange(
      t.url,
      ['GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n'],
      200,
    );
    expect(answer.status).toBe(408);
    expect(answer.body).toEqual({
      code: 100013,
      msg: 'the request did not arrive in time',
      data: null,
    });
    // The deadline plus Node's check interval (a quarter of it), with room for a busy machine.
    expect(answer.closedAfterMs).toBeLessThan(5_000);
  });

  it('closes a request whose body trickles in, with a 408 envelope, soon after server.requestTimeoutMs', async () => {
    const answer = await rawExchange(
      t.url,
      [
        'POST /v1/user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n',
        ' ',
      ],
      200,
    );
    expect(answer.status).toBe(408);
    expect(answer.body.code).toBe(100013);
    expect(answer.closedAfterMs).toBeLessThan(8_000);
  });
});
