/**
 * Messages that change after they are sent must reach every device, including
 * those that were offline, by sync (modSeq) without re-sending history. Several
 * SDK clients make random sends, edits, recalls and reactions and drop off the
 * network at random; at the end each client's local state, built only from
 * pushes and syncs (MessageStore), equals the server's history message by message.
 */
import type { ChatClient } from '@easy-chat/sdk';
import {
  ApiError,
  ChatType,
  DisconnectedError,
  MessageStore,
  TimeoutError,
  type Message,
} from '@easy-chat/sdk';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { STORAGES } from '../support/backends.js';
import { seededRandom } from '../support/seeded-random.js';
import { createUser, type RegisteredUser } from '../support/factories.js';
import type { Network } from '../support/sdk.js';
import { sdkClient, waitUntil } from '../support/sdk.js';
import { createGroupWith } from '../support/social.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface Device {
  user: RegisteredUser;
  client: ChatClient;
  network: Network;
  store: MessageStore;
}

const STEPS = 120;
const EMOJIS = ['👍', '🎉', '❤'];

describe.each(STORAGES)('changes converge on every client, on %s', (storage) => {
  let t: TestApp;
  const devices: Device[] = [];
  beforeAll(async () => {
    // Small pages: catching up takes several, for messages and for changes.
    t = await startTestApp({ storage, overrides: { im: { syncPageSize: 7 } } });
  });
  afterAll(async () => {
    for (const d of devices) d.client.disconnect();
    await t.close();
  });

  // CONVERGENCE_SEED=n replays a script.
  it('every local state equals the server history after random changes and disconnects', async () => {
    const seed = Number(process.env.CONVERGENCE_SEED ?? Date.now() % 100_000);
    // Any failure names the seed, a timeout too (whose error says nothing of it).
    onTestFailed(() => console.error(`convergence: replay with CONVERGENCE_SEED=${seed}`));
    const rand = seededRandom(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
    const users = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    const groupId = await createGroupWith(users[0]!, users.slice(1));
    // The owner has two devices; every device keeps its own store.
    for (const user of [users[0]!, ...users]) {
      const opened = await sdkClient(t.url, user);
      const store = new MessageStore();
      store.attach(opened.client);
      devices.push({ user, client: opened.client, network: opened.network, store });
    }
    const sent: Message[] = [];
    // Mostly a message of the device's own user, so that edits and recalls mostly go
    // through (only the sender may change a message): a walk of refusals alone (seed
    // 4404 with every server, before) changed nothing and proved nothing.
    const pickChangeable = (d: Device): Message => {
      const own = sent.filter((m) => m.sendId === d.user.id);
      return own.length > 0 && rand() < 0.8 ? pick(own) : pick(sent);
    };
    const online = (d: Device) => !d.network.down && d.client.state === 'online';
    const expected = (err: unknown) => {
      // Refusals the random walk runs into (recalled, past the window, not the sender),
      // and a change whose socket was cut under it (applied or not: the server's history
      // is what every device must converge to): fine.
      if (!(
        err instanceof ApiError ||
        err instanceof DisconnectedError ||
        err instanceof TimeoutError
      ))
        throw err;
    };

    for (let step = 0; step < STEPS; step += 1) {
      const roll = rand();
      const d = pick(devices);
      if (roll < 0.1) {
        // Drop off the network (pushes are lost) or come back.
        if (d.network.down) d.network.down = false;
        else {
          d.network.down = true;
          d.network.cut();
        }
        continue;
      }
      if (!online(d)) continue;
      try {
        if (roll < 0.45 || sent.length === 0) {
          sent.push(
            await d.client.send({
              chatType: ChatType.group,
              recvId: groupId,
              content: `s${step}`,
            }),
          );
        } else if (roll < 0.6) {
          const target = pickChangeable(d);
          await d.client.edit(groupId, target.msgId, `${target.content}/e${step}`);
        } else if (roll < 0.7) {
          await d.client.revoke(groupId, pickChangeable(d).msgId);
        } else {
          await d.client.react(groupId, pick(sent).msgId, pick(EMOJIS), rand() < 0.75);
        }
      } catch (err) {
        expected(err);
      }
    }

    for (const d of devices) d.network.down = false;
    await waitUntil(() => devices.every(online), 20_000, 'every device back online');
    // Let pushes in flight land, then one more catch-up each.
    await new Promise((r) => setTimeout(r, 300));
    for (const d of devices) await d.client.sync();

    const history = await fullHistory(users[0]!, groupId);
    // The group's history holds its three membership notices (founding and two joins)
    // and every message sent.
    expect(history.filter((m) => m.mType !== 10).length, `seed ${seed}`).toBe(sent.length);
    expect(history.filter((m) => m.mType === 10).length, `seed ${seed}`).toBe(3);
    expect(
      history.some((m) => m.modSeq > 0),
      `seed ${seed}: nothing changed`,
    ).toBe(true);
    // The notices predate the devices' first list (the SDK takes them as history, and
    // a notice is never changed): the stores are compared on what was sent and changed.
    const chat = (list: Message[]) => list.filter((m) => m.mType !== 10);
    for (const [i, d] of devices.entries()) {
      expect(chat(d.store.list(groupId)), `device ${i}, seed ${seed}`).toEqual(chat(history));
    }
    // About a second alone; a loaded CI machine took the model check (a walk like this
    // one, src/modules/im/im.model.test.ts) past 30 s.
  }, 120_000);

  async function fullHistory(user: RegisteredUser, conversationId: string): Promise<Message[]> {
    const out: Message[] = [];
    let endSeq: number | undefined;
    for (;;) {
      const page = await user.client.get('/v1/im/chatlog', {
        query: { conversationId, count: 200, endSeq },
      });
      const list = page.body.data.list as Message[];
      out.push(...list);
      if (list.length < 200) break;
      endSeq = list[list.length - 1]!.seq - 1;
    }
    return out.reverse();
  }
});
