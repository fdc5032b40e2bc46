import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, uniquePhone } from '../../../test/support/factories.js';
import type { HttpClient } from '../../../test/support/http-client.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';

describe.each(STORAGES)('user API on %s', (storage) => {
  let t: TestApp;
  let api: HttpClient;
  beforeAll(async () => {
    t = await startTestApp({ storage });
    api = t.client;
  });
  afterAll(async () => {
    await t.close();
  });

  it('registers, logs in, reads and updates the profile, and logs out', async () => {
    const phone = uniquePhone();
    const reg = await api.post('/v1/user/register', {
      phone,
      password: 'secret-pass',
      nickname: 'Alice',
      sex: 2,
      avatar: 'https://img.example/a.png',
    });
    expect(reg.status).toBe(200);
    expect(reg.body).toMatchObject({ code: 200, msg: 'ok' });
    expect(typeof reg.body.data.token).toBe('string');
    expect(reg.body.data.expire).toBeGreaterThan(Date.now() / 1000);

    const login = await api.post('/v1/user/login', { phone, password: 'secret-pass' });
    expect(login.status).toBe(200);
    const me = api.withToken(login.body.data.token);

    const detail = await me.get('/v1/user/user');
    expect(detail.status).toBe(200);
    expect(detail.body.data.info).toEqual({
      id: expect.any(String),
      mobile: phone,
      nickname: 'Alice',
      sex: 2,
      avatar: 'https://img.example/a.png',
    });

    const updated = await me.put('/v1/user/user', { nickname: 'Alice B', sex: 1 });
    expect(updated.status).toBe(200);
    expect(updated.body.data.info).toMatchObject({
      nickname: 'Alice B',
      sex: 1,
      avatar: 'https://img.example/a.png',
    });
    expect((await me.get('/v1/user/user')).body.data.info.nickname).toBe('Alice B');

    const out = await me.post('/v1/user/logout');
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ code: 200, msg: 'ok', data: {} });
    const after = await me.get('/v1/user/user');
    expect(after.status).toBe(401);
    expect(after.body.code).toBe(100003);

    // The other token from registration still works: logout revokes only the token used.
    expect((await api.withToken(reg.body.data.token).get('/v1/user/user')).status).toBe(200);
  });

  it('ids are time-ordered and unique', async () => {
    const a = await createUser(api);
    const b = await createUser(api);
    expect(a.id).not.toBe(b.id);
    expect(a.id < b.id).toBe(true);
  });

  it('refuses a duplicate phone with 409 / 200001', async () => {
    const phone = uniquePhone();
    await createUser(api, { phone });
    const again = await api.post('/v1/user/register', {
      phone,
      password: 'another-pass',
      nickname: 'x',
    });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      code: 200001,
      msg: 'phone number is already registered',
      data: null,
    });
  });

  it('ten concurrent registrations of one phone create exactly one user', async () => {
    const phone = uniquePhone();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api.post('/v1/user/register', { phone, password: 'password-1', nickname: `racer${i}` }),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.code === 200001)).toBe(true);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(9);
    const rows = await t.app.storage.db
      .selectFrom('users')
      .select('id')
      .where('phone', '=', phone)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('refuses a wrong password and an unknown phone alike with 401 / 200002', async () => {
    const user = await createUser(api);
    const wrong = await api.post('/v1/user/login', {
      phone: user.phone,
      password: 'not-the-password',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe(200002);
    const unknown = await api.post('/v1/user/login', {
      phone: uniquePhone(),
      password: 'whatever-1',
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
  });

  it('validates register input with 400 / 100002 naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ password: 'secret-pass', nickname: 'n' }, /phone/],
      [{ phone: 'abc', password: 'secret-pass', nickname: 'n' }, /phone/],
      [{ phone: uniquePhone(), password: 'short', nickname: 'n' }, /password/],
      [{ phone: uniquePhone(), password: 'secret-pass', nickname: '' }, /nickname/],
      [{ phone: uniquePhone(), password: 'secret-pass', nickname: 'x'.repeat(25) }, /nickname/],
      [{ phone: 13800000000, password: 'secret-pass', nickname: 'n' }, /phone/],
      [{ phone: uniquePhone(), password: 'secret-pass', nickname: 'n', sex: '1' }, /sex/],
      [{ phone: uniquePhone(), password: 'secret-pass', nickname: 'n', sex: 7 }, /sex/],
      [[1, 2], /object/],
    ];
    for (const [body, field] of cases) {
      const res = await api.post('/v1/user/register', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe(100002);
      expect(res.body.msg).toMatch(field);
      expect(res.body.data).toBeNull();
    }
  });

  it('answers malformed JSON, a wrong content type and an empty body in the envelope', async () => {
    const bad = await api.request('POST', '/v1/user/login', { rawBody: '{"phone": "1380' });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: 100002, msg: 'body is not valid JSON', data: null });
    const text = await api.request('POST', '/v1/user/login', {
      rawBody: 'phone=1',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(text.body.code).toBe(100009);
    const empty = await api.request('POST', '/v1/user/login', { rawBody: '' });
    expect(empty.status).toBe(400);
    expect(empty.body.code).toBe(100002);
  });

  it('rejects an oversized body with 413', async () => {
    const huge = 'x'.repeat(t.config.server.bodyLimitBytes + 10);
    const res = await api.post('/v1/user/register', {
      phone: uniquePhone(),
      password: 'secret-pass',
      nickname: huge,
    });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ code: 100006, msg: 'request body too large', data: null });
  });

  it('updates only the given fields and validates them', async () => {
    const user = await createUser(api, { nickname: 'Before', avatar: 'a.png' });
    const same = await user.client.put('/v1/user/user', {});
    expect(same.body.data.info).toMatchObject({ nickname: 'Before', avatar: 'a.png' });
    const bad = await user.client.put('/v1/user/user', { sex: 'male' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe(100002);
    const ok = await user.client.put('/v1/user/user', { avatar: 'b.png' });
    expect(ok.body.data.info).toMatchObject({ nickname: 'Before', avatar: 'b.png' });
  });

  describe('find', () => {
    let viewer: Awaited<ReturnType<typeof createUser>>;
    let others: Array<Awaited<ReturnType<typeof createUser>>>;
    const tag = `Zq${Date.now().toString(36)}`;
    beforeAll(async () => {
      viewer = await createUser(api, { nickname: `${tag}-viewer` });
      others = [
        await createUser(api, { nickname: `${tag}-Bob` }),
        await createUser(api, { nickname: `${tag}-bobby` }),
        await createUser(api, { nickname: `${tag}-carol` }),
      ];
    });

    it('finds by ids', async () => {
      const ids = `${others[0]!.id},${others[2]!.id},nonexistent`;
      const res = await viewer.client.get('/v1/user/users', { query: { ids } });
      expect(res.status).toBe(200);
      expect(res.body.data.list.map((u: { id: string }) => u.id)).toEqual([
        others[0]!.id,
        others[2]!.id,
      ]);
    });

    it('finds by exact phone, showing that phone', async () => {
      const res = await viewer.client.get('/v1/user/users', { query: { phone: others[1]!.phone } });
      expect(res.body.data.list).toEqual([
        {
          id: others[1]!.id,
          mobile: others[1]!.phone,
          nickname: `${tag}-bobby`,
          sex: 0,
          avatar: '',
        },
      ]);
    });

    it('finds by case-insensitive nickname substring and masks other phones', async () => {
      const res = await viewer.client.get('/v1/user/users', { query: { name: `${tag}-BOB` } });
      const list = res.body.data.list as Array<{ id: string; mobile: string }>;
      expect(list.map((u) => u.id)).toEqual([others[0]!.id, others[1]!.id]);
      for (const u of list) {
        expect(u.mobile).toMatch(/^\d{3}\*+\d{4}$/);
        expect(u).not.toHaveProperty('passwordHash');
        expect(u).not.toHaveProperty('password');
      }
    });

    it('treats injection strings and LIKE wildcards as data', async () => {
      for (const name of ["' OR '1'='1", '%', '_', "x'; DROP TABLE users; --", '\\', `${tag}%`]) {
        const res = await viewer.client.get('/v1/user/users', { query: { name } });
        expect(res.status, name).toBe(200);
        expect(res.body.data.list, name).toEqual([]);
      }
      const byIds = await viewer.client.get('/v1/user/users', { query: { ids: "' OR 1=1 --" } });
      expect(byIds.body.data.list).toEqual([]);
      const stillThere = await viewer.client.get('/v1/user/users', { query: { name: tag } });
      expect(stillThere.body.data.list).toHaveLength(4);
    });

    it('bounds the result size', async () => {
      const small = await startTestApp({
        storage,
        overrides: { user: { searchLimit: 2, maxIdsPerQuery: 2 } },
      });
      try {
        const u = await createUser(small.client, { nickname: 'same-1' });
        const u2 = await createUser(small.client, { nickname: 'same-2' });
        const u3 = await createUser(small.client, { nickname: 'same-3' });
        const byName = await u.client.get('/v1/user/users', { query: { name: 'same' } });
        expect(byName.body.data.list).toHaveLength(2);
        const byIds = await u.client.get('/v1/user/users', {
          query: { ids: [u3.id, u2.id, u.id].join(',') },
        });
        expect(byIds.body.data.list.length).toBeLessThanOrEqual(2);
      } finally {
        await small.close();
      }
    });

    it('needs at least one filter and valid ones', async () => {
      const none = await viewer.client.get('/v1/user/users');
      expect(none.status).toBe(400);
      expect(none.body.code).toBe(200006);
      const badPhone = await viewer.client.get('/v1/user/users', { query: { phone: 'abc' } });
      expect(badPhone.status).toBe(400);
      expect(badPhone.body.code).toBe(100002);
    });

    it('requires a token', async () => {
      const res = await api.get('/v1/user/users', { query: { name: tag } });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe(100003);
    });
  });
});
