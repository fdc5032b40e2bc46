import { describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { createGroup } from '../../../test/support/social.js';
import { publishedEvents } from '../../../test/support/published-events.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import type { Frame, WsClient } from '../../../test/support/ws-client.js';

interface StoredMessage {
  seq: number;
  sendId: string;
  mType: number;
  content: string;
}

describe.each(STORAGES)('group settings, mutes and notices on %s', (storage) => {
  let now = Date.now();
  // A clock the test moves, so a member's mute can run out without waiting.
  const { t, connect } = suiteApp({ storage, clock: () => now });

  /** A group with an owner, one manager and two ordinary members. */
  async function staffedGroup() {
    const [owner, manager, m1, m2] = await Promise.all(
      Array.from({ length: 4 }, () => createUser(t.client)),
    );
    const groupId = await createGroup(owner!);
    for (const u of [manager!, m1!, m2!]) {
      const res = await owner!.client.post('/v1/social/group/putIn', {
        groupId,
        joinSource: 1,
        reqId: u.id,
      });
      expect(res.body.data.joined).toBe(true);
    }
    const promoted = await owner!.client.put('/v1/social/group/member', {
      groupId,
      userId: manager!.id,
      roleLevel: 2,
    });
    expect(promoted.status).toBe(200);
    return { groupId, owner: owner!, manager: manager!, m1: m1!, m2: m2! };
  }
  const expectError = (
    res: { status: number; body: { code: number } },
    status: number,
    code: number,
  ) => {
    expect(res.body.code, JSON.stringify(res.body)).toBe(code);
    expect(res.status).toBe(status);
  };
  const history = async (viewer: RegisteredUser, groupId: string): Promise<StoredMessage[]> => {
    const res = await viewer.client.get('/v1/im/chatlog', {
      query: { conversationId: groupId, count: 100 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.data.list as StoredMessage[]).sort((a, b) => a.seq - b.seq);
  };
  const notices = async (viewer: RegisteredUser, groupId: string) =>
    (await history(viewer, groupId))
      .filter((m) => m.mType === 10)
      .map(
        (m) =>
          ({ sendId: m.sendId, ...JSON.parse(m.content) }) as Record<string, unknown> & {
            type: string;
          },
      );
  const say = (ws: WsClient, groupId: string, content: string) =>
    ws.request('conversation.chat', {
      chatType: 1,
      recvId: groupId,
      msg: { mType: 0, content },
    });
  const groupOf = async (viewer: RegisteredUser, groupId: string) =>
    ((await viewer.client.get('/v1/social/groups')).body.data.list as Array<{ id: string }>).find(
      (g) => g.id === groupId,
    );
  const isNotice = (groupId: string, type: string) => (f: Frame) =>
    f.method === 'push' &&
    f.data?.conversationId === groupId &&
    f.data?.mType === 10 &&
    JSON.parse(f.data.content as string).type === type;

  it('creator and managers change the info; members see it in the list, a push and a notice', async () => {
    const { groupId, owner, manager, m1 } = await staffedGroup();
    const ws = await connect(m1);
    const changed = await manager.client.put('/v1/social/group', {
      groupId,
      name: 'Hikers',
      notification: 'Meet at 8',
      isVerify: true,
    });
    expect(changed.body).toEqual({ code: 200, msg: 'ok', data: {} });
    expect(await groupOf(m1, groupId)).toMatchObject({
      name: 'Hikers',
      notification: 'Meet at 8',
      isVerify: true,
      icon: '',
      muted: false,
    });
    // Fields equal to the current ones change nothing: no event, no notice.
    await owner.client.put('/v1/social/group', { groupId, name: 'Hikers' });
    expect(await notices(m1, groupId)).toContainEqual({
      sendId: 'system',
      type: 'group.updated',
      operatorId: manager.id,
      name: 'Hikers',
      notification: 'Meet at 8',
      isVerify: true,
    });
    expect((await notices(m1, groupId)).filter((n) => n.type === 'group.updated')).toHaveLength(1);
    const updated = (await publishedEvents(t.app, 'group-updated')).filter(
      (e) => e.partitionKey === groupId,
    );
    expect(updated.map((e) => e.payload)).toEqual([
      {
        groupId,
        operatorUid: manager.id,
        changes: { name: 'Hikers', notification: 'Meet at 8', isVerify: true },
      },
    ]);
    await ws.waitFor(isNotice(groupId, 'group.updated'));
    const push = await ws.waitFor((f) => f.method === 'group.updated');
    expect(push.data).toMatchObject({ groupId, operatorUid: manager.id });
  });

  it('a group-wide mute silences members, not managers; a member mute silences that member', async () => {
    const { groupId, owner, manager, m1, m2 } = await staffedGroup();
    const wsOwner = await connect(owner);
    const wsManager = await connect(manager);
    const ws1 = await connect(m1);
    const ws2 = await connect(m2);
    expect(
      (await manager.client.put('/v1/social/group/mute', { groupId, muted: true })).status,
    ).toBe(200);
    expect(await groupOf(m1, groupId)).toMatchObject({ muted: true });
    const refused = await say(ws1, groupId, 'hello?');
    expect(refused.frameType).toBe(9);
    expect(refused.data).toMatchObject({ code: 400202 });
    expect((await say(wsManager, groupId, 'managers may')).frameType).toBe(2);
    expect((await say(wsOwner, groupId, 'so may I')).frameType).toBe(2);
    await ws2.waitFor(isNotice(groupId, 'group.muted'));
    await owner.client.put('/v1/social/group/mute', { groupId, muted: false });
    expect((await say(ws1, groupId, 'back')).frameType).toBe(2);

    // One member for a minute: refused with its own code until it runs out.
    const muted = await manager.client.put('/v1/social/group/member/mute', {
      groupId,
      userId: m1.id,
      seconds: 60,
    });
    expect(muted.body.data).toEqual({ mutedUntil: now + 60_000 });
    const mutedSay = await say(ws1, groupId, 'muted');
    expect(mutedSay.data).toMatchObject({ code: 400203 });
    expect((await say(ws2, groupId, 'not me')).frameType).toBe(2);
    await ws1.waitFor((f) => f.method === 'group.member.muted');
    now += 61_000;
    expect((await say(ws1, groupId, 'free again')).frameType).toBe(2);

    // 0 lifts a mute at once.
    await owner.client.put('/v1/social/group/member/mute', {
      groupId,
      userId: m2.id,
      seconds: 600,
    });
    expect((await say(ws2, groupId, 'x')).data).toMatchObject({ code: 400203 });
    await owner.client.put('/v1/social/group/member/mute', { groupId, userId: m2.id, seconds: 0 });
    expect((await say(ws2, groupId, 'y')).frameType).toBe(2);

    // Who may mute whom: the creator mutes a manager; a manager mutes no manager or creator.
    expect(
      (
        await owner.client.put('/v1/social/group/member/mute', {
          groupId,
          userId: manager.id,
          seconds: 5,
        })
      ).status,
    ).toBe(200);
    expect((await say(wsManager, groupId, 'z')).data).toMatchObject({ code: 400203 });
    expectError(
      await manager.client.put('/v1/social/group/member/mute', {
        groupId,
        userId: owner.id,
        seconds: 5,
      }),
      403,
      300113,
    );
    expectError(
      await manager.client.put('/v1/social/group/member/mute', {
        groupId,
        userId: manager.id,
        seconds: 5,
      }),
      400,
      300112,
    );
    const types = (await notices(m2, groupId)).map((n) => [n.type, n.userId ?? n.muted]);
    // m2 joined last: its history starts with its own join and the manager's promotion.
    expect(types).toEqual([
      ['member.joined', m2.id],
      ['member.role', manager.id],
      ['group.muted', true],
      ['group.muted', false],
      ['member.muted', m1.id],
      ['member.muted', m2.id],
      ['member.muted', m2.id],
      ['member.muted', manager.id],
    ]);
  });

  it('notices sit in order with chat and are never unread', async () => {
    const { groupId, owner, manager, m1, m2 } = await staffedGroup();
    const wsOwner = await connect(owner);
    const ws2 = await connect(m2);
    await say(wsOwner, groupId, 'welcome');
    await owner.client.put('/v1/social/group', { groupId, notification: 'rules' });
    await manager.client.put('/v1/social/group/member/mute', {
      groupId,
      userId: m1.id,
      seconds: 30,
    });
    await say(wsOwner, groupId, 'one more');
    await owner.client.put('/v1/social/group/mute', { groupId, muted: true });
    await ws2.waitFor(isNotice(groupId, 'group.muted'));

    const all = await history(m2, groupId);
    // Dense seqs: notices take their place among chat messages.
    expect(all.map((m) => m.seq)).toEqual(all.map((_, i) => all[0]!.seq + i));
    const story = all
      .filter((m) => all.indexOf(m) >= all.findIndex((x) => x.content === 'welcome'))
      .map((m) =>
        m.mType === 10
          ? (JSON.parse(m.content) as { type: string; userId: string }).type
          : m.content,
      );
    expect(story).toEqual(['welcome', 'group.updated', 'member.muted', 'one more', 'group.muted']);
    expect((await notices(m2, groupId)).find((n) => n.type === 'member.muted')).toMatchObject({
      operatorId: manager.id,
      userId: m1.id,
    });

    // Unread counts chat from others after readSeq, never notices: checked against history.
    const entry = (await m2.client.get('/v1/im/conversation')).body.data.conversationList[
      groupId
    ] as { readSeq: number; unread: number; maxSeq: number };
    const expected = all.filter(
      (m) => m.seq > entry.readSeq && m.mType !== 10 && m.sendId !== m2.id,
    ).length;
    expect(expected).toBe(2);
    expect(entry.unread).toBe(expected);
    expect(entry.maxSeq).toBe(all.at(-1)!.seq);

    // Dismissal is the last notice (stored as the members go: the pushes say it).
    await owner.client.delete('/v1/social/group', { query: { groupId } });
    const last = await t.app.storage.db
      .selectFrom('messages')
      .select(['seq', 'sendId', 'mType', 'content'])
      .where('conversationId', '=', groupId)
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(last.seq).toBe(all.at(-1)!.seq + 1);
    expect(last.mType).toBe(10);
    expect(JSON.parse(last.content)).toEqual({ type: 'group.dismissed', operatorId: owner.id });
  });

  it('refuses the unauthenticated, strangers, ordinary members, unknown groups and bad input', async () => {
    const { groupId, m1, manager } = await staffedGroup();
    const stranger = await createUser(t.client);
    const routes = [
      ['/v1/social/group', { groupId, name: 'x' }],
      ['/v1/social/group/mute', { groupId, muted: true }],
      ['/v1/social/group/member/mute', { groupId, userId: manager.id, seconds: 5 }],
    ] as const;
    for (const [path, body] of routes) {
      expectError(await t.client.put(path, body), 401, 100003);
      expectError(await t.client.request('PUT', path, { body, token: 'not-a-jwt' }), 401, 100003);
      expectError(await stranger.client.put(path, body), 403, 300102);
      expectError(await m1.client.put(path, body), 403, 300103);
      expectError(
        await manager.client.put(path, { ...body, groupId: '01HZZZZZZZZZZZZZZZZZZZZZZZ' }),
        404,
        300101,
      );
      // Closed bodies: an unknown key is refused, and so is a missing groupId.
      expectError(await manager.client.put(path, { ...body, creatorUid: m1.id }), 400, 100002);
      const { groupId: _omit, ...rest } = body;
      expectError(await manager.client.put(path, rest), 400, 100002);
    }
    for (const bad of [
      { groupId, name: '' },
      { groupId, name: '   ' },
      { groupId, name: 'x'.repeat(65) },
      { groupId, notification: 'x'.repeat(1025) },
      { groupId, isVerify: 'yes' },
    ]) {
      expectError(await manager.client.put('/v1/social/group', bad), 400, 100002);
    }
    expectError(
      await manager.client.put('/v1/social/group/mute', { groupId, muted: 1 }),
      400,
      100002,
    );
    for (const seconds of [-1, 1.5, 31_536_001, '60', null]) {
      expectError(
        await manager.client.put('/v1/social/group/member/mute', {
          groupId,
          userId: m1.id,
          seconds,
        }),
        400,
        100002,
      );
    }
    expectError(
      await manager.client.put('/v1/social/group/member/mute', {
        groupId,
        userId: stranger.id,
        seconds: 5,
      }),
      404,
      300109,
    );
    // Nothing of it was written.
    expect(await groupOf(m1, groupId)).toMatchObject({ name: 'group', muted: false });
    // A client cannot write a notice: mType 10 is the server's.
    const ws = await connect(m1);
    const forged = await ws.request('conversation.chat', {
      chatType: 1,
      recvId: groupId,
      msg: { mType: 10, content: '{"type":"group.dismissed","operatorId":"x"}' },
    });
    expect(forged.data).toMatchObject({ code: 100002 });
  });
});
