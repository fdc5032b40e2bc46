import { describe, expect, it } from 'vitest';
import type { Consumer, Delivery } from '../../adapters/bus/bus.js';
import type { Logger } from '../../shared/logger.js';
import { ChatType } from '../im/index.js';
import { startPushDelivery, type PushDeliveryDeps, type SentEvent } from './push-delivery.js';
import { WebhookPushes, type WebhookMode } from './webhook-pushes.js';

/** The delivery consumer over a fake broker: the handler it registered, and the lookups made. */
async function consumer(options: {
  deviceless: string[];
  webhook?: WebhookMode;
  online?: string[];
  /** The push driver leaves no trace (the console driver above debug). */
  unseen?: boolean;
  /** Who muted the conversation (default bob). */
  muted?: string[];
}) {
  let handle!: (delivery: Delivery) => Promise<void>;
  const broker = {
    consume: async (_spec: unknown, handler: (delivery: Delivery) => Promise<void>) => {
      handle = handler;
      return { stop: async () => {} };
    },
  } as unknown as Consumer;
  const lookups: string[][] = [];
  const pushes: unknown[] = [];
  const deps = {
    broker,
    // A group of alice and bob; bob muted it unless told otherwise (so nothing goes out
    // past the lookups).
    audience: {
      audience: async (_id: string, _seq: number, after?: string) =>
        after ? [] : ['alice', 'bob'],
    },
    text: {
      context: async () => ({ message: { content: 'hi' }, senderName: 'Alice', preview: 'full' }),
      badgesAndMutes: async () => ({
        badges: new Map([['bob', 1]]),
        quiet: new Set(options.muted ?? ['bob']),
      }),
    },
    devices: {
      knownDeviceless: (userId: string) => options.deviceless.includes(userId),
      registeredOf: async (userIds: readonly string[]) => {
        lookups.push([...userIds]);
        return [];
      },
      keepLive: async () => [],
    },
    presence: {
      onlineTokens: async () => new Map(),
      onlineAmong: async (ids: string[]) =>
        new Set(ids.filter((id) => options.online?.includes(id))),
      isOnlineNow: (id: string) => options.online?.includes(id) === true,
    },
    webhook: new WebhookPushes({
      mode: options.webhook ?? 'off',
      notify: {
        sendBatch: async (items: unknown[]) => {
          pushes.push(...items);
        },
      },
      unseen: () => options.unseen === true,
    }),
    sender: { deliver: async () => 0 },
    recalled: async () => false,
    concurrency: 1,
    logger: {} as Logger,
  } as unknown as PushDeliveryDeps;
  await startPushDelivery(deps);
  const sent = (payload: Partial<SentEvent>) =>
    handle({
      event: {
        id: 'e1',
        type: 'message-sent',
        aggregate: 'conversation',
        timestamp: 1,
        metadata: { source: 'test', version: 1 },
        payload: {
          msgId: 'm1',
          conversationId: 'si_alice_bob',
          chatType: ChatType.single,
          seq: 1,
          sendId: 'alice',
          recvId: 'bob',
          mType: 101,
          sendTime: 1,
          ...payload,
        },
      },
    } as unknown as Delivery);
  return { sent, lookups, pushes };
}

describe('push delivery of a single chat to a recipient known to have no device', () => {
  it('ends without a lookup when the recipient is remembered as deviceless', async () => {
    const { sent, lookups } = await consumer({ deviceless: ['bob'] });
    await sent({});
    expect(lookups).toEqual([]);
  });

  it('ends without a lookup when a webhook is configured but the recipient is online', async () => {
    for (const webhook of ['fallback', 'always'] as const) {
      const { sent, lookups } = await consumer({ deviceless: ['bob'], webhook, online: ['bob'] });
      await sent({});
      expect(lookups).toEqual([]);
    }
  });

  it('looks the recipient up when not remembered, or when offline and a webhook may be due', async () => {
    const plain = await consumer({ deviceless: [] });
    await plain.sent({});
    expect(plain.lookups).toEqual([['bob']]);
    const hooked = await consumer({ deviceless: ['bob'], webhook: 'fallback' });
    await hooked.sent({});
    expect(hooked.lookups).toEqual([['bob']]);
  });

  it('makes no webhook push, and no lookup, while the push driver leaves no trace', async () => {
    for (const webhook of ['fallback', 'always'] as const) {
      const unseen = await consumer({ deviceless: ['bob'], webhook, unseen: true });
      await unseen.sent({});
      expect(unseen.lookups).toEqual([]);
      expect(unseen.pushes).toEqual([]);
    }
    // The same message with the driver seen: looked up, and the webhook push made.
    const seen = await consumer({ deviceless: ['bob'], webhook: 'always', muted: [] });
    await seen.sent({});
    expect(seen.lookups).toEqual([['bob']]);
    expect(seen.pushes).toMatchObject([{ type: 'notify.push', payload: { userId: 'bob' } }]);
  });

  it('looks a group message up whatever is remembered', async () => {
    const { sent, lookups } = await consumer({ deviceless: ['bob'] });
    await sent({ chatType: ChatType.group, conversationId: 'g1', recvId: 'g1' });
    expect(lookups).toEqual([['bob']]);
  });
});
