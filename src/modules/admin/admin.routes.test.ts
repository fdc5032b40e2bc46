import { beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import type { HttpClient } from '../../../test/support/http-client.js';
import { befriend, createGroupWith } from '../../../test/support/social.js';
import { publishedEvents } from '../../../test/support/published-events.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import { until } from '../../../test/support/wait.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';

describe.each(STORAGES)('admin API on %s', (storage) => {
  let admin: HttpClient;
  const { t, connect } = suiteApp({ storage, overrides: { admin: { token: ADMIN_TOKEN } } });
  beforeAll(async () => {
    admin = t.client.withToken(ADMIN_TOKEN);
  });
  const login = (user: RegisteredUser) =>
    t.client.post('/v1/user/login', { phone: user.phone, password: user.password });

  describe('authorization and malformed input', () => {
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/v1/admin/users'],
      ['PUT', '/v1/admin/users/SOMEONE', { status: 'disabled' }],
      ['POST', '/v1/admin/users/SOMEONE/logout'],
      ['POST', '/v1/admin/notices', { userIds: ['SOMEONE'], content: 'hi' }],
      ['GET', '/v1/admin/stats'],
    ];

    it('refuses no credential (401), a user token (403 / 500006), a wrong token (401)', async () => {
      const user = await createUser(t.client);
      for (const [method, path, body] of routes) {
        const anonymous = await t.client.request(method, path, { body });
        expect(anonymous.status, `${method} ${path}`).toBe(401);
        expect(anonymous.body.code).toBe(100003);
        const asUser = await t.client.request(method, path, { body, token: user.token });
        expect(asUser.status, `${method} ${path}`).toBe(403);
        expect(asUser.body).toEqual({ code: 500006, msg: 'admin credential required', data: null });
        const wrong = await t.client.request(method, path, { body, token: 'not-the-admin-token' });
        expect(wrong.status, `${method} ${path}`).toBe(401);
      }
      // Nothing happened to the user the user token named.
      expect((await user.client.get('/v1/user/user')).status).toBe(200);
    });

    it('refuses unknown keys and bad values with 400 / 100002', async () => {
      const user = await createUser(t.client);
      const cases: Array<[string, string, unknown]> = [
        ['PUT', `/v1/admin/users/${user.id}`, { status: 'disabled', reason: 'x' }],
        ['PUT', `/v1/admin/users/${user.id}`, { status: 'deleted' }],
        ['PUT', `/v1/admin/users/${user.id}`, { status: 1 }],
        ['PUT', `/v1/admin/users/${user.id}`, {}],
        ['POST', '/v1/admin/notices', { userIds: [user.id], content: 'hi', title: 'x' }],
        ['POST', '/v1/admin/notices', { userIds: [user.id], content: '' }],
        ['POST', '/v1/admin/notices', { userIds: [], content: 'hi' }],
        ['POST', '/v1/admin/notices', { userIds: 'abc', content: 'hi' }],
        [
          'POST',
          '/v1/admin/notices',
          { userIds: Array.from({ length: 1001 }, (_, i) => `u${i}`), content: 'hi' },
        ],
      ];
      for (const [method, path, body] of cases) {
        const res = await admin.request(method, path, { body });
        expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
        expect(res.body.code).toBe(100002);
      }
      const unknownKey = await admin.put(`/v1/admin/users/${user.id}`, {
        status: 'active',
        reason: 'x',
      });
      expect(unknownKey.body.msg).toMatch(/reason/);
      for (const query of [{ limit: 0 }, { limit: 101 }, { limit: 'many' }]) {
        const res = await admin.get('/v1/admin/users', { query });
        expect(res.status, JSON.stringify(query)).toBe(400);
        expect(res.body.code).toBe(100002);
      }
      // The user was not touched by any of these.
      expect((await user.client.get('/v1/user/user')).status).toBe(200);
    });

    it('answers 404 / 200003 for unknown and deleted users', async () => {
      const gone = await createUser(t.client);
      const deleted = await t.client.request('DELETE', '/v1/user/user', {
        body: { password: gone.password },
        token: gone.token,
      });
      expect(deleted.status).toBe(200);
      for (const id of ['NO_SUCH_USER', gone.id]) {
        for (const status of ['disabled', 'active']) {
          const res = await admin.put(`/v1/admin/users/${id}`, { status });
          expect(res.status).toBe(404);
          expect(res.body).toEqual({ code: 200003, msg: 'user not found', data: null });
        }
        const logout = await admin.post(`/v1/admin/users/${id}/logout`);
        expect(logout.status).toBe(404);
        expect(logout.body.code).toBe(200003);
      }
    });
  });

  describe('users', () => {
    it('searches by exact id, phone prefix and nickname substring, page by page', async () => {
      const tag = `z${Date.now().toString(36)}`;
      const a = await createUser(t.client, { nickname: `Ann ${tag} one` });
      const b = await createUser(t.client, { nickname: `${tag.toUpperCase()} Bob` });
      const c = await createUser(t.client, { nickname: `Carl ${tag}` });
      const other = await createUser(t.client, { nickname: 'nobody-here' });

      const byName = await admin.get('/v1/admin/users', { query: { query: tag } });
      expect(byName.status).toBe(200);
      expect(byName.body.data.list).toEqual([
        {
          id: a.id,
          phone: a.phone,
          nickname: a.nickname,
          status: 'active',
          createdAt: expect.any(Number),
        },
        {
          id: b.id,
          phone: b.phone,
          nickname: b.nickname,
          status: 'active',
          createdAt: expect.any(Number),
        },
        {
          id: c.id,
          phone: c.phone,
          nickname: c.nickname,
          status: 'active',
          createdAt: expect.any(Number),
        },
      ]);
      expect(byName.body.data.cursor).toBeUndefined();

      const byPhone = await admin.get('/v1/admin/users', { query: { query: other.phone } });
      expect(byPhone.body.data.list.map((u: { id: string }) => u.id)).toEqual([other.id]);
      const byPrefix = await admin.get('/v1/admin/users', {
        query: { query: other.phone.slice(0, 9) },
      });
      expect(byPrefix.body.data.list.map((u: { id: string }) => u.id)).toContain(other.id);
      const byId = await admin.get('/v1/admin/users', { query: { query: b.id } });
      expect(byId.body.data.list.map((u: { id: string }) => u.id)).toEqual([b.id]);
      // LIKE wildcards are matched literally.
      const wildcard = await admin.get('/v1/admin/users', { query: { query: `${tag}%` } });
      expect(wildcard.body.data.list).toEqual([]);

      const first = await admin.get('/v1/admin/users', { query: { query: tag, limit: 2 } });
      expect(first.body.data.list.map((u: { id: string }) => u.id)).toEqual([a.id, b.id]);
      const second = await admin.get('/v1/admin/users', {
        query: { query: tag, limit: 2, cursor: first.body.data.cursor },
      });
      expect(second.body.data.list.map((u: { id: string }) => u.id)).toEqual([c.id]);
      expect(second.body.data.cursor).toBeUndefined();
    });

    it('disable closes the sockets, stops the tokens and login; enable lets the user in again', async () => {
      const user = await createUser(t.client);
      const socket = await connect(user.token);

      const disabled = await admin.put(`/v1/admin/users/${user.id}`, { status: 'disabled' });
      expect(disabled.status).toBe(200);
      expect(disabled.body).toEqual({ code: 200, msg: 'ok', data: {} });
      expect(await socket.closed).toEqual({ code: 4003, reason: 'account disabled' });
      const refused = await user.client.get('/v1/user/user');
      expect(refused.status).toBe(401);
      const denied = await login(user);
      expect(denied.status).toBe(403);
      expect(denied.body.code).toBe(200005);
      const listed = await admin.get('/v1/admin/users', { query: { query: user.id } });
      expect(listed.body.data.list[0].status).toBe('disabled');

      expect((await admin.put(`/v1/admin/users/${user.id}`, { status: 'active' })).status).toBe(
        200,
      );
      const again = await login(user);
      expect(again.status).toBe(200);
      expect((await t.client.get('/v1/user/user', { token: again.body.data.token })).status).toBe(
        200,
      );
      // The token the disabling revoked stays revoked.
      expect((await user.client.get('/v1/user/user')).status).toBe(401);
      // Enabling an active user records nothing more.
      expect((await admin.put(`/v1/admin/users/${user.id}`, { status: 'active' })).status).toBe(
        200,
      );
      const events = (await publishedEvents(t.app, 'user-disabled', 'user-enabled')).filter(
        (e) => e.partitionKey === user.id,
      );
      expect(events.map((e) => [e.type, e.payload])).toEqual([
        ['user-disabled', { userId: user.id, reason: 'disabled by admin', source: 'admin' }],
        ['user-enabled', { userId: user.id, source: 'admin' }],
      ]);
    });

    it('force logout revokes every token and closes every socket; login still works', async () => {
      const user = await createUser(t.client);
      const second = (await login(user)).body.data.token as string;
      const [laptop, phone] = [await connect(user.token), await connect(second)];
      const bystander = await createUser(t.client);
      const bystanderSocket = await connect(bystander.token);

      const res = await admin.post(`/v1/admin/users/${user.id}/logout`);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({});
      expect(await laptop.closed).toEqual({ code: 4001, reason: 'logged out by admin' });
      expect(await phone.closed).toEqual({ code: 4001, reason: 'logged out by admin' });
      for (const token of [user.token, second]) {
        const refused = await t.client.get('/v1/user/user', { token });
        expect(refused.status).toBe(401);
        expect(refused.body.msg).toBe('token revoked');
      }
      // A fresh login, in the same second, works, and so does its socket.
      const fresh = (await login(user)).body.data.token as string;
      expect((await t.client.get('/v1/user/user', { token: fresh })).status).toBe(200);
      expect((await connect(fresh)).isOpen).toBe(true);
      expect(bystanderSocket.isOpen).toBe(true);
      expect((await bystander.client.get('/v1/user/user')).status).toBe(200);
    });
  });

  describe('notices', () => {
    const noticeOf = (msg: { content: string }) => JSON.parse(msg.content) as unknown;

    it('posts to users: each gets a system message; unknown ids are skipped', async () => {
      const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
      const live = await connect(alice.token);
      const res = await admin.post('/v1/admin/notices', {
        userIds: [alice.id, bob.id, alice.id, 'NO_SUCH_USER'],
        content: 'maintenance tonight',
      });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ delivered: 2 });
      const expected = {
        kind: 'system_notice',
        title: '',
        content: 'maintenance tonight',
        source: 'admin',
      };
      const pushed = await live.waitFor(
        (f) => f.method === 'push' && JSON.stringify(f.data).includes('maintenance tonight'),
      );
      expect(JSON.stringify(pushed.data)).toContain(alice.id);
      for (const user of [alice, bob]) {
        const list = (await user.client.get('/v1/im/conversation')).body.data.conversationList;
        const conversation = Object.values(list)[0] as any;
        expect(conversation).toMatchObject({ chatType: 2, targetId: 'system', unread: 1 });
        expect(conversation.msg).toMatchObject({ sendId: 'system', recvId: user.id, mType: 3 });
        expect(noticeOf(conversation.msg)).toEqual(expected);
      }
    });

    it('posts to a group: members get it live and in history', async () => {
      const [owner, member] = [await createUser(t.client), await createUser(t.client)];
      const groupId = await createGroupWith(owner, [member]);
      const live = await connect(member.token);
      const res = await admin.post('/v1/admin/notices', { groupId, content: 'welcome all' });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ delivered: 1 });
      await live.waitFor(
        (f) => f.method === 'push' && JSON.stringify(f.data).includes('welcome all'),
      );
      const history = await owner.client.get('/v1/im/chatlog', {
        query: { conversationId: groupId },
      });
      expect(history.status).toBe(200);
      const notices = (
        history.body.data.list as Array<{ sendId: string; mType: number; content: string }>
      ).filter((m) => m.sendId === 'system' && m.mType === 3);
      expect(notices.map(noticeOf)).toEqual([
        { kind: 'system_notice', title: '', content: 'welcome all', source: 'admin' },
      ]);
    });

    it('refuses both or neither target (400 / 500012) and an unknown group (404)', async () => {
      const user = await createUser(t.client);
      const groupId = await createGroupWith(user, []);
      for (const body of [{ content: 'hi' }, { content: 'hi', userIds: [user.id], groupId }]) {
        const res = await admin.post('/v1/admin/notices', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body).toEqual({
          code: 500012,
          msg: 'give exactly one of userIds or groupId',
          data: null,
        });
      }
      const unknown = await admin.post('/v1/admin/notices', {
        groupId: 'NO_SUCH_GROUP',
        content: 'hi',
      });
      expect(unknown.status).toBe(404);
      // Nothing reached the user.
      const list = (await user.client.get('/v1/im/conversation')).body.data.conversationList;
      expect(
        Object.values(list).filter((c) => (c as { targetId: string }).targetId === 'system'),
      ).toEqual([]);
    });
  });

  describe('stats', () => {
    const stats = async () => {
      const res = await admin.get('/v1/admin/stats');
      expect(res.status).toBe(200);
      return res.body.data as {
        users: number;
        onlineNow: number;
        messagesPerDay: Array<{ day: string; count: number }>;
      };
    };

    it('counts users, users online now and today’s messages, over the last 7 UTC days', async () => {
      const before = await stats();
      expect(before.messagesPerDay).toHaveLength(7);
      const today = new Date().toISOString().slice(0, 10);
      expect(before.messagesPerDay[6]!.day).toBe(today);
      const days = before.messagesPerDay.map((d) => Date.parse(`${d.day}T00:00:00Z`));
      for (let i = 1; i < 7; i += 1) expect(days[i]! - days[i - 1]!).toBe(86_400_000);

      const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
      await befriend(alice, bob);
      const socket = await connect(alice.token);
      for (const content of ['one', 'two', 'three']) {
        await socket.call('conversation.chat', {
          chatType: 2,
          recvId: bob.id,
          msg: { mType: 0, content },
        });
      }
      await until(async () => (await stats()).onlineNow === before.onlineNow + 1, 'alice online');
      const after = await stats();
      expect(after.users).toBe(before.users + 2);
      expect(after.messagesPerDay[6]!.count).toBe(before.messagesPerDay[6]!.count + 3);
      expect(after.messagesPerDay.slice(0, 6)).toEqual(before.messagesPerDay.slice(0, 6));

      await socket.close();
      await until(async () => (await stats()).onlineNow === before.onlineNow, 'alice offline');
      // A deleted account no longer counts.
      await t.client.request('DELETE', '/v1/user/user', {
        body: { password: bob.password },
        token: bob.token,
      });
      expect((await stats()).users).toBe(before.users + 1);
    });
  });
});
