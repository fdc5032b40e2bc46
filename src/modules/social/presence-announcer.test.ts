import { describe, expect, it } from 'vitest';
import { createUser } from '../../../test/support/factories.js';
import { befriend } from '../../../test/support/social.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import type { WsClient } from '../../../test/support/ws-client.js';
import { PRESENCE_METHOD } from './presence-announcer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('presence pushes to friends', () => {
  const { t, connect } = suiteApp();

  const presenceOf = (socket: WsClient, userId: string) =>
    socket
      .pushes(PRESENCE_METHOD)
      .filter((f) => (f.data as { userId: string }).userId === userId)
      .map((f) => (f.data as { online: boolean }).online);

  it('tells online friends when a user comes online and when the last device goes', async () => {
    const [alice, bob, carol] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    await befriend(alice, bob);
    const [a, c] = [await connect(alice.token), await connect(carol.token)];

    const phone = await connect(bob.token);
    const online = await a.waitFor((f) => f.method === PRESENCE_METHOD);
    expect(online).toMatchObject({
      frameType: 0,
      method: PRESENCE_METHOD,
      data: { userId: bob.id, online: true },
    });
    expect(typeof online.id).toBe('string');

    // A second device changes nothing; closing one of two leaves Bob online.
    const laptop = await connect(bob.token);
    await laptop.close();
    await sleep(300);
    expect(presenceOf(a, bob.id)).toEqual([true]);

    await phone.close();
    await a.waitForCount((f) => f.method === PRESENCE_METHOD, 2);
    expect(presenceOf(a, bob.id)).toEqual([true, false]);
    // Carol is not Bob's friend and hears nothing; Bob's own devices were not told.
    expect(c.pushes(PRESENCE_METHOD)).toEqual([]);
    expect(presenceOf(phone, bob.id)).toEqual([]);
  });

  it('refuses the method from a client', async () => {
    const user = await createUser(t.client);
    const socket = await connect(user.token);
    const answer = await socket.request(PRESENCE_METHOD, { userId: user.id, online: true });
    expect(answer.frameType).toBe(9);
  });
});
