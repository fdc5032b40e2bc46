import { describe, expect, it } from 'vitest';
import { MemoryMailbox } from '../adapters/mailbox/memory-mailbox.js';
import { MemoryPresence } from '../adapters/presence/memory-presence.js';
import type { OutboundFrame } from '../realtime/outbound-frame.js';
import { RoutedPushDelivery } from '../realtime/push-delivery.js';
import type { ServerPush } from '../realtime/server-push.js';
import type { Connection } from './connection.js';
import { ConnectionRegistry } from './connection-registry.js';

/** A connection that keeps the bytes it was given to write (what `Connection.sendFrame` writes). */
function recording(userId: string, written: Buffer[]): Connection {
  return {
    userId,
    id: `${userId}-c`,
    sendFrame(frame: OutboundFrame) {
      written.push(frame.wire);
      return true;
    },
  } as unknown as Connection;
}

describe('a group push on this process’s sockets', () => {
  it('is serialized and framed once per message, whatever the batches of its audience', async () => {
    const members = Array.from({ length: 7 }, (_, n) => `m${n}`);
    const written: Buffer[] = [];
    const registry = new ConnectionRegistry(5);
    for (const member of members) registry.add(recording(member, written));
    const delivery = new RoutedPushDelivery({
      nodeId: 'n1',
      presence: new MemoryPresence('n1'),
      mailbox: new MemoryMailbox(),
      local: registry,
      // Read two at a time: four batches, each handed to the registry on its own.
      audience: {
        audience: async (_conversation, _seq, after, limit) =>
          members.filter((m) => after === undefined || m > after).slice(0, limit),
      },
      batchSize: 2,
    });
    let serialized = 0;
    const data = {
      toJSON() {
        serialized += 1;
        return { text: 'hello' };
      },
    };
    const push = { method: 'push', data } as unknown as ServerPush;

    await delivery.toConversation('g1', 1, push, { exceptConnectionId: 'm0-c' });

    expect(serialized).toBe(1);
    expect(written).toHaveLength(members.length - 1);
    // The same bytes, one buffer: framed for the first socket, written as they are to all.
    expect(new Set(written).size).toBe(1);
    expect(JSON.parse(written[0]!.subarray(2).toString('utf8'))).toMatchObject({
      method: 'push',
      data: { text: 'hello' },
    });
  });
});
