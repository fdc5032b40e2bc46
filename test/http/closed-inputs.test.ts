import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imWsMethods } from '../../src/modules/im/index.js';
import { UserRepository } from '../../src/modules/user/user.repository.js';
import { signBody, SIGNATURE_HEADER } from '../../src/modules/ingest/ingest.signature.js';
import { STORAGES } from '../support/backends.js';
import { createUser, uniquePhone, type RegisteredUser } from '../support/factories.js';
import { makePdf, uploadFile } from '../support/files.js';
import { befriend, createGroupWith } from '../support/social.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { WsClient } from '../support/ws-client.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789';
const INGEST_SECRET = 'ingest-secret-0123456789abcdef012345';
const EXTRA = 'zzz';

/** The tables a request could write through a key it does not list. */
const DOMAIN_TABLES = [
  'users',
  'friends',
  'friendRequests',
  'groups',
  'groupMembers',
  'groupRequests',
  'conversations',
  'conversationMembers',
  'messages',
  'messageDeletions',
  'messageVersions',
  'files',
  'fileRefs',
  'pushDevices',
] as const;

interface Sample {
  body?: Record<string, unknown>;
  query?: Record<string, string>;
  /** Who calls: alice (default), a fresh token of bob, the admin, nobody, a signed source. */
  as?: 'fresh' | 'admin' | 'anonymous' | 'ingest';
  /** The path to call when the document's has parameters (`/v1/files/{fileId}`). */
  path?: string;
  /** The route ignores a JSON body but refuses this sample anyway, with this code. */
  refusedWith?: number;
}

