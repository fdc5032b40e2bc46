import { describe, expect, it } from 'vitest';
import { MemoryMailbox } from '../adapters/mailbox/memory-mailbox.js';
import { MemoryPresence } from '../adapters/presence/memory-presence.js';
import type { Presence } from '../adapters/presence/presence.js';
import { frameText, type LocalSockets } from './local-sockets.js';
import { RoutedPushDelivery } from './push-delivery.js';
import type { ServerPush } from './server-push.js';

/** Sockets of this process: `online` users, one connection each (`<user>-c`). */
function sockets(online: string[]) {
  const frames: Array<{ userId: string; frame: string }> = [];
  const local: LocalSockets = {
    deliver(userIds, frame, except) {
      let sent = 0;
      let text: string | undefined;
      for (const userId of userIds) {
        if (!online.includes(userId) || `${userId}-c` === except) continue;
        text ??= frameText(frame);
        frames.push({ userId, frame: text });
        sent += 1;
      }
      return sent;
    },
    reaches: (userIds, except) =>
      [...userIds].some((userId) => online.includes(userId) && `${userId}-c` !== except),
    users: () => online,
  };
  return { local, frames };
}

/** A push whose data counts how often it was serialized. */
function countedPush() {
  const counter = { encoded: 0 };
  const data = {
    toJSON() {
      counter.encoded += 1;
      return {};
    },
  };
  return { push: { method: 'session.resync', data } as unknown as ServerPush, counter };
}

function delivery(local: LocalSockets, presence: Presence, mailbox = new MemoryMailbox()) {
  return new RoutedPushDelivery({
    nodeId: 'n1',
    presence,
    mailbox,
    local,
    audience: { audience: async () => [] },
    batchSize: 100,
  });
}

describe('RoutedPushDelivery.mayReach', () => {
  it('answers from this process’s sockets when presence is this process only', () => {
    const { local } = sockets(['alice']);
    const routed = delivery(local, new MemoryPresence('n1'));
    expect(routed.mayReach(['alice'], 'alice-c')).toBe(false);
    expect(routed.mayReach(['alice'])).toBe(true);
    expect(routed.mayReach(['bob'])).toBe(false);
  });

  it('cannot tell (true) when other processes may hold the users', () => {
    const { local } = sockets([]);
    const presence = { thisNodeOnly: false } as unknown as Presence;
    expect(delivery(local, presence).mayReach(['bob'])).toBe(true);
  });
});

describe('RoutedPushDelivery.toUsers', () => {
  it('does not encode a push that no socket gets (one process, nobody else connected)', async () => {
    const { local, frames } = sockets(['alice']);
    const { push, counter } = countedPush();
    const sent = await delivery(local, new MemoryPresence('n1')).toUsers(['alice', 'bob'], push, {
      exceptConnectionId: 'alice-c',
    });
    expect(sent).toBe(0);
    expect(frames).toEqual([]);
    expect(counter.encoded).toBe(0);
  });

  it('encodes it once for every socket that gets it', async () => {
    const { local, frames } = sockets(['alice', 'bob']);
    const { push, counter } = countedPush();
    const sent = await delivery(local, new MemoryPresence('n1')).toUsers(['alice', 'bob'], push);
    expect(sent).toBe(2);
    expect(counter.encoded).toBe(1);
    expect(frames.map((f) => f.userId)).toEqual(['alice', 'bob']);
    expect(frames[0]!.frame).toBe(frames[1]!.frame);
  });

  it('still routes to other gateways when presence spans processes', async () => {
    const { local } = sockets([]);
    const mailbox = new MemoryMailbox('push-delivery-test');
    const received: string[] = [];
    await mailbox.listen('n2', (raw) => received.push(raw));
    const presence = {
      thisNodeOnly: false,
      routes: async (userIds: readonly string[]) => new Map([['n2', [...userIds]]]),
    } as unknown as Presence;
    const { push, counter } = countedPush();
    await delivery(local, presence, mailbox).toUsers(['bob'], push);
    await new Promise((resolve) => setImmediate(resolve));
    expect(counter.encoded).toBe(1);
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!)).toMatchObject({ u: ['bob'] });
  });
});

describe('RoutedPushDelivery.toUsersNow', () => {
  it('writes to this process’s sockets before it returns when presence is this process only', () => {
    const { local, frames } = sockets(['alice', 'bob']);
    const { push, counter } = countedPush();
    const sent = delivery(local, new MemoryPresence('n1')).toUsersNow(
      ['alice', 'bob'],
      push,
      'alice-c',
    );
    expect(sent).toBe(1);
    expect(counter.encoded).toBe(1);
    expect(frames.map((f) => f.userId)).toEqual(['bob']);
  });

  it('sends nothing and answers undefined when other processes may hold the users (toUsers routes them)', () => {
    const { local, frames } = sockets(['alice']);
    const presence = {
      thisNodeOnly: false,
      routes: async () => new Map(),
    } as unknown as Presence;
    const { push, counter } = countedPush();
    expect(delivery(local, presence).toUsersNow(['alice', 'bob'], push)).toBeUndefined();
    expect(frames).toEqual([]);
    expect(counter.encoded).toBe(0);
  });
});
