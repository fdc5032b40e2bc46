import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../test/support/test-app.js';
import { WsClient } from '../../test/support/ws-client.js';
import { MemoryCache } from '../adapters/cache/memory-cache.js';
import { MemoryPresence } from '../adapters/presence/memory-presence.js';
import { AppError } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';
import { buildHttpServer, type HttpServer } from '../http/build-server.js';
import { Metrics } from '../http/metrics.js';
import { openStorage } from '../adapters/storage/storage.js';
import { TokenRevocations } from '../auth/token-revocations.js';
import { TokenService } from '../auth/token.service.js';
import { MIGRATIONS } from '../catalogue/migrations.js';
import { createLogger } from '../shared/logger.js';
import { ConnectionRegistry } from './connection-registry.js';
import { registerGateway, type GatewaySettings } from './gateway.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { wsMethod, wsOverlappingMethod } from './ws-method.js';

interface Harness {
  url: string;
  http: HttpServer;
  tokens: TokenService;
  registry: ConnectionRegistry;
  presence: MemoryPresence;
  metrics: Metrics;
  token(userId: string): Promise<string>;
  close(): Promise<void>;
}

const harnesses: Harness[] = [];

/** The `hold` method's answer, held until a test releases it. */
let releaseHold: (() => void) | undefined;
/** Whether the `next` method's handler has been called. */
let nextStarted = false;
/** What the `lap` (overlapping) and `solo` methods' handlers did, in order. */
const events: string[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

/**
 * The gateway alone on a real HTTP server, with a few methods of its own; the chat
 * methods are tested with the whole app in the IM module.
 */
async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function startGateway(overrides: Partial<GatewaySettings> = {}): Promise<Harness> {
  const { config, cleanup } = testConfig();
  const settings: GatewaySettings = { ...config.gateway, ...overrides };
  const cache = new MemoryCache();
  const storage = openStorage(config, MIGRATIONS);
  await storage.migrate();
  const revocations = new TokenRevocations({ db: storage.db, cache, clock: Date.now });
  const tokens = new TokenService({
    secret: 'test-secret',
    ttlSec: 3600,
    revocations,
    clock: Date.now,
  });
  const registry = new ConnectionRegistry(settings.maxConnectionsPerUser);
  const presence = new MemoryPresence('test-node');
  const metrics = new Metrics({ node: 'test' });
  const logger = createLogger({ level: 'silent', nodeId: 'test' });
  const http = await buildHttpServer({ config, logger, metrics, isDraining: () => false });
  await registerGateway(http, {
    settings,
    tokens,
    presence,
    registry,
    metrics: new GatewayMetrics(metrics.registry, registry),
    logger,
    serverOnlyMethods: new Set(['push']),
    methods: {
      echo: wsMethod(
        Type.Object({ text: Type.String({ maxLength: 100_000 }) }),
        async (_ctx, data) => ({
          text: data.text,
        }),
      ),
      whoami: wsMethod(Type.Object({}), async (ctx) => ({ userId: ctx.userId })),
      boom: wsMethod(Type.Object({}), async () => {
        throw new Error('secret internal detail');
      }),
      forbidden: wsMethod(Type.Object({}), async () => {
        throw new AppError(CommonErrors.forbidden, 'not yours');
      }),
      hold: wsMethod(
        Type.Object({}),
        () =>
          new Promise((resolve) => {
            releaseHold = () => resolve({ held: true });
          }),
      ),
      next: wsMethod(Type.Object({}), async () => {
        nextStarted = true;
        return {};
      }),
      // Overlapping: takes its place at once, 20 ms later, or never, then ends after `ms`.
      lap: wsOverlappingMethod(
        Type.Object({
          n: Type.Integer(),
          ms: Type.Integer(),
          place: Type.Union([Type.Literal('now'), Type.Literal('later'), Type.Literal('never')]),
        }),
        async (_ctx, data, placed) => {
          events.push(`start ${data.n}`);
          if (data.place === 'now') placed();
          if (data.place === 'later') {
            setTimeout(() => {
              events.push(`placed ${data.n}`);
              placed();
            }, 20);
          }
          await sleep(data.ms);
          events.push(`end ${data.n}`);
          return { n: data.n };
        },
      ),
      solo: wsMethod(Type.Object({ n: Type.Integer() }), async (_ctx, data) => {
        events.push(`start ${data.n}`);
        await sleep(5);
        events.push(`end ${data.n}`);
        return { n: data.n };
      }),
      delay: wsMethod(
        Type.Object({ ms: Type.Integer(), n: Type.Integer() }),
        async (_ctx, data) => {
          await sleep(data.ms);
          return { n: data.n };
        },
      ),
      blast: wsMethod(
        Type.Object({ userId: Type.String(), count: Type.Integer(), size: Type.Integer() }),
        async (_ctx, data) => {
          const text = JSON.stringify({
            frameType: 0,
            method: 'blast',
            data: 'x'.repeat(data.size),
          });
          let queued = 0;
          for (let i = 0; i < data.count; i += 1) queued += registry.deliver([data.userId], text);
          return { queued };
        },
      ),
    },
  });
  await http.listen({ host: '127.0.0.1', port: 0 });
  const { port } = http.server.address() as { port: number };
  const harness: Harness = {
    url: `http://127.0.0.1:${port}`,
    http,
    tokens,
    registry,
    presence,
    metrics,
    token: async (userId) => (await tokens.issue(userId)).token,
    close: async () => {
      await http.close();
      await cache.close();
      await storage.close();
      await cleanup();
    },
  };
  harnesses.push(harness);
  return harness;
}

describe('gateway authentication', () => {
  it('accepts the token as a Bearer header, a query parameter or a subprotocol', async () => {
    const g = await startGateway();
    for (const via of ['header', 'query', 'protocol'] as const) {
      const client = await WsClient.connect(g.url, { token: await g.token(`u-${via}`), via });
      expect(await client.call('whoami', {})).toEqual({ userId: `u-${via}` });
      await client.close();
    }
  });

  it('closes with 4001 and a reason for a missing, invalid or revoked token', async () => {
    const g = await startGateway();
    const missing = await WsClient.connect(g.url);
    expect(await missing.closed).toEqual({ code: 4001, reason: 'token missing' });
    const invalid = await WsClient.connect(g.url, { token: 'not.a.token' });
    expect(await invalid.closed).toEqual({ code: 4001, reason: 'token invalid' });
    const token = await g.token('u1');
    await g.tokens.revoke(await g.tokens.verify(token));
    const revoked = await WsClient.connect(g.url, { token });
    expect(await revoked.closed).toEqual({ code: 4001, reason: 'token revoked' });
  });

  it('has the socket registered, locally and in presence, by the time the client sees it open', async () => {
    const g = await startGateway();
    const token = await g.token('at-open');
    for (let i = 0; i < 20; i += 1) {
      const client = await WsClient.connect(g.url, { token });
      // Nothing awaited since `open`: the server must already know the socket.
      expect(g.registry.forUser('at-open')).toHaveLength(1);
      expect(await g.presence.onlineAmong(['at-open'])).toEqual(new Set(['at-open']));
      await client.close();
      await until(() => g.registry.forUser('at-open').length === 0);
    }
  });

  it('processes frames sent right after the socket opens', async () => {
    const g = await startGateway();
    const client = await WsClient.connect(g.url, { token: await g.token('early') });
    client.send({ frameType: 0, id: 'a', method: 'echo', data: { text: 'first' } });
    client.send({ frameType: 0, id: 'b', method: 'echo', data: { text: 'second' } });
    const answers = await client.waitForCount((f) => f.frameType === 2, 2);
    expect(answers.map((f) => [f.id, f.data.text])).toEqual([
      ['a', 'first'],
      ['b', 'second'],
    ]);
  });
});

describe('gateway frames', () => {
  it('answers pings and requests by id, and stays silent for frameType 3', async () => {
    const g = await startGateway();
    const client = await WsClient.connect(g.url, { token: await g.token('u1') });
    client.send({ frameType: 1 });
    expect(await client.waitFor((f) => f.frameType === 1)).toEqual({ frameType: 1 });
    const answer = await client.request('echo', { text: 'hi' });
    expect(answer).toEqual({ frameType: 2, id: answer.id, method: 'echo', data: { text: 'hi' } });
    client.send({ frameType: 3, id: 'quiet', method: 'echo', data: { text: 'no answer' } });
    await client.call('echo', { text: 'after' });
    expect(client.frames.some((f) => f.id === 'quiet')).toBe(false);
  });

  it('runs one connection’s requests in the order they were sent', async () => {
    const g = await startGateway();
    const client = await WsClient.connect(g.url, { token: await g.token('u1') });
    const answers = await Promise.all([
      client.request('delay', { ms: 60, n: 1 }),
      client.request('delay', { ms: 1, n: 2 }),
      client.request('delay', { ms: 30, n: 3 }),
    ]);
    expect(answers.map((a) => a.data.n)).toEqual([1, 2, 3]);
    const order = client.frames.filter((f) => f.method === 'delay').map((f) => f.data.n);
    expect(order).toEqual([1, 2, 3]);
  });

  it('starts a connection’s next request in the turn its previous one is answered', async () => {
    releaseHold = undefined;
    nextStarted = false;
    const g = await startGateway();
    const client = await WsClient.connect(g.url, { token: await g.token('u1') });
    client.send({ frameType: 0, id: 'h', method: 'hold', data: {} });
    client.send({ frameType: 0, id: 'n', method: 'next', data: {} });
    // A ping is answered as it arrives: once its pong is back, both requests are in.
    client.send({ frameType: 1 });
    await client.waitFor((f) => f.frameType === 1);
    expect(releaseHold).toBeDefined();
    expect(nextStarted).toBe(false);
    let startedWithAnswer: boolean | undefined;
    releaseHold!();
    // Queued after the reaction to the held answer: the gateway's own promises (an async
    // dispatch awaited by the loop) would start `next` only after it.
    queueMicrotask(() => (startedWithAnswer = nextStarted));
    await client.waitForCount((f) => f.id === 'n', 1);
    expect(startedWithAnswer).toBe(true);
    const answers = client.frames.filter((f) => f.id !== undefined);
    expect(answers.map((f) => [f.id, f.data])).toEqual([
      ['h', { held: true }],
      ['n', {}],
    ]);
  });

  it('answers requests and refusals of one connection in arrival order, and refuses past the pending cap', async () => {
    const g = await startGateway({ maxPendingRequests: 4 });
    const client = await WsClient.connect(g.url, { token: await g.token('u1') });
    const burst = () => {
      // Sent in one go: the first starts at once, the others wait behind it.
      client.send({ frameType: 0, id: 'a', method: 'delay', data: { ms: 40, n: 1 } });
      client.send({ frameType: 0, id: 'b', method: 'boom', data: {} });
      client.send({ frameType: 0, id: 'c', method: 'nope' });
      client.send({ frameType: 0, id: 'd', method: 'echo', data: { text: 'd' } });
      // A fifth while four are pending: refused at once, before the others are answered.
      client.send({ frameType: 0, id: 'e', method: 'echo', data: { text: 'e' } });
    };
    const answered = () => client.frames.filter((f) => f.id !== undefined).map((f) => f.id);
    burst();
    await client.waitForCount((f) => f.id === 'd', 1);
    expect(answered()).toEqual(['e', 'a', 'b', 'c', 'd']);
    expect(client.frames.find((f) => f.id === 'e')).toMatchObject({
      frameType: 9,
      data: { code: CommonErrors.tooManyRequests.code },
    });
    expect(client.frames.find((f) => f.id === 'b')).toMatchObject({ frameType: 9 });
    // Once the connection is idle again, the next burst runs the same way.
    client.frames.length = 0;
    burst();
    await client.waitForCount((f) => f.id === 'd', 1);
    expect(answered()).toEqual(['e', 'a', 'b', 'c', 'd']);
  });

  it('starts overlapping requests once the one before took its place, answering in arrival order', async () => {
    events.length = 0;
    const g = await startGateway();
    const client = await WsClient.connect(g.url, { token: await g.token('u1') });
    const lap = (n: number, ms: number, place: string) =>
      client.send({ frameType: 0, id: `lap-${n}`, method: 'lap', data: { n, ms, place } });
    lap(1, 80, 'now');
    lap(2, 1, 'now');
    lap(3, 40, 'later');
    lap(4, 1, 'now');
    // Malformed: refused without running, its error frame in its place.
    client.send({ frameType: 0, id: 'lap-5', method: 'lap', data: { n: 5 } });
    lap(6, 1, 'now');
    const answers = await client.waitForCount((f) => String(f.id).startsWith('lap-'), 6);
    expect(answers.map((f) => [f.id, f.frameType])).toEqual([
      ['lap-1', 2],
      ['lap-2', 2],
      ['lap-3', 2],
      ['lap-4', 2],
      ['lap-5', 9],
      ['lap-6', 2],
    ]);
    // 2 and 3 started while 1 ran; 4 (and 6 behind it) once 3 took its place, before 1 ended.
    const at = (event: string) => events.indexOf(event);
    expect(at('start 1')).toBe(0);
    for (const n of [2, 3, 4, 6]) expect(at(`start ${n}`)).toBeLessThan(at('end 1'));
    expect(at('start 4')).toBeGreaterThan(at('placed 3'));
    expect(at('start 6')).toBeGreaterThan(at('start 4'));
  });

  it('holds overlapping requests behind one that never takes its place, and other methods behind all', async () => {
    events.length = 0;
    const g = await startGateway({ maxPendingRequests: 4 });
    const client = await WsClient.connect(g.url, { token: await g.token('u1') });
    const frames = [
      { frameType: 0, id: 'a-1', method: 'lap', data: { n: 1, ms: 30, place: 'never' } },
      { frameType: 0, id: 'a-2', method: 'lap', data: { n: 2, ms: 30, place: 'now' } },
      { frameType: 0, id: 'a-3', method: 'solo', data: { n: 3 } },
      { frameType: 0, id: 'a-4', method: 'lap', data: { n: 4, ms: 1, place: 'now' } },
      // A fifth while four are pending (one running, the others waiting behind it, since
      // it never takes its place): refused at once.
      { frameType: 0, id: 'a-5', method: 'lap', data: { n: 5, ms: 1, place: 'now' } },
    ];
    for (const frame of frames) client.send(frame);
    const answers = await client.waitForCount((f) => String(f.id).startsWith('a-'), 5);
    expect(answers.map((f) => f.id)).toEqual(['a-5', 'a-1', 'a-2', 'a-3', 'a-4']);
    expect(events).toEqual([
      'start 1',
      'end 1',
      'start 2',
      'end 2',
      'start 3',
      'end 3',
      'start 4',
      'end 4',
    ]);
  });

  it('answers bad frames with error frames and leaves other connections untouched', async () => {
    const g = await startGateway();
    const bystander = await WsClient.connect(g.url, { token: await g.token('bystander') });
    const client = await WsClient.connect(g.url, { token: await g.token('u1') });

    const errorOf = async (send: () => void, id?: string) => {
      const before = client.frames.length;
      send();
      const frame = await client.waitFor(
        (f, i = client.frames.indexOf(f)) => i >= before && f.frameType === 9,
      );
      if (id !== undefined) expect(frame.id).toBe(id);
      return frame.data as { code: number; msg: string };
    };

    expect(await errorOf(() => client.sendRaw('this is not json'))).toEqual({
      code: 100002,
      msg: 'frame is not valid JSON',
    });
    expect((await errorOf(() => client.sendRaw('[1,2]'))).code).toBe(100002);
    // A cut frame still names its request.
    expect(
      (await errorOf(() => client.sendRaw('{"frameType":0,"id":"cut","method":"echo","da'), 'cut'))
        .msg,
    ).toBe('frame is not valid JSON');
    expect(
      (await errorOf(() => client.send({ frameType: 'zero', id: 'x1', method: 'echo' }), 'x1')).msg,
    ).toMatch(/frameType/);
    expect(
      await errorOf(() => client.send({ frameType: 0, id: 'x2', method: 'nope' }), 'x2'),
    ).toEqual({
      code: 100005,
      msg: 'unknown method nope',
    });
    expect((await errorOf(() => client.send({ frameType: 0, id: 'x3' }), 'x3')).msg).toBe(
      'method is required',
    );
    expect(
      await errorOf(
        () => client.send({ frameType: 0, id: 'x4', method: 'echo', data: { text: 5 } }),
        'x4',
      ),
    ).toMatchObject({ code: 100002, msg: expect.stringMatching(/^data\.text/) });
    expect(
      await errorOf(() => client.send({ frameType: 0, id: 'x5', method: 'push', data: {} }), 'x5'),
    ).toEqual({
      code: 100008,
      msg: 'method push is server-only',
    });
    expect(
      await errorOf(() => client.send({ frameType: 0, id: 'x6', method: 'toString' }), 'x6'),
    ).toMatchObject({
      code: 100005,
    });
    expect((await errorOf(() => client.sendRaw(Buffer.from([1, 2, 3])))).msg).toMatch(/binary/);
    expect(
      await errorOf(() => client.send({ frameType: 0, id: 'x7', method: 'boom', data: {} }), 'x7'),
    ).toEqual({
      code: 100001,
      msg: 'internal server error',
    });
    expect(
      await errorOf(
        () => client.send({ frameType: 0, id: 'x8', method: 'forbidden', data: {} }),
        'x8',
      ),
    ).toEqual({
      code: 100008,
      msg: 'not yours',
    });

    expect(client.isOpen).toBe(true);
    expect(await client.call('echo', { text: 'still here' })).toEqual({ text: 'still here' });
    expect(await bystander.call('echo', { text: 'unaffected' })).toEqual({ text: 'unaffected' });
    expect(bystander.frames.filter((f) => f.frameType === 9)).toEqual([]);
  });

  it('refuses frames over the size limit, and closes with 1009 past the hard cap', async () => {
    const g = await startGateway({ maxFrameBytes: 4096 });
    const client = await WsClient.connect(g.url, { token: await g.token('u1') });
    client.send({ frameType: 0, id: 'big', method: 'echo', data: { text: 'x'.repeat(5000) } });
    const error = await client.waitFor((f) => f.frameType === 9);
    expect(error).toMatchObject({ id: 'big', method: 'echo' });
    expect(error.data).toEqual({ code: 100006, msg: 'frame larger than 4096 bytes' });
    // The request's id is read from the unparsed frame even after its data, never from inside it.
    client.sendRaw(
      JSON.stringify({ data: { id: 'inner', text: 'x'.repeat(5000) }, frameType: 0, id: 'late' }),
    );
    expect(await client.waitFor((f) => f.frameType === 9 && f.id !== 'big')).toMatchObject({
      id: 'late',
      data: { code: 100006 },
    });
    expect(await client.call('echo', { text: 'small' })).toEqual({ text: 'small' });
    client.send({ frameType: 0, id: 'huge', method: 'echo', data: { text: 'x'.repeat(10_000) } });
    expect((await client.closed).code).toBe(1009);
  });

  it('limits the frame rate per connection', async () => {
    const g = await startGateway({ framesPerSec: 5, frameBurst: 5 });
    const client = await WsClient.connect(g.url, { token: await g.token('u1') });
    for (let i = 0; i < 11; i += 1) client.send({ frameType: 1 });
    client.send({ frameType: 0, id: 'r12', method: 'whoami', data: {} });
    const limited = await client.waitForCount((f) => f.frameType === 9, 7);
    expect(limited[0]!.data.code).toBe(100007);
    // The refused request is answered with its own id.
    expect(limited[6]).toMatchObject({ id: 'r12', method: 'whoami', data: { code: 100007 } });
    expect(client.frames.filter((f) => f.frameType === 1)).toHaveLength(5);
  });
});

describe('gateway connection limits', () => {
  it('closes a connection that stays silent past the idle time, and keeps one that pings', async () => {
    const g = await startGateway({ idleTimeoutMs: 1000 });
    const silent = await WsClient.connect(g.url, { token: await g.token('u1') });
    const pinging = await WsClient.connect(g.url, { token: await g.token('u2') });
    const timer = setInterval(() => pinging.send({ frameType: 1 }), 300);
    try {
      expect(await silent.closed).toEqual({ code: 4000, reason: 'idle timeout' });
      expect(pinging.isOpen).toBe(true);
    } finally {
      clearInterval(timer);
    }
  });

  it('keeps several devices per user and closes the oldest past the maximum', async () => {
    const g = await startGateway({ maxConnectionsPerUser: 2 });
    const token = await g.token('u1');
    const first = await WsClient.connect(g.url, { token });
    await first.call('whoami', {});
    const second = await WsClient.connect(g.url, { token });
    await second.call('whoami', {});
    expect(g.registry.forUser('u1')).toHaveLength(2);
    const third = await WsClient.connect(g.url, { token });
    await third.call('whoami', {});
    expect(await first.closed).toEqual({
      code: 4009,
      reason: 'too many connections; closed the oldest',
    });
    expect(second.isOpen && third.isOpen).toBe(true);
    expect(g.registry.forUser('u1')).toHaveLength(2);
  });

  it('tracks presence per connection', async () => {
    const g = await startGateway();
    const token = await g.token('p1');
    const a = await WsClient.connect(g.url, { token });
    const b = await WsClient.connect(g.url, { token });
    await Promise.all([a.call('whoami', {}), b.call('whoami', {})]);
    expect(await g.presence.onlineAmong(['p1'])).toEqual(new Set(['p1']));
    await a.close();
    await sleep(50);
    expect(await g.presence.onlineAmong(['p1'])).toEqual(new Set(['p1']));
    await b.close();
    await sleep(50);
    expect(await g.presence.onlineAmong(['p1'])).toEqual(new Set());
  });

  it('cuts off a reader that stops reading while others keep receiving', async () => {
    const g = await startGateway({
      sendHighWaterBytes: 256 * 1024,
      maxFrameBytes: 1024 * 1024,
      framesPerSec: 1000,
      frameBurst: 1000,
    });
    const slow = await WsClient.connect(g.url, { token: await g.token('slow') });
    const fast = await WsClient.connect(g.url, { token: await g.token('fast') });
    const sender = await WsClient.connect(g.url, { token: await g.token('sender') });
    await Promise.all([slow.call('whoami', {}), fast.call('whoami', {})]);
    // Stop reading at the TCP level: the kernel buffers fill, then the server's queue grows.
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();

    const slowIsOpen = () => g.registry.forUser('slow').some((c) => c.isOpen);
    let queuedToSlow = 0;
    for (let round = 0; round < 40 && slowIsOpen(); round += 1) {
      const r = await sender.call('blast', { userId: 'slow', count: 50, size: 64 * 1024 });
      queuedToSlow += r.queued as number;
      await sender.call('blast', { userId: 'fast', count: 1, size: 10 });
    }
    expect(slowIsOpen()).toBe(false);
    // The socket is cut within the close grace period even though the client never reads.
    for (let i = 0; i < 50 && g.registry.forUser('slow').length > 0; i += 1) await sleep(100);
    expect(g.registry.forUser('slow')).toHaveLength(0);
    const metricsText = await g.metrics.registry.getSingleMetricAsString(
      'easychat_ws_closes_total',
    );
    expect(metricsText).toMatch(/code="4008"[^\n]* 1/);
    // Bounded: it was cut long before everything offered had been queued for it.
    expect(queuedToSlow).toBeLessThan(40 * 50);
    const fastGot = fast.frames.filter((f) => f.method === 'blast').length;
    expect(fastGot).toBeGreaterThan(0);
    expect(await fast.call('echo', { text: 'ok' })).toEqual({ text: 'ok' });
  });

  it('delivers pushes encoded once to every socket, whole and in order between answers', async () => {
    const g = await startGateway({ maxFrameBytes: 1024 * 1024 });
    const devices = [
      await WsClient.connect(g.url, { token: await g.token('many') }),
      await WsClient.connect(g.url, { token: await g.token('many') }),
    ];
    const sender = await WsClient.connect(g.url, { token: await g.token('sender') });
    await Promise.all(devices.map((d) => d.call('whoami', {})));
    // Frame lengths on both sides of each header form: 7-bit, 16-bit and 64-bit.
    const empty = JSON.stringify({ frameType: 0, method: 'blast', data: '' }).length;
    const lengths = [empty, 125, 126, 65_535, 65_536, 70_000];
    for (const length of lengths) {
      const size = length - empty;
      expect(await sender.call('blast', { userId: 'many', count: 1, size })).toEqual({
        queued: 2,
      });
      // An answer written by `ws` right after a frame the registry wrote whole.
      expect(await devices[0]!.call('echo', { text: `after ${length}` })).toEqual({
        text: `after ${length}`,
      });
    }
    for (const device of devices) {
      const blasts = device.frames.filter((f) => f.method === 'blast');
      expect(blasts.map((f) => (f.data as string).length + empty)).toEqual(lengths);
      expect(blasts.every((f) => /^x*$/.test(f.data as string))).toBe(true);
    }
  });

  it('closes every socket with 1001 on shutdown', async () => {
    const g = await startGateway();
    const client = await WsClient.connect(g.url, { token: await g.token('u1') });
    await client.call('whoami', {});
    await g.http.close();
    expect(await client.closed).toEqual({ code: 1001, reason: 'server shutting down' });
  });
});
