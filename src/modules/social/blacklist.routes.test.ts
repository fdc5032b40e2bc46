import { describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { befriend, createGroupWith } from '../../../test/support/social.js';
import { publishedEvents } from '../../../test/support/published-events.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import type { WsClient } from '../../../test/support/ws-client.js';

describe.each(STORAGES)('block list and friend remarks on %s', (storage) => {
  const { t, connect } = suiteApp({ storage });

  const newUser = () => createUser(t.client);
  const block = (who: RegisteredUser, userId: string) =>
    who.client.post('/v1/social/blacklist', { userId });
  const chat = (ws: WsClient, recvId: string, content: string, chatType = 2) =>
    ws.request('conversation.chat', { chatType, recvId, msg: { mType: 0, content } });

  it('blocks, lists with profile, refuses nothing twice, unblocks', async () => {
    const alice = await createUser(t.client, { nickname: 'alice' });
    const bob = await createUser(t.client, { nickname: 'bob', avatar: 'https://b/1.png' });
    const carol = await createUser(t.client, { nickname: 'carol' });

    expect((await block(alice, bob.id)).body).toEqual({ code: 200, msg: 'ok', data: {} });
    // Blocking again changes nothing and is no error.
    expect((await block(alice, bob.id)).status).toBe(200);
    expect((await block(alice, carol.id)).status).toBe(200);

    const list = await alice.client.get('/v1/social/blacklist');
    expect(list.status).toBe(200);
    expect(list.body.data.list).toEqual([
      expect.objectContaining({ userId: carol.id, nickname: 'carol', avatar: '' }),
      { userId: bob.id, nickname: 'bob', avatar: 'https://b/1.png', createdAt: expect.any(Number) },
    ]);
    // Nobody else sees it, the blocked user included.
    expect((await bob.client.get('/v1/social/blacklist')).body.data.list).toEqual([]);

    const unblocked = await alice.client.delete('/v1/social/blacklist', {
      query: { userId: bob.id },
    });
    expect(unblocked.body).toEqual({ code: 200, msg: 'ok', data: {} });
    const again = await alice.client.delete('/v1/social/blacklist', { query: { userId: bob.id } });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe(300203);
    expect((await alice.client.get('/v1/social/blacklist')).body.data.list).toEqual([
      expect.objectContaining({ userId: carol.id }),
    ]);

    const events = (await publishedEvents(t.app, 'blacklist-added', 'blacklist-removed')).filter(
      (e) => e.partitionKey === alice.id,
    );
    expect(events.map((e) => [e.type, e.payload])).toEqual([
      ['blacklist-added', { userId: alice.id, blockedUid: bob.id }],
      ['blacklist-added', { userId: alice.id, blockedUid: carol.id }],
      ['blacklist-removed', { userId: alice.id, blockedUid: bob.id }],
    ]);
  });

  it('refuses a blocked user’s private message, friend request and group invite; nothing else', async () => {
    const [alice, bob, carol] = [await newUser(), await newUser(), await newUser()];
    await befriend(alice, bob);
    const groupId = await createGroupWith(alice, [bob]);
    const [a, b] = [await connect(alice), await connect(bob)];
    expect((await chat(b, alice.id, 'before')).frameType).toBe(2);

    expect((await block(alice, bob.id)).status).toBe(200);

    const refused = await chat(b, alice.id, 'after');
    expect(refused.frameType).toBe(9);
    expect(refused.data).toEqual({
      code: 400201,
      msg: 'this user does not accept messages from you',
    });
    // Stored nothing: the conversation still holds the one message.
    const stored = await t.app.storage.db
      .selectFrom('messages')
      .select('content')
      .where('conversationId', '=', [alice.id, bob.id].sort().join('_'))
      .execute();
    expect(stored.map((m) => m.content)).toEqual(['before']);

    // A block is one-way: alice still writes to bob.
    expect((await chat(a, bob.id, 'from alice')).frameType).toBe(2);
    // Group chat is unaffected either way.
    expect((await chat(b, groupId, 'in the group', 1)).frameType).toBe(2);
    await a.waitFor((f) => f.method === 'push' && f.data?.content === 'in the group');

    // Friend request: bob and alice stop being friends, bob asks again.
    await alice.client.delete('/v1/social/friend', { query: { friendUid: bob.id } });
    const asked = await bob.client.post('/v1/social/friend/putIn', { userId: alice.id });
    expect(asked.status).toBe(403);
    expect(asked.body).toEqual({
      code: 300202,
      msg: 'this user does not accept requests from you',
      data: null,
    });
    expect((await alice.client.get('/v1/social/friend/putIns')).body.data.list).toEqual([]);

    // Group invite: bob invites alice into a group of his.
    const bobsGroup = await createGroupWith(bob, []);
    const invited = await bob.client.post('/v1/social/group/putIn', {
      groupId: bobsGroup,
      joinSource: 1,
      reqId: alice.id,
    });
    expect(invited.status).toBe(403);
    expect(invited.body.code).toBe(300202);
    // Carol, not blocked, may invite alice into it after joining.
    await carol.client.post('/v1/social/group/putIn', { groupId: bobsGroup, joinSource: 2 });
    const byCarol = await carol.client.post('/v1/social/group/putIn', {
      groupId: bobsGroup,
      joinSource: 1,
      reqId: alice.id,
    });
    expect(byCarol.body.data).toEqual({ joined: true });

    // Bob was told nothing about the block: no frame of his names it.
    expect(b.frames.filter((f) => JSON.stringify(f).includes('blacklist'))).toEqual([]);

    // Unblocked, bob may befriend alice and write again.
    await alice.client.delete('/v1/social/blacklist', { query: { userId: bob.id } });
    await befriend(bob, alice);
    expect((await chat(b, alice.id, 'welcome back')).frameType).toBe(2);
  });

  it('sets a remark shown in the friend list and in user search', async () => {
    const alice = await createUser(t.client, { nickname: 'remarkalice' });
    const bob = await createUser(t.client, { nickname: 'remarkbob' });
    const stranger = await createUser(t.client, { nickname: 'remarkstranger' });
    await befriend(alice, bob);

    const set = await alice.client.put('/v1/social/friend', {
      friendUid: bob.id,
      remark: 'Bob from work',
    });
    expect(set.body).toEqual({ code: 200, msg: 'ok', data: {} });
    expect((await alice.client.get('/v1/social/friends')).body.data.list).toEqual([
      expect.objectContaining({
        friendUid: bob.id,
        nickname: 'remarkbob',
        remark: 'Bob from work',
      }),
    ]);
    // The remark is alice's alone.
    expect((await bob.client.get('/v1/social/friends')).body.data.list).toEqual([
      expect.objectContaining({ friendUid: alice.id, remark: '' }),
    ]);

    const found = await alice.client.get('/v1/user/users', { query: { name: 'remark' } });
    const byId = Object.fromEntries(
      (found.body.data.list as Array<{ id: string }>).map((u) => [u.id, u]),
    );
    expect(byId[bob.id]).toMatchObject({ nickname: 'remarkbob', remark: 'Bob from work' });
    expect(byId[stranger.id]).not.toHaveProperty('remark');
    expect(byId[alice.id]).not.toHaveProperty('remark');
    const byIds = await alice.client.get('/v1/user/users', { query: { ids: bob.id } });
    expect(byIds.body.data.list[0].remark).toBe('Bob from work');

    // '' clears it.
    await alice.client.put('/v1/social/friend', { friendUid: bob.id, remark: '' });
    expect((await alice.client.get('/v1/social/friends')).body.data.list[0].remark).toBe('');
  });

  it('refuses strangers, unknown users, yourself and malformed input', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const noToken = t.client;

    for (const [method, path, body, query] of [
      ['POST', '/v1/social/blacklist', { userId: bob.id }, undefined],
      ['DELETE', '/v1/social/blacklist', undefined, { userId: bob.id }],
      ['GET', '/v1/social/blacklist', undefined, undefined],
      ['PUT', '/v1/social/friend', { friendUid: bob.id, remark: 'x' }, undefined],
    ] as const) {
      const res = await noToken.request(method, path, { body, query });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.code).toBe(100003);
      const bad = await noToken.request(method, path, { body, query, token: 'not-a-jwt' });
      expect(bad.status).toBe(401);
    }

    const self = await block(alice, alice.id);
    expect(self.status).toBe(400);
    expect(self.body.code).toBe(300201);
    const unknown = await block(alice, '01HZZZZZZZZZZZZZZZZZZZZZZZ');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe(300002);

    // A remark needs a friendship: a stranger's is refused, nothing written.
    const strangerRemark = await alice.client.put('/v1/social/friend', {
      friendUid: bob.id,
      remark: 'x',
    });
    expect(strangerRemark.status).toBe(404);
    expect(strangerRemark.body.code).toBe(300008);

    const malformed: Array<[string, string, Record<string, unknown>, string]> = [
      ['POST', '/v1/social/blacklist', {}, 'userId'],
      ['POST', '/v1/social/blacklist', { userId: bob.id, extra: 1 }, 'extra'],
      ['POST', '/v1/social/blacklist', { userId: 'x'.repeat(33) }, 'userId'],
      ['POST', '/v1/social/blacklist', { userId: 42 }, 'userId'],
      ['PUT', '/v1/social/friend', { friendUid: bob.id }, 'remark'],
      ['PUT', '/v1/social/friend', { friendUid: bob.id, remark: 'r'.repeat(65) }, 'remark'],
      ['PUT', '/v1/social/friend', { friendUid: bob.id, remark: 'r', nickname: 'n' }, 'nickname'],
    ];
    for (const [method, path, body, names] of malformed) {
      const res = await alice.client.request(method, path, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe(100002);
      expect(res.body.msg).toContain(names);
    }
    const noQuery = await alice.client.delete('/v1/social/blacklist');
    expect(noQuery.status).toBe(400);
    expect(noQuery.body.code).toBe(100002);
    const badJson = await alice.client.request('POST', '/v1/social/blacklist', { rawBody: '{' });
    expect(badJson.status).toBe(400);
    expect((await alice.client.get('/v1/social/blacklist')).body.data.list).toEqual([]);
  });
});
