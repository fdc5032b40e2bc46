import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { BROKERS, busOverrides, cleanupAppBroker } from '../../../test/support/brokers.js';
import { createUser } from '../../../test/support/factories.js';
import type { HttpClient } from '../../../test/support/http-client.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';

async function eventually<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(STORAGES)('audit log on %s', (storage) => {
  let t: TestApp;
  let admin: HttpClient;
  beforeAll(async () => {
    t = await startTestApp({ storage, overrides: { admin: { token: ADMIN_TOKEN } } });
    admin = t.client.withToken(ADMIN_TOKEN);
  });
  afterAll(async () => {
    await t.close();
  });

  const audit = (query: Record<string, string | number | undefined>) =>
    admin.get('/v1/admin/audit', { query });

  it('records register, login, profile changes and logout as user actions', async () => {
    const user = await createUser(t.client);
    await t.client.post('/v1/user/login', { phone: user.phone, password: user.password });
    await user.client.put('/v1/user/user', { nickname: 'changed' });
    await user.client.post('/v1/user/logout');
    const res = await eventually(
      () => audit({ userId: user.id }),
      (r) => r.body.data?.list.length >= 4,
      'four audit rows',
    );
    expect(res.status).toBe(200);
    const rows = res.body.data.list as Array<Record<string, unknown>>;
    // Newest first.
    expect(rows.map((r) => r.action)).toEqual(['logout', 'profile_update', 'login', 'register']);
    expect(rows[3]).toMatchObject({
      kind: 'user_action',
      userId: user.id,
      detail: { type: 'user-created', nickname: user.nickname },
    });
    expect(rows[1]!.detail).toEqual({ type: 'user-updated', fields: ['nickname'] });
  });

  it('records every 5xx with its request id, and the client sees none of the cause', async () => {
    const user = await createUser(t.client);
    // A real failure: the users table is gone for a moment.
    await sql`alter table users rename to users_away`.execute(t.app.storage.db);
    let res;
    try {
      res = await user.client.get('/v1/user/user', {
        headers: { 'x-request-id': `req-${user.id}` },
      });
    } finally {
      await sql`alter table users_away rename to users`.execute(t.app.storage.db);
    }
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ code: 100001, msg: 'internal server error', data: null });
    const found = await eventually(
      () => audit({ kind: 'api_error', requestId: `req-${user.id}` }),
      (r) => r.body.data?.list.length === 1,
      'api error row',
    );
    expect(found.body.data.list[0]).toMatchObject({
      kind: 'api_error',
      action: 'api_error',
      requestId: `req-${user.id}`,
      method: 'GET',
      path: '/v1/user/user',
      status: 500,
      code: 100001,
      userId: user.id,
      detail: { route: '/v1/user/user', message: expect.stringMatching(/users/) },
    });
  });

  it('filters by kind, action and time, and pages with a cursor', async () => {
    const since = Date.now();
    const users = [];
    for (let i = 0; i < 5; i += 1) users.push(await createUser(t.client));
    await eventually(
      () => audit({ action: 'register', from: since }),
      (r) => r.body.data?.list.length >= 5,
      'five registrations',
    );
    const page1 = await audit({ action: 'register', from: since, limit: 2 });
    expect(page1.body.data.list).toHaveLength(2);
    expect(page1.body.data.nextCursor).toEqual(expect.any(String));
    const page2 = await audit({
      action: 'register',
      from: since,
      limit: 2,
      cursor: page1.body.data.nextCursor,
    });
    const page3 = await audit({
      action: 'register',
      from: since,
      limit: 2,
      cursor: page2.body.data.nextCursor,
    });
    const ids = [...page1.body.data.list, ...page2.body.data.list, ...page3.body.data.list].map(
      (r: { userId: string }) => r.userId,
    );
    expect(ids).toEqual(users.map((u) => u.id).reverse());
    expect(page3.body.data.nextCursor).toBeNull();
    expect(
      (await audit({ action: 'register', to: since })).body.data.list.every(
        (r: { occurredAt: number }) => r.occurredAt < since,
      ),
    ).toBe(true);
    expect((await audit({ kind: 'api_error', action: 'register' })).body.data.list).toEqual([]);
  });

  it('requires the admin credential: 401 without or with a wrong one, 403 for a user token', async () => {
    const none = await t.client.get('/v1/admin/audit');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ code: 100003, msg: 'admin credential missing', data: null });
    const wrong = await t.client.get('/v1/admin/audit', { token: `${ADMIN_TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.msg).toBe('admin credential invalid');
    const user = await createUser(t.client);
    const asUser = await user.client.get('/v1/admin/audit');
    expect(asUser.status).toBe(403);
    expect(asUser.body).toEqual({ code: 500006, msg: 'admin credential required', data: null });
  });

  it('validates filters with 400 / 100002', async () => {
    for (const query of [
      { limit: 0 },
      { limit: 201 },
      { kind: 'everything' },
      { from: 'monday' },
      { cursor: 'garbage' },
    ]) {
      const res = await audit(query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body.code).toBe(100002);
    }
  });
});

describe('audit log edges', () => {
  it('documents the event routes in the OpenAPI document', async () => {
    const t = await startTestApp();
    try {
      const spec = (await (await fetch(`${t.url}/docs/json`)).json()) as {
        paths: Record<string, Record<string, { security?: unknown }>>;
      };
      expect(spec.paths['/v1/events']?.post).toBeDefined();
      expect(spec.paths['/v1/admin/audit']?.get?.security).toEqual([{ bearer: [] }]);
    } finally {
      await t.close();
    }
  });

  it('is off (404 / 500009) without an admin token', async () => {
    const t = await startTestApp();
    try {
      const res = await t.client.get('/v1/admin/audit', { token: 'anything' });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe(500009);
    } finally {
      await t.close();
    }
  });

  it('counts a 5xx report that could not be sent, without failing the request further', async () => {
    const t = await startTestApp({ overrides: { admin: { token: ADMIN_TOKEN } } });
    try {
      await t.app.broker.close();
      const res = await t.client.get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ code: 100011, msg: 'broker is not reachable', data: null });
      const text = await eventually(
        async () => (await fetch(`${t.url}/metrics`)).text(),
        (m) => /easychat_bus_async_send_failures_total\{[^}]*topic="log"[^}]*\} 1/.test(m),
        'async failure metric',
      );
      expect(text).toContain('easychat_bus_async_send_failures_total');
    } finally {
      await t.close();
    }
  });
});

describe.each(BROKERS.filter((b) => b !== 'memory'))('the whole path on %s', (kind) => {
  it('carries a registration from the outbox through the broker into the audit log', async () => {
    const t = await startTestApp({
      overrides: { ...busOverrides(kind), admin: { token: ADMIN_TOKEN } },
    });
    try {
      expect(t.app.broker.kind).toBe(kind);
      const user = await createUser(t.client);
      const res = await eventually(
        () =>
          t.client.withToken(ADMIN_TOKEN).get('/v1/admin/audit', { query: { userId: user.id } }),
        (r) => r.body.data?.list.length >= 1,
        'registration row',
      );
      expect(res.body.data.list[0]).toMatchObject({ action: 'register', userId: user.id });
    } finally {
      await t.close();
      await cleanupAppBroker(t.app);
    }
  });
});
