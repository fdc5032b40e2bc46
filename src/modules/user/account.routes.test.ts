import { describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { befriend, createGroup, createGroupWith } from '../../../test/support/social.js';
import { publishedEvents } from '../../../test/support/published-events.js';
import { suiteApp } from '../../../test/support/suite-app.js';

describe.each(STORAGES)('account life cycle on %s', (storage) => {
  const { t, connect } = suiteApp({
    storage,
    overrides: { rateLimit: { password: { perUser: { limit: 4, windowSec: 600 } } } },
  });

  const login = (user: RegisteredUser, password: string) =>
    t.client.post('/v1/user/login', { phone: user.phone, password });
  const changePassword = (token: string, oldPassword: string, newPassword: string) =>
    t.client.put('/v1/user/password', { oldPassword, newPassword }, { token });

  describe('change password', () => {
    it('ends every other session; this client continues with the token it gets', async () => {
      const alice = await createUser(t.client);
      const phone = (await login(alice, alice.password)).body.data.token as string;
      const [laptopSocket, phoneSocket] = [await connect(alice.token), await connect(phone)];

      const changed = await changePassword(alice.token, alice.password, 'new-horse-battery-9');
      expect(changed.status).toBe(200);
      expect(changed.body.data).toEqual({ token: expect.any(String), expire: expect.any(Number) });
      const fresh = changed.body.data.token as string;
      // Opened at once, likely before the gateway hears of the change: it must survive it.
      const freshSocket = await connect(fresh);

      for (const old of [alice.token, phone]) {
        const refused = await t.client.get('/v1/user/user', { token: old });
        expect(refused.status).toBe(401);
        expect(refused.body.msg).toBe('token revoked');
      }
      expect((await t.client.get('/v1/user/user', { token: fresh })).status).toBe(200);
      expect(await laptopSocket.closed).toEqual({ code: 4001, reason: 'password changed' });
      expect(await phoneSocket.closed).toEqual({ code: 4001, reason: 'password changed' });
      await freshSocket.ready();
      expect(freshSocket.isOpen).toBe(true);

      // The old password no longer logs in, the new one does, and at once (same second).
      expect((await login(alice, alice.password)).status).toBe(401);
      const relogin = await login(alice, 'new-horse-battery-9');
      expect((await t.client.get('/v1/user/user', { token: relogin.body.data.token })).status).toBe(
        200,
      );

      // A second change in the same second still revokes the first change's token.
      const again = await changePassword(fresh, 'new-horse-battery-9', 'third-horse-battery-7');
      expect(again.status).toBe(200);
      expect((await t.client.get('/v1/user/user', { token: fresh })).status).toBe(401);
      expect((await t.client.get('/v1/user/user', { token: relogin.body.data.token })).status).toBe(
        401,
      );
      const latest = again.body.data.token as string;
      expect((await t.client.get('/v1/user/user', { token: latest })).status).toBe(200);

      const events = (await publishedEvents(t.app, 'user-password_changed')).filter(
        (e) => e.partitionKey === alice.id,
      );
      expect(events.map((e) => e.payload)).toEqual([
        { userId: alice.id, how: 'changed', revokedUpTo: expect.any(Number) },
        { userId: alice.id, how: 'changed', revokedUpTo: expect.any(Number) },
      ]);
    });

    it('refuses a wrong old password, then rate-limits guessing', async () => {
      const bob = await createUser(t.client);
      for (let i = 0; i < 4; i += 1) {
        const wrong = await changePassword(bob.token, 'not-my-password', 'new-horse-battery-9');
        expect(wrong.status).toBe(403);
        expect(wrong.body).toEqual({ code: 200011, msg: 'password is incorrect', data: null });
      }
      const limited = await changePassword(bob.token, bob.password, 'new-horse-battery-9');
      expect(limited.status).toBe(429);
      expect(limited.body.code).toBe(200012);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // Nothing changed: the token and the password still work.
      expect((await bob.client.get('/v1/user/user')).status).toBe(200);
      expect((await login(bob, bob.password)).status).toBe(200);
    });
  });

  describe('delete account', () => {
    it('ends sessions and friendships, hands groups over, keeps messages', async () => {
      const alice = await createUser(t.client);
      const bob = await createUser(t.client);
      const carol = await createUser(t.client);
      const dave = await createUser(t.client);
      await befriend(alice, bob);
      await befriend(alice, carol);
      // g1: bob joined first as a member, carol later but is a manager: carol inherits.
      const g1 = await createGroupWith(alice, [bob, carol]);
      await alice.client.put('/v1/social/group/member', {
        groupId: g1,
        userId: carol.id,
        roleLevel: 2,
      });
      // g2: only members: the longest-serving one (dave) inherits.
      const g2 = await createGroupWith(alice, [dave, bob]);
      // g3: alice alone: dismissed.
      const g3 = await createGroup(alice);
      // g4: bob's group, alice a member: she just leaves.
      const g4 = await createGroupWith(bob, [alice]);

      const a = await connect(alice.token);
      const b = await connect(bob.token);
      const sent = await a.call('conversation.chat', {
        chatType: 2,
        recvId: bob.id,
        msg: { mType: 0, content: 'goodbye bob' },
      });
      await a.call('conversation.chat', {
        chatType: 1,
        recvId: g1,
        msg: { mType: 0, content: 'goodbye group' },
      });

      const deleted = await t.client.request('DELETE', '/v1/user/user', {
        body: { password: alice.password },
        token: alice.token,
      });
      expect(deleted.body).toEqual({ code: 200, msg: 'ok', data: {} });

      expect(await a.closed).toEqual({ code: 4003, reason: 'account deleted' });
      const refused = await alice.client.get('/v1/user/user');
      expect(refused.status).toBe(401);
      expect((await login(alice, alice.password)).status).toBe(401);

      // Friends are gone, and each former friend hears of it.
      expect((await bob.client.get('/v1/social/friends')).body.data.list).toEqual([]);
      expect((await carol.client.get('/v1/social/friends')).body.data.list).toEqual([]);
      await b.waitFor((f) => f.method === 'friend.deleted' && f.data?.userId === alice.id);

      const groupsOf = async (user: RegisteredUser) =>
        Object.fromEntries(
          ((await user.client.get('/v1/social/groups')).body.data.list as any[]).map((g) => [
            g.id,
            g,
          ]),
        );
      const carolsGroups = await groupsOf(carol);
      expect(carolsGroups[g1]).toMatchObject({ creatorUid: carol.id, memberCount: 2 });
      const davesGroups = await groupsOf(dave);
      expect(davesGroups[g2]).toMatchObject({ creatorUid: dave.id, memberCount: 2 });
      const bobsGroups = await groupsOf(bob);
      expect(bobsGroups[g4]).toMatchObject({ creatorUid: bob.id, memberCount: 1 });
      const g3Row = await t.app.storage.db
        .selectFrom('groups')
        .select(['status', 'memberCount'])
        .where('id', '=', g3)
        .executeTakeFirstOrThrow();
      expect(g3Row).toEqual({ status: 2, memberCount: 0 });
      const members = await carol.client.get('/v1/social/group/users', { query: { groupId: g1 } });
      expect(members.body.data.list.map((m: any) => [m.userId, m.roleLevel])).toEqual([
        [bob.id, 3],
        [carol.id, 1],
      ]);

      // Messages stay; the sender is shown as a deleted user.
      const history = await bob.client.get('/v1/im/chatlog', {
        query: { conversationId: sent.conversationId },
      });
      expect(history.body.data.list).toEqual([
        expect.objectContaining({ msgId: sent.msgId, sendId: alice.id, content: 'goodbye bob' }),
      ]);
      const groupHistory = await carol.client.get('/v1/im/chatlog', {
        query: { conversationId: g1 },
      });
      expect(groupHistory.body.data.list.map((m: any) => m.content)).toContain('goodbye group');
      const shown = await bob.client.get('/v1/user/users', { query: { ids: alice.id } });
      expect(shown.body.data.list).toEqual([
        { id: alice.id, mobile: '', nickname: 'Deleted user', sex: 0, avatar: '', deleted: true },
      ]);
      // Not found by phone or name, nor as anyone's peer.
      expect(
        (await bob.client.get('/v1/user/users', { query: { phone: alice.phone } })).body.data.list,
      ).toEqual([]);
      expect(
        (await bob.client.get('/v1/user/users', { query: { name: 'Deleted' } })).body.data.list,
      ).toEqual([]);
      const toGhost = await b.request('conversation.chat', {
        chatType: 2,
        recvId: alice.id,
        msg: { mType: 0, content: 'hello?' },
      });
      expect(toGhost.data.code).toBe(400006);
      const ask = await bob.client.post('/v1/social/friend/putIn', { userId: alice.id });
      expect(ask.status).toBe(404);

      // The phone is free for a new account.
      const reborn = await createUser(t.client, { phone: alice.phone });
      expect(reborn.id).not.toBe(alice.id);

      const events = (await publishedEvents(t.app, 'user-deleted')).filter(
        (e) => e.partitionKey === alice.id,
      );
      expect(events.map((e) => e.payload)).toEqual([{ userId: alice.id }]);
      const transferred = (await publishedEvents(t.app, 'group-owner_transferred')).filter(
        (e) => e.payload.fromUid === alice.id,
      );
      expect(transferred.map((e) => [e.payload.groupId, e.payload.toUid])).toEqual(
        [
          [g1, carol.id],
          [g2, dave.id],
        ].sort((x, y) => x[0]!.localeCompare(y[0]!)),
      );
    });

    it('refuses a wrong password; a second delete finds no account', async () => {
      const erin = await createUser(t.client);
      const wrong = await t.client.request('DELETE', '/v1/user/user', {
        body: { password: 'not-my-password' },
        token: erin.token,
      });
      expect(wrong.status).toBe(403);
      expect(wrong.body.code).toBe(200011);
      expect((await erin.client.get('/v1/user/user')).status).toBe(200);
      // A token still unrevoked for a moment (another node) finds the account gone.
      const other = (await login(erin, erin.password)).body.data.token as string;
      await t.client.request('DELETE', '/v1/user/user', {
        body: { password: erin.password },
        token: erin.token,
      });
      const twice = await t.client.request('DELETE', '/v1/user/user', {
        body: { password: erin.password },
        token: other,
      });
      expect(twice.status).toBe(401);
    });
  });

  it('refuses unauthenticated and malformed calls', async () => {
    const frank = await createUser(t.client);
    for (const [method, path, body] of [
      ['PUT', '/v1/user/password', { oldPassword: 'a', newPassword: 'new-horse-battery-9' }],
      ['DELETE', '/v1/user/user', { password: 'a' }],
    ] as const) {
      const none = await t.client.request(method, path, { body });
      expect(none.status).toBe(401);
      expect(none.body.code).toBe(100003);
      const bad = await t.client.request(method, path, { body, token: 'x.y.z' });
      expect(bad.status).toBe(401);
    }
    const malformed: Array<[string, string, unknown, string]> = [
      ['PUT', '/v1/user/password', { oldPassword: frank.password }, 'newPassword'],
      [
        'PUT',
        '/v1/user/password',
        { oldPassword: frank.password, newPassword: 'short' },
        'newPassword',
      ],
      [
        'PUT',
        '/v1/user/password',
        { oldPassword: frank.password, newPassword: 'new-horse-battery-9', userId: 'x' },
        'userId',
      ],
      ['DELETE', '/v1/user/user', {}, 'password'],
      ['DELETE', '/v1/user/user', { password: frank.password, force: true }, 'force'],
      ['DELETE', '/v1/user/user', { password: '' }, 'password'],
    ];
    for (const [method, path, body, named] of malformed) {
      const res = await frank.client.request(method, path, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe(100002);
      expect(res.body.msg).toContain(named);
    }
    // Still there, password unchanged.
    expect((await login(frank, frank.password)).status).toBe(200);
  });
});
