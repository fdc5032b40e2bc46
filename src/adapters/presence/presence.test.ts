import { afterEach, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, uniqueName } from '../../../test/support/backends.js';
import { MemoryPresence } from './memory-presence.js';
import { presenceContract } from './presence.contract.js';
import { RedisPresence, type RedisPresenceOptions } from './redis-presence.js';

presenceContract('memory', (nodeId) => new MemoryPresence(nodeId));

describe.runIf(TEST_REDIS_URL)('redis presence', () => {
  let prefix = uniqueName('p');
  const options = (
    nodeId: string,
    extra: Partial<RedisPresenceOptions> = {},
  ): RedisPresenceOptions => ({
    url: TEST_REDIS_URL!,
    keyPrefix: `${prefix}:`,
    nodeId,
    heartbeatMs: 100,
    nodeTimeoutMs: 400,
    ...extra,
  });
  presenceContract('redis', (nodeId) => new RedisPresence(options(nodeId)));

  const opened: RedisPresence[] = [];
  afterEach(async () => {
    for (const p of opened.splice(0)) await p.close();
    prefix = uniqueName('p');
  });
  const make = (nodeId: string, extra: Partial<RedisPresenceOptions> = {}) => {
    const p = new RedisPresence(options(nodeId, extra));
    opened.push(p);
    return p;
  };

  it('shares presence across nodes and routes each user to every node holding them', async () => {
    const a = make('gw-a');
    const b = make('gw-b');
    await a.connected('alice', 'a1');
    await b.connected('alice', 'b1');
    await b.connected('bob', 'b2');
    const routes = await a.routes(['alice', 'bob', 'carol']);
    expect(routes.get('gw-a')).toEqual(['alice']);
    expect(routes.get('gw-b')!.sort()).toEqual(['alice', 'bob']);
    expect(await b.onlineAmong(['alice', 'bob', 'carol'])).toEqual(new Set(['alice', 'bob']));
  });

  it('counts a silent node’s users offline within the timeout, then clears its entries', async () => {
    let clock = Date.now();
    const now = () => clock;
    const dead = make('gw-dead', { now, heartbeatMs: 60_000 });
    const live = make('gw-live', { now, heartbeatMs: 60_000 });
    await dead.connected('dora', 'd1');
    await live.connected('lena', 'l1');
    await live.connected('dora', 'l2');
    expect(await live.routes(['dora'])).toEqual(
      new Map([
        ['gw-dead', ['dora']],
        ['gw-live', ['dora']],
      ]),
    );
    clock += 500; // gw-dead misses its heartbeat; gw-live renews.
    await live.beat();
    expect(await live.routes(['dora', 'lena'])).toEqual(new Map([['gw-live', ['dora', 'lena']]]));
    await live.disconnected('dora', 'l2');
    expect(await live.onlineAmong(['dora'])).toEqual(new Set());
  });

  it('forgets the connections of a previous run when a node restarts under the same id', async () => {
    const first = make('gw-1');
    await first.connected('ghost', 'old-conn');
    // Simulate a crash: the process is gone without cleaning up.
    const crashed = opened.pop()!;
    const internals = crashed as unknown as {
      redis: { disconnect(): void };
      timer: NodeJS.Timeout;
    };
    clearInterval(internals.timer);
    internals.redis.disconnect();
    const second = make('gw-1');
    await second.connected('fresh', 'new-conn');
    expect(await second.onlineAmong(['ghost', 'fresh'])).toEqual(new Set(['fresh']));
  });

  it('removes its own entries on close', async () => {
    const a = make('gw-close');
    const b = make('gw-other');
    await a.connected('u', 'c');
    await a.close();
    opened.splice(opened.indexOf(a), 1);
    expect(await b.onlineAmong(['u'])).toEqual(new Set());
  });
});
