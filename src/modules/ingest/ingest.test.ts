import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser } from '../../../test/support/factories.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';
import { waitFor } from '../../adapters/bus/bus.contract.js';
import type { Delivery } from '../../adapters/bus/bus.js';
import { createGroupWith } from '../../../test/support/social.js';
import { signBody, SIGNATURE_HEADER } from './ingest.signature.js';
import { DOMAIN_TOPIC } from '../../events/outbox-relay.js';

const CRM_SECRET = 'crm-secret-0123456789abcdef';
const OPS_SECRET = 'ops-secret-0123456789abcdef';

function envelope(type: string, payload: unknown, extra: Record<string, unknown> = {}) {
  return {
    event_type: type,
    timestamp: new Date().toISOString(),
    payload,
    metadata: { source: 'crm', version: '1.0' },
    ...extra,
  };
}

describe.each(STORAGES)('POST /v1/events on %s', (storage) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      storage,
      overrides: {
        ingest: {
          timestampToleranceSec: 300,
          sources: {
            crm: { secret: CRM_SECRET, types: ['user-disabled', 'system_notice-created'] },
            ops: { secret: OPS_SECRET, types: ['system_notice-created'] },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  /** Sends a body signed with `secret` (or raw text as given). */
  function send(body: unknown, secret: string | null = CRM_SECRET) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return t.client.request('POST', '/v1/events', {
      rawBody: raw,
      headers: secret ? { [SIGNATURE_HEADER]: signBody(secret, raw) } : {},
    });
  }

  it('disables a user: tokens revoked, login refused, user-disabled published to every node', async () => {
    const user = await createUser(t.client);
    const live: Delivery[] = [];
    await t.app.broker.subscribe({ topic: DOMAIN_TOPIC, types: ['user-disabled'] }, async (d) => {
      live.push(d);
    });
    expect((await user.client.get('/v1/user/user')).status).toBe(200);

    const res = await send(
      envelope('user-disabled', { userId: user.id, reason: 'fraud' }, { event_id: `e-${user.id}` }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      code: 200,
      msg: 'ok',
      data: {
        eventId: `e-${user.id}`,
        type: 'user-disabled',
        result: { userId: user.id, status: 'disabled' },
      },
    });

    const after = await user.client.get('/v1/user/user');
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ code: 100003, msg: 'token revoked' });
    const login = await t.client.post('/v1/user/login', {
      phone: user.phone,
      password: user.password,
    });
    expect(login.status).toBe(403);
    expect(login.body.code).toBe(200005);
    // The relay publishes the user-disabled domain event; a gateway would close sockets on it.
    await waitFor(
      () => live.some((d) => (d.event.payload as { userId: string }).userId === user.id),
      'fan-out',
    );
    expect(live.at(-1)!.event.payload).toEqual({ userId: user.id, reason: 'fraud', source: 'crm' });
  });

  it('refuses a missing or wrong signature and unknown sources with 401 / 500001', async () => {
    const body = envelope('user-disabled', { userId: 'x' });
    for (const res of [
      await send(body, null),
      await send(body, 'not-the-secret-0123456789'),
      await send(body, OPS_SECRET),
      await send({ ...body, metadata: { source: 'nobody', version: '1' } }),
      await send('{"not": "an envelope"}'),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        code: 500001,
        msg: 'event signature missing or invalid',
        data: null,
      });
    }
    // The signature covers the body: a body changed after signing fails.
    const raw = JSON.stringify(body);
    const tampered = await t.client.request('POST', '/v1/events', {
      rawBody: raw.replace('"x"', '"y"'),
      headers: { [SIGNATURE_HEADER]: signBody(CRM_SECRET, raw) },
    });
    expect(tampered.status).toBe(401);
  });

  it('refuses timestamps outside the window with 400 / 500002', async () => {
    const user = await createUser(t.client);
    for (const timestamp of [
      new Date(Date.now() - 301_000).toISOString(),
      Date.now() + 301_000,
      'yesterday',
    ]) {
      const res = await send(envelope('user-disabled', { userId: user.id }, { timestamp }));
      expect(res.status, String(timestamp)).toBe(400);
      expect(res.body.code).toBe(500002);
    }
    // Within the window, epoch milliseconds are accepted too.
    const ok = await send(
      envelope(
        'system_notice-created',
        { content: 'hi', userIds: [user.id] },
        { timestamp: Date.now() - 60_000 },
      ),
    );
    expect(ok.status).toBe(200);
  });

  it('refuses a replayed event id, and a replayed body without id, with 409 / 500003', async () => {
    const owner = await createUser(t.client);
    const groupId = await createGroupWith(owner, []);
    const first = envelope(
      'system_notice-created',
      { content: 'maintenance at 2am', groupId },
      { event_id: `n-${Date.now()}` },
    );
    expect((await send(first)).status).toBe(200);
    const again = await send(first);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ code: 500003, msg: 'event id was already received', data: null });
    // Another source may use the same id.
    expect(
      (await send({ ...first, metadata: { source: 'ops', version: '1' } }, OPS_SECRET)).status,
    ).toBe(200);

    const anonymous = envelope('system_notice-created', { content: 'no id', groupId });
    expect((await send(anonymous)).status).toBe(200);
    expect((await send(anonymous)).status).toBe(409);
  });

  it('refuses unknown types (400 / 500004) and types the source may not send (403 / 500007)', async () => {
    const unknown = await send(envelope('spaceship-launched', {}));
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      code: 500004,
      msg: 'no handler for event type "spaceship-launched"',
      data: null,
    });
    const body = {
      ...envelope('user-disabled', { userId: 'u' }),
      metadata: { source: 'ops', version: '1' },
    };
    const forbidden = await send(body, OPS_SECRET);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe(500007);
  });

  it('validates the envelope (400 / 100002) and the payload (400 / 500005)', async () => {
    const cases: Array<[unknown, number, RegExp]> = [
      [{ ...envelope('user-disabled', {}), event_type: undefined }, 100002, /event_type/],
      [{ ...envelope('user-disabled', {}), event_type: 'Not Valid' }, 100002, /event_type/],
      [{ ...envelope('user-disabled', {}), timestamp: undefined }, 100002, /timestamp/],
      [envelope('user-disabled', { reason: 'no user id' }), 500005, /userId/],
      [envelope('user-disabled', { userId: 42 }), 500005, /userId/],
      [
        envelope('system_notice-created', { content: 'both', userIds: ['a'], groupId: 'g' }),
        500005,
        /exactly one/,
      ],
      [envelope('system_notice-created', { content: 'neither' }), 500005, /exactly one/],
    ];
    for (const [body, code, msg] of cases) {
      const res = await send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code, JSON.stringify(body)).toBe(code);
      expect(res.body.msg).toMatch(msg);
    }
    const notJson = await t.client.request('POST', '/v1/events', { rawBody: '{"event_type": ' });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toEqual({ code: 100002, msg: 'body is not valid JSON', data: null });
  });

  it('posts system notices as system messages into users’ and groups’ conversations', async () => {
    const [alice, bob, owner] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    const eventId = `w-${Date.now()}`;
    const res = await send(
      envelope(
        'system_notice-created',
        {
          title: 'Welcome',
          content: 'hello',
          userIds: [alice.id, bob.id, alice.id, 'NO_SUCH_USER'],
        },
        { event_id: eventId },
      ),
    );
    expect(res.status).toBe(200);
    expect(res.body.data.result).toEqual({ delivered: 2 });
    for (const user of [alice, bob]) {
      const list = (await user.client.get('/v1/im/conversation')).body.data.conversationList;
      const conversation = Object.values(list)[0] as any;
      expect(conversation).toMatchObject({ chatType: 2, targetId: 'system', maxSeq: 1, unread: 1 });
      expect(conversation.msg).toMatchObject({
        sendId: 'system',
        recvId: user.id,
        mType: 3,
        seq: 1,
      });
      expect(JSON.parse(conversation.msg.content)).toEqual({
        kind: 'system_notice',
        title: 'Welcome',
        content: 'hello',
        source: 'crm',
      });
    }
    // Nobody can answer the system.
    const reply = await alice.client.post('/v1/im/setup/conversation', {
      recvId: 'system',
      chatType: 2,
    });
    expect(reply.status).toBe(404);

    const groupId = await createGroupWith(owner, [bob]);
    const toGroup = await send(
      envelope('system_notice-created', { content: 'group notice', groupId }),
    );
    expect(toGroup.body.data.result).toEqual({ delivered: 1 });
    const history = (await bob.client.get('/v1/im/chatlog', { query: { conversationId: groupId } }))
      .body.data.list;
    // Newest first: the system notice, after bob's own join notice (mType 10), where
    // his history of the group starts.
    expect(history[0]).toMatchObject({ sendId: 'system', chatType: 1, mType: 3 });
    expect(history.slice(1).map((m: { mType: number }) => m.mType)).toEqual([10]);
    const records = await bob.client.get('/v1/im/chatlog/readRecords', {
      query: { msgId: history[0].msgId },
    });
    expect(records.body.data).toEqual({
      reads: [],
      unReads: expect.arrayContaining([owner.id, bob.id]),
    });

    const unknownGroup = await send(
      envelope('system_notice-created', { content: 'x', groupId: 'NO_SUCH_GROUP' }),
    );
    expect(unknownGroup.status).toBe(404);
    expect(unknownGroup.body.code).toBe(400011);
  });

  it('frees the id of an event its handler refused, so that it can be sent again', async () => {
    const body = envelope(
      'user-disabled',
      { userId: 'no-such-user' },
      { event_id: `missing-${Date.now()}` },
    );
    const first = await send(body);
    expect(first.status).toBe(404);
    expect(first.body.code).toBe(200003);
    const second = await send(body);
    expect(second.status).toBe(404);
  });
});
