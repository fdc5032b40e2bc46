import { describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { befriend } from '../../../test/support/social.js';
import { publishedEvents } from '../../../test/support/published-events.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import { pairKey } from './social.entity.js';

describe.each(STORAGES)('friends API on %s', (storage) => {
  const { t } = suiteApp({ storage });

  const users = (n: number) => Promise.all(Array.from({ length: n }, () => createUser(t.client)));
  const ask = (from: RegisteredUser, to: RegisteredUser, reqMsg?: string) =>
    from.client.post('/v1/social/friend/putIn', { userId: to.id, ...(reqMsg ? { reqMsg } : {}) });
  const handle = (who: RegisteredUser, friendReqId: string, handleResult: number) =>
    who.client.put('/v1/social/friend/putIn', { friendReqId, handleResult });
  const friendRows = (a: string, b: string) =>
    t.app.storage.db
      .selectFrom('friends')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('userId', '=', a), eb('friendUid', '=', b)]),
          eb.and([eb('userId', '=', b), eb('friendUid', '=', a)]),
        ]),
      )
      .execute();
  const pairEvents = async (a: string, b: string) =>
    (await publishedEvents(t.app)).filter((e) => e.partitionKey === pairKey(a, b));

  it('requests, lists, accepts, lists friends with profile, deletes both directions', async () => {
    const alice = await createUser(t.client, { nickname: 'alice', avatar: 'https://a/1.png' });
    const bob = await createUser(t.client, { nickname: 'bob', avatar: 'https://b/1.png' });

    const asked = await ask(alice, bob, 'hi, it is alice');
    expect(asked.status).toBe(200);
    expect(asked.body).toEqual({
      code: 200,
      msg: 'ok',
      data: { id: expect.stringMatching(/^[0-9A-Z]{26}$/), handleResult: 1 },
    });
    const reqId = asked.body.data.id as string;

    // Asking again while pending answers the same request and stores nothing new.
    const again = await ask(alice, bob, 'hello?');
    expect(again.body.data).toEqual({ id: reqId, handleResult: 1 });

    const pending = await bob.client.get('/v1/social/friend/putIns');
    expect(pending.status).toBe(200);
    expect(pending.body.data.list).toEqual([
      {
        id: reqId,
        userId: bob.id,
        reqUid: alice.id,
        reqMsg: 'hi, it is alice',
        reqTime: expect.any(Number),
        handleResult: 1,
      },
    ]);
    // Requests I sent are not in my inbox.
    expect((await alice.client.get('/v1/social/friend/putIns')).body.data.list).toEqual([]);

    const accepted = await handle(bob, reqId, 2);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ code: 200, msg: 'ok', data: {} });
    expect((await bob.client.get('/v1/social/friend/putIns')).body.data.list).toEqual([]);

    const bobsFriends = await bob.client.get('/v1/social/friends');
    expect(bobsFriends.body.data.list).toEqual([
      {
        friendUid: alice.id,
        nickname: 'alice',
        avatar: 'https://a/1.png',
        remark: '',
        addSource: 1,
      },
    ]);
    const alicesFriends = await alice.client.get('/v1/social/friends');
    expect(alicesFriends.body.data.list).toEqual([
      { friendUid: bob.id, nickname: 'bob', avatar: 'https://b/1.png', remark: '', addSource: 1 },
    ]);
    expect(await friendRows(alice.id, bob.id)).toHaveLength(2);

    const dup = await ask(alice, bob);
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ code: 300003, msg: 'already friends', data: null });

    const removed = await alice.client.delete('/v1/social/friend', {
      query: { friendUid: bob.id },
    });
    expect(removed.status).toBe(200);
    expect(await friendRows(alice.id, bob.id)).toHaveLength(0);
    expect((await bob.client.get('/v1/social/friends')).body.data.list).toEqual([]);
    const removedAgain = await bob.client.delete('/v1/social/friend', {
      query: { friendUid: alice.id },
    });
    expect(removedAgain.status).toBe(404);
    expect(removedAgain.body.code).toBe(300008);

    expect((await pairEvents(alice.id, bob.id)).map((e) => [e.type, e.payload])).toEqual([
      [
        'friend_request-created',
        { requestId: reqId, reqUid: alice.id, userId: bob.id, reqMsg: 'hi, it is alice' },
      ],
      [
        'friend_request-handled',
        { requestId: reqId, reqUid: alice.id, userId: bob.id, handleResult: 2, handlerUid: bob.id },
      ],
      ['friend-added', { userId: bob.id, friendUid: alice.id, addSource: 1, requestId: reqId }],
      ['friend-deleted', { userId: alice.id, friendUid: bob.id }],
    ]);
  });

  it('accepts their pending request when I ask someone who already asked me', async () => {
    const [a, b] = await users(2);
    const theirs = await ask(b!, a!);
    const mine = await ask(a!, b!);
    expect(mine.status).toBe(200);
    expect(mine.body.data).toEqual({ id: theirs.body.data.id, handleResult: 2 });
    expect(await friendRows(a!.id, b!.id)).toHaveLength(2);
    const requests = await t.app.storage.db
      .selectFrom('friendRequests')
      .select(['id', 'handleResult'])
      .where('pairKey', '=', pairKey(a!.id, b!.id))
      .execute();
    expect(requests).toEqual([{ id: theirs.body.data.id, handleResult: 2 }]);
    expect((await pairEvents(a!.id, b!.id)).map((e) => e.type)).toEqual([
      'friend_request-created',
      'friend_request-handled',
      'friend-added',
    ]);
  });

  it('refuses and cancels; a new request may follow either', async () => {
    const [a, b] = await users(2);
    const first = (await ask(a!, b!)).body.data.id;
    expect((await handle(b!, first, 3)).status).toBe(200);
    expect(await friendRows(a!.id, b!.id)).toEqual([]);
    expect((await b!.client.get('/v1/social/friend/putIns')).body.data.list).toEqual([]);

    const second = (await ask(a!, b!)).body.data.id;
    expect(second).not.toBe(first);
    expect((await handle(a!, second, 4)).status).toBe(200);
    expect((await b!.client.get('/v1/social/friend/putIns')).body.data.list).toEqual([]);

    const handled = (await pairEvents(a!.id, b!.id)).filter(
      (e) => e.type === 'friend_request-handled',
    );
    expect(handled.map((e) => [e.payload.handleResult, e.payload.handlerUid])).toEqual([
      [3, b!.id],
      [4, a!.id],
    ]);
  });

  it('refuses requests to myself and to unknown users', async () => {
    const [a] = await users(1);
    const self = await ask(a!, a!);
    expect(self.status).toBe(400);
    expect(self.body.code).toBe(300001);
    const unknown = await a!.client.post('/v1/social/friend/putIn', {
      userId: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe(300002);
  });

  it('lets only the addressee accept or refuse and only the sender cancel', async () => {
    const [a, b, stranger] = await users(3);
    const id = (await ask(a!, b!)).body.data.id;
    for (const [who, result, code] of [
      [stranger, 2, 300005],
      [stranger, 3, 300005],
      [stranger, 4, 300006],
      [a, 2, 300005],
      [a, 3, 300005],
      [b, 4, 300006],
    ] as const) {
      const res = await handle(who!, id, result);
      expect(res.status, `${result}`).toBe(403);
      expect(res.body.code, `${result}`).toBe(code);
    }
    // Nothing changed: it is still pending and b can accept.
    expect((await handle(b!, id, 2)).status).toBe(200);
  });

  it('answers 409 when a request was already handled and 404 when it does not exist', async () => {
    const [a, b] = await users(2);
    const id = (await ask(a!, b!)).body.data.id;
    expect((await handle(b!, id, 3)).status).toBe(200);
    for (const result of [2, 3]) {
      const again = await handle(b!, id, result);
      expect(again.status).toBe(409);
      expect(again.body).toEqual({ code: 300007, msg: 'request was already handled', data: null });
    }
    const cancel = await handle(a!, id, 4);
    expect(cancel.status).toBe(409);
    const missing = await handle(b!, '01ARZ3NDEKTSV4RRFFQ69G5FAV', 2);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe(300004);
  });

  it('lists online friends from presence', async () => {
    const [me, online, offline, strangerOnline] = await users(4);
    await befriend(me!, online!);
    await befriend(me!, offline!);
    await t.app.presence.connected(online!.id, 'c1');
    await t.app.presence.connected(strangerOnline!.id, 'c2');
    const res = await me!.client.get('/v1/social/friends/online');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ onlineList: { [online!.id]: true } });
    await t.app.presence.disconnected(online!.id, 'c1');
    expect((await me!.client.get('/v1/social/friends/online')).body.data).toEqual({
      onlineList: {},
    });
  });
});
