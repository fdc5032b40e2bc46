import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import type { HttpAnswer } from '../../../test/support/http-client.js';
import { createGroup } from '../../../test/support/social.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Call {
  method: Method;
  path: string;
  body?: unknown;
  query?: Record<string, string | number>;
  rawBody?: string;
}

interface RouteCase {
  route: string;
  /** A well-formed call (used without a token, and by `forbidden` callers). */
  valid: () => Call;
  /** Calls with missing, mistyped or out-of-range input (routes that take input). */
  malformed?: () => Call[];
  /**
   * Who may not do the valid call, and the code they get. Routes that only read or
   * change the caller's own data (their friends, inbox, groups) have no such caller.
   */
  forbidden?: () => { who: RegisteredUser; code: number };
}

/** Every /v1/social route: unauthenticated, malformed and unauthorized calls. */
describe.each(STORAGES)('social API edges on %s', (storage) => {
  let t: TestApp;
  let owner: RegisteredUser;
  let member: RegisteredUser;
  let outsider: RegisteredUser;
  let invitee: RegisteredUser;
  let groupId: string;
  let groupReqId: string;
  let friendReqId: string;

  beforeAll(async () => {
    t = await startTestApp({ storage });
    [owner, member, outsider, invitee] = await Promise.all([
      createUser(t.client),
      createUser(t.client),
      createUser(t.client),
      createUser(t.client),
    ]);
    groupId = await createGroup(owner, { isVerify: true });
    await owner.client.post('/v1/social/group/putIn', { groupId, joinSource: 1, reqId: member.id });
    groupReqId = (await outsider.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 }))
      .body.data.id;
    friendReqId = (await owner.client.post('/v1/social/friend/putIn', { userId: member.id })).body
      .data.id;
  });
  afterAll(async () => {
    await t.close();
  });

  const long = (n: number) => 'x'.repeat(n);
  const cases: RouteCase[] = [
    {
      route: 'POST /friend/putIn',
      valid: () => ({ method: 'POST', path: '/friend/putIn', body: { userId: member.id } }),
      malformed: () => [
        { method: 'POST', path: '/friend/putIn', body: {} },
        { method: 'POST', path: '/friend/putIn', body: { userId: 42 } },
        { method: 'POST', path: '/friend/putIn', body: { userId: '' } },
        { method: 'POST', path: '/friend/putIn', body: { userId: long(33) } },
        { method: 'POST', path: '/friend/putIn', body: { userId: member.id, reqMsg: long(256) } },
        { method: 'POST', path: '/friend/putIn', rawBody: '{"userId":' },
      ],
    },
    {
      route: 'PUT /friend/putIn',
      valid: () => ({
        method: 'PUT',
        path: '/friend/putIn',
        body: { friendReqId, handleResult: 2 },
      }),
      malformed: () =>
        [1, 5, '2', null].map((handleResult) => ({
          method: 'PUT' as const,
          path: '/friend/putIn',
          body: { friendReqId, handleResult },
        })),
      forbidden: () => ({ who: outsider, code: 300005 }),
    },
    {
      route: 'GET /friend/putIns',
      valid: () => ({ method: 'GET', path: '/friend/putIns' }),
    },
    {
      route: 'GET /friends',
      valid: () => ({ method: 'GET', path: '/friends' }),
    },
    {
      route: 'GET /friends/online',
      valid: () => ({ method: 'GET', path: '/friends/online' }),
    },
    {
      route: 'DELETE /friend',
      valid: () => ({ method: 'DELETE', path: '/friend', query: { friendUid: member.id } }),
      malformed: () => [
        { method: 'DELETE', path: '/friend' },
        { method: 'DELETE', path: '/friend', query: { friendUid: long(40) } },
      ],
    },
    {
      route: 'PUT /friend',
      valid: () => ({
        method: 'PUT',
        path: '/friend',
        body: { friendUid: member.id, remark: 'r' },
      }),
      malformed: () => [
        { method: 'PUT', path: '/friend', body: { friendUid: member.id } },
        { method: 'PUT', path: '/friend', body: { friendUid: member.id, remark: long(65) } },
        { method: 'PUT', path: '/friend', body: { remark: 'r' } },
        { method: 'PUT', path: '/friend', body: { friendUid: member.id, remark: 7 } },
      ],
    },
    {
      route: 'POST /blacklist',
      valid: () => ({ method: 'POST', path: '/blacklist', body: { userId: outsider.id } }),
      malformed: () => [
        { method: 'POST', path: '/blacklist', body: {} },
        { method: 'POST', path: '/blacklist', body: { userId: long(33) } },
        { method: 'POST', path: '/blacklist', rawBody: '{"userId"' },
      ],
    },
    {
      route: 'DELETE /blacklist',
      valid: () => ({ method: 'DELETE', path: '/blacklist', query: { userId: outsider.id } }),
      malformed: () => [
        { method: 'DELETE', path: '/blacklist' },
        { method: 'DELETE', path: '/blacklist', query: { userId: '' } },
      ],
    },
    {
      route: 'GET /blacklist',
      valid: () => ({ method: 'GET', path: '/blacklist' }),
    },
    {
      route: 'POST /group',
      valid: () => ({ method: 'POST', path: '/group', body: { name: 'g' } }),
      malformed: () => [
        { method: 'POST', path: '/group', body: {} },
        { method: 'POST', path: '/group', body: { name: '   ' } },
        { method: 'POST', path: '/group', body: { name: long(65) } },
        { method: 'POST', path: '/group', body: { name: 'g', isVerify: 'yes' } },
        { method: 'POST', path: '/group', body: { name: 'g', icon: long(513) } },
      ],
    },
    {
      route: 'DELETE /group',
      valid: () => ({ method: 'DELETE', path: '/group', query: { groupId } }),
      malformed: () => [{ method: 'DELETE', path: '/group' }],
      forbidden: () => ({ who: member, code: 300104 }),
    },
    {
      route: 'POST /group/putIn',
      valid: () => ({
        method: 'POST',
        path: '/group/putIn',
        body: { groupId, joinSource: 1, reqId: invitee.id },
      }),
      malformed: () => [
        { method: 'POST', path: '/group/putIn', body: { groupId } },
        { method: 'POST', path: '/group/putIn', body: { groupId, joinSource: 3 } },
        { method: 'POST', path: '/group/putIn', body: { joinSource: 2 } },
        { method: 'POST', path: '/group/putIn', body: { groupId, joinSource: 2, reqMsg: 7 } },
      ],
      // An outsider cannot invite people into a group.
      forbidden: () => ({ who: outsider, code: 300102 }),
    },
    {
      route: 'PUT /group/putIn',
      valid: () => ({
        method: 'PUT',
        path: '/group/putIn',
        body: { groupReqId, groupId, handleResult: 2 },
      }),
      malformed: () => [
        { method: 'PUT', path: '/group/putIn', body: { groupReqId, groupId, handleResult: 1 } },
        { method: 'PUT', path: '/group/putIn', body: { groupReqId, handleResult: 2 } },
      ],
      forbidden: () => ({ who: member, code: 300103 }),
    },
    {
      route: 'GET /group/putIns',
      valid: () => ({ method: 'GET', path: '/group/putIns', query: { groupId } }),
      malformed: () => [{ method: 'GET', path: '/group/putIns' }],
      forbidden: () => ({ who: member, code: 300103 }),
    },
    {
      route: 'GET /groups',
      valid: () => ({ method: 'GET', path: '/groups' }),
    },
    {
      route: 'GET /group/users',
      valid: () => ({ method: 'GET', path: '/group/users', query: { groupId } }),
      malformed: () => [
        { method: 'GET', path: '/group/users' },
        { method: 'GET', path: '/group/users', query: { groupId, limit: 0 } },
        { method: 'GET', path: '/group/users', query: { groupId, limit: 'many' } },
        { method: 'GET', path: '/group/users', query: { groupId, cursor: long(129) } },
      ],
      forbidden: () => ({ who: outsider, code: 300102 }),
    },
    {
      route: 'GET /group/users/online',
      valid: () => ({ method: 'GET', path: '/group/users/online', query: { groupId } }),
      malformed: () => [{ method: 'GET', path: '/group/users/online' }],
      forbidden: () => ({ who: outsider, code: 300102 }),
    },
    {
      route: 'POST /group/quit',
      valid: () => ({ method: 'POST', path: '/group/quit', body: { groupId } }),
      malformed: () => [
        { method: 'POST', path: '/group/quit', body: {} },
        { method: 'POST', path: '/group/quit', body: { groupId: [groupId] } },
      ],
      forbidden: () => ({ who: outsider, code: 300102 }),
    },
    {
      route: 'PUT /group/member',
      valid: () => ({
        method: 'PUT',
        path: '/group/member',
        body: { groupId, userId: member.id, roleLevel: 2 },
      }),
      malformed: () => [
        {
          method: 'PUT',
          path: '/group/member',
          body: { groupId, userId: member.id, roleLevel: 4 },
        },
        { method: 'PUT', path: '/group/member', body: { groupId, userId: member.id } },
      ],
      forbidden: () => ({ who: member, code: 300104 }),
    },
    {
      route: 'PUT /group',
      valid: () => ({ method: 'PUT', path: '/group', body: { groupId, name: 'renamed' } }),
      malformed: () => [
        { method: 'PUT', path: '/group', body: { groupId, name: '' } },
        { method: 'PUT', path: '/group', body: { name: 'x' } },
        { method: 'PUT', path: '/group', body: { groupId, status: 2 } },
      ],
      forbidden: () => ({ who: member, code: 300103 }),
    },
    {
      route: 'PUT /group/mute',
      valid: () => ({ method: 'PUT', path: '/group/mute', body: { groupId, muted: true } }),
      malformed: () => [
        { method: 'PUT', path: '/group/mute', body: { groupId } },
        { method: 'PUT', path: '/group/mute', body: { groupId, muted: 'yes' } },
      ],
      forbidden: () => ({ who: member, code: 300103 }),
    },
    {
      route: 'PUT /group/member/mute',
      valid: () => ({
        method: 'PUT',
        path: '/group/member/mute',
        body: { groupId, userId: owner.id, seconds: 5 },
      }),
      malformed: () => [
        {
          method: 'PUT',
          path: '/group/member/mute',
          body: { groupId, userId: owner.id, seconds: -5 },
        },
        { method: 'PUT', path: '/group/member/mute', body: { groupId, userId: owner.id } },
      ],
      forbidden: () => ({ who: member, code: 300103 }),
    },
    {
      route: 'DELETE /group/member',
      valid: () => ({
        method: 'DELETE',
        path: '/group/member',
        query: { groupId, userId: owner.id },
      }),
      malformed: () => [{ method: 'DELETE', path: '/group/member', query: { groupId } }],
      forbidden: () => ({ who: member, code: 300103 }),
    },
  ];

  const send = (call: Call, token: string | null): Promise<HttpAnswer> =>
    t.client.request(call.method, `/v1/social${call.path}`, {
      token,
      ...(call.body !== undefined ? { body: call.body } : {}),
      ...(call.rawBody !== undefined ? { rawBody: call.rawBody } : {}),
      ...(call.query ? { query: call.query } : {}),
    });

  it('covers every social route', () => {
    const spec = t.app.http.swagger() as { paths: Record<string, Record<string, unknown>> };
    const served = Object.entries(spec.paths)
      .filter(([path]) => path.startsWith('/v1/social/'))
      .flatMap(([path, methods]) =>
        Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.slice('/v1/social'.length)}`),
      );
    expect(cases.map((c) => c.route).sort()).toEqual(served.sort());
  });

  it.each(cases.map((c) => [c.route, c] as const))(
    '%s: 401 without a valid token',
    async (_, c) => {
      for (const token of [null, 'not-a-jwt']) {
        const res = await send(c.valid(), token);
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ code: 100003, data: null });
      }
    },
  );

  it.each(cases.filter((c) => c.malformed).map((c) => [c.route, c] as const))(
    '%s: 400 / 100002 for malformed input',
    async (_, c) => {
      for (const call of c.malformed!()) {
        const res = await send(call, owner.token);
        expect(res.status, JSON.stringify(call)).toBe(400);
        expect(res.body.code, JSON.stringify(call)).toBe(100002);
        expect(res.body.data).toBeNull();
      }
    },
  );

  it.each(cases.filter((c) => c.forbidden).map((c) => [c.route, c] as const))(
    '%s: 403 for a caller without the right',
    async (_, c) => {
      const { who, code } = c.forbidden!();
      const res = await send(c.valid(), who.token);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code, data: null });
    },
  );
});