describe.each(STORAGES)('closed inputs on %s', (storage) => {
  let t: TestApp;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let groupId: string;
  let fileId: string;

  beforeAll(async () => {
    t = await startTestApp({
      storage,
      overrides: {
        admin: { token: ADMIN_TOKEN },
        ingest: { sources: { ops: { secret: INGEST_SECRET, types: ['*'] } } },
      },
    });
    [alice, bob] = await Promise.all([createUser(t.client), createUser(t.client)]);
    await befriend(alice, bob);
    groupId = await createGroupWith(alice, [bob]);
    fileId = (await uploadFile(alice, makePdf(), 'a.pdf')).body.data.fileId as string;
  });
  afterAll(async () => {
    await t.close();
  });

  /** Every row of every domain table, so any write at all shows up. */
  async function snapshot(): Promise<string> {
    const tables: Record<string, unknown[]> = {};
    for (const table of DOMAIN_TABLES) {
      tables[table] = await t.app.storage.db.selectFrom(table).selectAll().execute();
    }
    return JSON.stringify(tables);
  }

  it('PUT /v1/user/user refuses a column it does not list and leaves the row as it was', async () => {
    const victim = await createUser(t.client, { password: 'original-pass-1' });
    const row = () =>
      t.app.storage.db.selectFrom('users').selectAll().where('id', '=', victim.id).execute();
    const before = await row();
    const attacks: Array<Record<string, unknown>> = [
      // argon2id of "attacker-pass-1": a known password would take the account over for good.
      { passwordHash: '$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$YWJjZGVmZ2hpamtsbW5vcA' },
      { id: 'system' },
      { phone: 'x' },
      { status: 1 },
      { zzz: 1 },
      { nickname: 'fine', createdAt: 0 },
    ];
    for (const attack of attacks) {
      const res = await victim.client.put('/v1/user/user', attack);
      const key = Object.keys(attack).find((k) => k !== 'nickname')!;
      expect(res.status, JSON.stringify(attack)).toBe(400);
      expect(res.body).toEqual({ code: 100002, msg: `body has unknown key "${key}"`, data: null });
    }
    expect(await row()).toEqual(before);
    const login = await t.client.post('/v1/user/login', {
      phone: victim.phone,
      password: 'original-pass-1',
    });
    expect(login.status).toBe(200);
    // The listed fields still work.
    const update = await victim.client.put('/v1/user/user', { nickname: 'renamed' });
    expect(update.body.data.info.nickname).toBe('renamed');
  });

  it('repositories write only the columns they name, whatever the object carries', async () => {
    const victim = await createUser(t.client);
    const repository = new UserRepository(t.app.storage.db);
    const row = () =>
      t.app.storage.db.selectFrom('users').selectAll().where('id', '=', victim.id).execute();
    const [before] = await row();
    const patch = { nickname: 'patched', passwordHash: 'x', phone: '1', status: 1, id: 'system' };
    const updated = await repository.update(t.app.storage.db, victim.id, patch, 123);
    expect(updated?.nickname).toBe('patched');
    expect(await row()).toEqual([{ ...before, nickname: 'patched', updatedAt: 123 }]);
  });

  it('refuses an extra key on every route of the OpenAPI document, writing nothing', async () => {
    const samples: Record<string, Sample> = {
      'GET /healthz': { as: 'anonymous' },
      'GET /readyz': { as: 'anonymous' },
      'GET /metrics': { as: 'anonymous' },
      'POST /v1/user/register': {
        as: 'anonymous',
        body: { phone: uniquePhone(), password: 'secret-pass-1', nickname: 'n' },
      },
      'POST /v1/user/login': {
        as: 'anonymous',
        body: { phone: alice.phone, password: alice.password },
      },
      'GET /v1/user/user': {},
      'PUT /v1/user/user': { body: { nickname: 'x' } },
      'GET /v1/user/users': { query: { ids: bob.id } },
      'POST /v1/user/logout': { as: 'fresh' },
      'PUT /v1/user/password': {
        body: { oldPassword: alice.password, newPassword: 'another-pass-1' },
      },
      'DELETE /v1/user/user': { body: { password: alice.password } },
      'POST /v1/user/password/resetCode': { as: 'anonymous', body: { phone: alice.phone } },
      'POST /v1/user/password/reset': {
        as: 'anonymous',
        body: { phone: alice.phone, code: '123456', newPassword: 'another-pass-1' },
      },
      'POST /v1/social/blacklist': { body: { userId: bob.id } },
      'DELETE /v1/social/blacklist': { query: { userId: bob.id } },
      'GET /v1/social/blacklist': {},
      'POST /v1/push/devices': { body: { deviceId: 'd1', platform: 'fcm', token: 't1' } },
      'DELETE /v1/push/devices': { query: { deviceId: 'd1' } },
      'GET /v1/push/devices': {},
      // This app has no VAPID keys: the key is ignored and the usual 404 / 700005 answers.
      'GET /v1/push/vapidKey': { refusedWith: 700005 },
      'PUT /v1/social/friend': { body: { friendUid: bob.id, remark: 'r' } },
      'POST /v1/social/friend/putIn': { body: { userId: bob.id } },
      'PUT /v1/social/friend/putIn': { body: { friendReqId: 'r1', handleResult: 2 } },
      'GET /v1/social/friend/putIns': {},
      'GET /v1/social/friends': {},
      'GET /v1/social/friends/online': {},
      'DELETE /v1/social/friend': { query: { friendUid: bob.id } },
      'POST /v1/social/group': { body: { name: 'g' } },
      'DELETE /v1/social/group': { query: { groupId } },
      'POST /v1/social/group/putIn': { body: { groupId, joinSource: 2 } },
      'PUT /v1/social/group/putIn': { body: { groupReqId: 'r1', groupId, handleResult: 2 } },
      'GET /v1/social/group/putIns': { query: { groupId } },
      'GET /v1/social/groups': {},
      'GET /v1/social/group/users': { query: { groupId } },
      'GET /v1/social/group/users/online': { query: { groupId } },
      'POST /v1/social/group/quit': { body: { groupId } },
      'PUT /v1/social/group/member': { body: { groupId, userId: bob.id, roleLevel: 2 } },
      'DELETE /v1/social/group/member': { query: { groupId, userId: bob.id } },
      'PUT /v1/social/group': { body: { groupId, notification: 'hello' } },
      'PUT /v1/social/group/mute': { body: { groupId, muted: true } },
      'PUT /v1/social/group/member/mute': { body: { groupId, userId: bob.id, seconds: 5 } },
      'GET /v1/im/chatlog': { query: { conversationId: groupId } },
      'GET /v1/im/chatlog/readRecords': { query: { msgId: 'm1' } },
      'POST /v1/im/setup/conversation': { body: { recvId: bob.id, chatType: 2 } },
      'GET /v1/im/conversation': {},
      'PUT /v1/im/conversation': { body: { conversationList: { [groupId]: { readSeq: 0 } } } },
      'DELETE /v1/im/conversation': { query: { conversationId: groupId } },
      'GET /v1/admin/messages/{msgId}/versions': { as: 'admin' },
      'POST /v1/events': {
        as: 'ingest',
        body: {
          event_type: 'user-disabled',
          timestamp: new Date().toISOString(),
          payload: { userId: bob.id },
          metadata: { source: 'ops', version: '1' },
        },
      },
      'GET /v1/admin/audit': { as: 'admin' },
      'POST /v1/admin/deadLetters/replay': { as: 'admin', body: { queue: 'notify.sms' } },
      'POST /v1/admin/deadLetters/discard': { as: 'admin', body: { queue: 'notify.sms' } },
      'GET /v1/admin/deadLetters': { as: 'admin', query: { queue: 'notify.sms' } },
      'GET /v1/admin/users': { as: 'admin', query: { query: 'a' } },
      'PUT /v1/admin/users/{id}': {
        as: 'admin',
        path: `/v1/admin/users/${bob.id}`,
        body: { status: 'disabled' },
      },
      // Reads no body or query: an unknown user shows the key changed nothing.
      'POST /v1/admin/users/{id}/logout': {
        as: 'admin',
        path: '/v1/admin/users/NO_SUCH_USER/logout',
        refusedWith: 200003,
      },
      'POST /v1/admin/notices': { as: 'admin', body: { userIds: [bob.id], content: 'hi' } },
      'GET /v1/admin/stats': { as: 'admin' },
      // Multipart only: a JSON body is 415; unknown parts are refused in files.routes.test.ts.
      'POST /v1/files': { refusedWith: 100009 },
      'POST /v1/files/uploads': { body: { name: 'a.bin', size: 10 } },
      'POST /v1/files/uploads/{uploadId}/complete': {
        path: '/v1/files/uploads/01ARZ3NDEKTSV4RRFFQ69G5FAV/complete',
        refusedWith: 600016,
      },
      'GET /v1/files/{fileId}/link': { path: `/v1/files/${fileId}/link` },
      'GET /v1/files/{fileId}': { path: `/v1/files/${fileId}` },
      'GET /v1/files/{fileId}/thumb': { path: `/v1/files/${fileId}/thumb` },
    };
    const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown; parameters?: unknown[] }>>;
    };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
    );
    expect(routes.length).toBeGreaterThan(30);
    // A route added without a sample here fails: decide how it treats an extra key.
    expect(routes.map((r) => r.key).filter((key) => !samples[key])).toEqual([]);

    for (const { key, op } of routes) {
      const sample = samples[key]!;
      const [method, docPath] = key.split(' ') as [string, string];
      const path = sample.path ?? docPath;
      const takesBody = op.requestBody !== undefined;
      const takesQuery = (op.parameters ?? []).some((p) => (p as { in: string }).in === 'query');
      const before = await snapshot();
      if (path === '/metrics') {
        // Prometheus text, not the envelope: the query is not read.
        expect((await fetch(`${t.url}${path}?${EXTRA}=1`)).status).toBeLessThan(500);
        continue;
      }
      const raw = JSON.stringify({ ...sample.body, [EXTRA]: 1 });
      const headers: Record<string, string> = {};
      if (sample.as === 'admin') headers.authorization = `Bearer ${ADMIN_TOKEN}`;
      if (sample.as === 'ingest') headers[SIGNATURE_HEADER] = signBody(INGEST_SECRET, raw);
      const token =
        sample.as === 'fresh'
          ? (await t.client.post('/v1/user/login', { phone: bob.phone, password: bob.password }))
              .body.data.token
          : sample.as === undefined
            ? alice.token
            : null;
      const res = await t.client.request(method, path, {
        ...(method === 'GET' ? {} : { rawBody: raw }),
        query: { ...sample.query, [EXTRA]: '1' },
        headers,
        token,
      });
      expect(await snapshot(), `${key} wrote something`).toBe(before);
      if (takesBody || takesQuery) {
        // Refused before the handler runs, naming the key.
        expect(res.status, key).toBe(400);
        expect(res.body.code, key).toBe(100002);
        expect(res.body.msg, key).toMatch(/has unknown key "zzz"/);
      } else if (sample.refusedWith !== undefined) {
        expect(res.body.code, key).toBe(sample.refusedWith);
      } else {
        // Nothing of the request is read: the key is ignored, the answer is the usual one.
        expect(res.status, `${key}: ${JSON.stringify(res.body)}`).toBeLessThan(400);
      }
    }
  });

  it('refuses an unknown key nested in a body (PUT /v1/im/conversation entries)', async () => {
    const before = await snapshot();
    const res = await alice.client.put('/v1/im/conversation', {
      conversationList: { [groupId]: { readSeq: 0, starred: true } },
    });
    expect(res.status).toBe(400);
    expect(res.body.msg).toMatch(/has unknown key "starred"/);
    expect(await snapshot()).toBe(before);
  });

  it('refuses an unknown key in an ingested payload (400 / 500005 naming it)', async () => {
    const raw = JSON.stringify({
      event_type: 'user-disabled',
      timestamp: new Date().toISOString(),
      payload: { userId: bob.id, status: 0 },
      metadata: { source: 'ops', version: '1' },
    });
    const res = await t.client.request('POST', '/v1/events', {
      rawBody: raw,
      headers: { [SIGNATURE_HEADER]: signBody(INGEST_SECRET, raw) },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 500005, msg: 'payload has unknown key "status"' });
    expect((await bob.client.get('/v1/user/user')).status).toBe(200);
  });

  it('refuses an extra key in the data of every WebSocket method, writing nothing', async () => {
    const samples: Record<string, unknown> = {
      'conversation.chat': { chatType: 1, recvId: groupId, msg: { mType: 0, content: 'hi' } },
      'conversation.markChat': { conversationId: groupId, readSeq: 1 },
      'conversation.markRead': { conversationId: groupId, readSeq: 1 },
      'conversation.sync': { conversations: { [groupId]: { seq: 0, modSeq: 0 } } },
      'conversation.clear': { conversationId: groupId },
      'conversation.typing': { conversationId: groupId, typing: true },
      'message.revoke': { conversationId: groupId, msgId: 'm1' },
      'message.edit': { conversationId: groupId, msgId: 'm1', content: 'x' },
      'message.react': { conversationId: groupId, msgId: 'm1', emoji: '👍', add: true },
      'message.delete': { conversationId: groupId, msgIds: ['m1'] },
      'user.online': {},
    };
    const methods = Object.keys(
      imWsMethods({
        chat: null!,
        conversations: null!,
        history: null!,
        changes: null!,
        typing: null!,
      }),
    ).sort();
    expect(methods).toEqual(Object.keys(samples).sort());
    const ws = await (await WsClient.connect(t.url, { token: alice.token })).ready();
    try {
      for (const method of methods) {
        const before = await snapshot();
        const data = { ...(samples[method] as object), [EXTRA]: 1 };
        const answer = await ws.request(method, data);
        expect(answer.frameType, method).toBe(9);
        expect(answer.data, method).toEqual({ code: 100002, msg: 'data has unknown key "zzz"' });
        expect(await snapshot(), `${method} wrote something`).toBe(before);
      }
      // Nested: the message object is closed too.
      const nested = await ws.request('conversation.chat', {
        chatType: 1,
        recvId: groupId,
        msg: { mType: 0, content: 'hi', sendId: bob.id },
      });
      expect(nested.data).toEqual({ code: 100002, msg: 'data.msg has unknown key "sendId"' });
      // The same frames without the key work.
      expect(await ws.call('conversation.chat', samples['conversation.chat'])).toMatchObject({
        sendId: alice.id,
      });
    } finally {
      await ws.close();
    }
  });
});
