/**
 * Gateway limits seen from outside, on the whole app: the connection gauge on
 * /metrics and the per-address cap on upgrades.
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createUser } from '../../test/support/factories.js';
import { startTestApp, type TestApp } from '../../test/support/test-app.js';
import { WsClient } from '../../test/support/ws-client.js';

const apps: TestApp[] = [];
const sockets: WsClient[] = [];
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
  await Promise.all(apps.splice(0).map((t) => t.close()));
});

async function start(gateway: Record<string, number>): Promise<TestApp> {
  const t = await startTestApp({ overrides: { gateway } });
  apps.push(t);
  return t;
}

async function open(t: TestApp, token?: string): Promise<WsClient> {
  const client = await WsClient.connect(t.url, token ? { token } : {});
  sockets.push(client);
  return token ? client.ready() : client;
}

async function gauge(t: TestApp): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  return Number(/^easychat_ws_connections(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1]);
}

/** An upgrade the server refuses: its HTTP status and envelope. */
function refusedUpgrade(url: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`);
    socket.on('open', () => {
      socket.close();
      reject(new Error('the upgrade was accepted'));
    });
    socket.on('error', () => undefined);
    socket.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
  });
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await check()); i += 1) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('gateway limits', () => {
  it('counts easychat_ws_connections right when a sixth device evicts the oldest (4009)', async () => {
    const t = await start({ maxConnectionsPerUser: 5 });
    const user = await createUser(t.client);
    const devices = [];
    for (let i = 0; i < 6; i += 1) devices.push(await open(t, user.token));
    expect((await devices[0]!.closed).code).toBe(4009);
    expect(await gauge(t)).toBe(5);
    await Promise.all(devices.map((d) => d.close()));
    await until(async () => (await gauge(t)) === 0);
    expect(await gauge(t)).toBe(0);
  });

  it('refuses upgrades past gateway.maxConnectionsPerAddress with a 429 envelope', async () => {
    const t = await start({ maxConnectionsPerAddress: 3 });
    const [a, b, c] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    const first = await open(t, a.token);
    await open(t, b.token);
    const third = await open(t, c.token);
    expect(await refusedUpgrade(t.url)).toEqual({
      status: 429,
      body: { code: 100007, msg: 'too many connections from this address', data: null },
    });
    // A closed socket frees its place (once the server has seen its TCP close).
    await first.close();
    let again: WsClient | undefined;
    await until(async () => {
      again = await open(t, a.token).catch(() => undefined);
      return again !== undefined;
    });
    expect(await again!.call('user.online', {})).toHaveProperty('onlineList');
    expect(third.isOpen).toBe(true);
    expect(await refusedUpgrade(t.url)).toMatchObject({ status: 429 });
  });
});
