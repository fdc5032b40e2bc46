/**
 * Membership notices (DESIGN.md §7): joining, leaving, being removed and role changes
 * are stored as mType 10 messages in the group conversation, in the transaction of
 * the change, pushed live and read by sync in seq order with chat, and never unread.
 */
import { describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { createGroup, joinGroup } from '../../../test/support/social.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import type { Frame, WsClient } from '../../../test/support/ws-client.js';

interface StoredMessage {
  seq: number;
  sendId: string;
  mType: number;
  content: string;
}

describe.each(STORAGES)('group membership notices on %s', (storage) => {
  const { t, connect } = suiteApp({ storage });

  const ok = (res: { status: number; body: unknown }) =>
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  const history = async (viewer: RegisteredUser, groupId: string): Promise<StoredMessage[]> => {
    const res = await viewer.client.get('/v1/im/chatlog', {
      query: { conversationId: groupId, count: 200 },
    });
    ok(res);
    return (res.body.data.list as StoredMessage[]).sort((a, b) => a.seq - b.seq);
  };
  const notices = async (viewer: RegisteredUser, groupId: string) =>
    (await history(viewer, groupId))
      .filter((m) => m.mType === 10)
      .map((m) => JSON.parse(m.content) as Record<string, unknown>);
  const say = async (ws: WsClient, groupId: string, content: string) =>
    (await ws.call('conversation.chat', {
      chatType: 1,
      recvId: groupId,
      msg: { mType: 0, content },
    })) as { seq: number };
  const isNotice = (groupId: string, type: string, userId?: string) => (f: Frame) =>
    f.method === 'push' &&
    f.data?.conversationId === groupId &&
    f.data?.mType === 10 &&
    JSON.parse(f.data.content as string).type === type &&
    (userId === undefined || JSON.parse(f.data.content as string).userId === userId);

  /** Unread as the list says, and as counted from the viewer's history. */
  async function unreadBoth(viewer: RegisteredUser, groupId: string) {
    const entry = (await viewer.client.get('/v1/im/conversation')).body.data.conversationList[
      groupId
    ] as { readSeq: number; unread: number; maxSeq: number };
    const all = await history(viewer, groupId);
    const counted = all.filter(
      (m) => m.seq > entry.readSeq && m.mType !== 10 && m.sendId !== viewer.id,
    ).length;
    return { listed: entry.unread, counted, maxSeq: entry.maxSeq, lastSeq: all.at(-1)?.seq };
  }

  it('stores joined, role, kicked and left notices in order with chat, pushed live', async () => {
    const [owner, inviter, invitee, approved] = await Promise.all(
      Array.from({ length: 4 }, () => createUser(t.client)),
    );
    const groupId = await createGroup(owner!);
    const wsOwner = await connect(owner!);
    // Applied to an open group: the member let themself in.
    await joinGroup(inviter!, groupId);
    await wsOwner.waitFor(isNotice(groupId, 'member.joined', inviter!.id));
    // Invited by an ordinary member of an open group.
    ok(
      await inviter!.client.post('/v1/social/group/putIn', {
        groupId,
        joinSource: 1,
        reqId: invitee!.id,
      }),
    );
    await say(wsOwner, groupId, 'hello all');
    ok(await owner!.client.put('/v1/social/group', { groupId, isVerify: true }));
    // Applied to a verified group, approved by the creator.
    const asked = await approved!.client.post('/v1/social/group/putIn', {
      groupId,
      joinSource: 2,
    });
    ok(asked);
    ok(
      await owner!.client.put('/v1/social/group/putIn', {
        groupId,
        groupReqId: asked.body.data.id,
        handleResult: 2,
      }),
    );
    ok(
      await owner!.client.put('/v1/social/group/member', {
        groupId,
        userId: inviter!.id,
        roleLevel: 2,
      }),
    );
    // Now a manager, the inviter removes the member it invited.
    ok(
      await inviter!.client.delete('/v1/social/group/member', {
        query: { groupId, userId: invitee!.id },
      }),
    );
    ok(await approved!.client.post('/v1/social/group/quit', { groupId }));
    await wsOwner.waitFor(isNotice(groupId, 'member.left', approved!.id));

    const all = await history(owner!, groupId);
    expect(all.map((m) => m.seq)).toEqual(all.map((_, i) => i + 1));
    const story = all.map((m) =>
      m.mType === 10 ? (JSON.parse(m.content) as { type: string }).type : m.content,
    );
    expect(story).toEqual([
      'member.joined',
      'member.joined',
      'member.joined',
      'hello all',
      'group.updated',
      'member.joined',
      'member.role',
      'member.kicked',
      'member.left',
    ]);
    expect(await notices(owner!, groupId)).toEqual([
      {
        type: 'member.joined',
        operatorId: owner!.id,
        userId: owner!.id,
        roleLevel: 1,
        joinSource: 0,
      },
      {
        type: 'member.joined',
        operatorId: inviter!.id,
        userId: inviter!.id,
        roleLevel: 3,
        joinSource: 2,
      },
      {
        type: 'member.joined',
        operatorId: inviter!.id,
        userId: invitee!.id,
        roleLevel: 3,
        joinSource: 1,
        inviterId: inviter!.id,
      },
      { type: 'group.updated', operatorId: owner!.id, isVerify: true },
      {
        type: 'member.joined',
        operatorId: owner!.id,
        userId: approved!.id,
        roleLevel: 3,
        joinSource: 2,
      },
      {
        type: 'member.role',
        operatorId: owner!.id,
        userId: inviter!.id,
        roleLevel: 2,
        oldRoleLevel: 3,
      },
      { type: 'member.kicked', operatorId: inviter!.id, userId: invitee!.id },
      { type: 'member.left', operatorId: approved!.id, userId: approved!.id },
    ]);
    // Every notice after the creator connected reached it live, as a push in seq order.
    const noticePush = (f: Frame) =>
      f.method === 'push' &&
      f.data?.conversationId === groupId &&
      f.data.mType === 10 &&
      f.data.seq > 1;
    const pushed = (
      await wsOwner.waitForCount(noticePush, all.filter((m) => m.mType === 10).length - 1)
    ).map((f) => f.data.seq as number);
    expect(pushed).toEqual(all.filter((m) => m.mType === 10 && m.seq > 1).map((m) => m.seq));
    // The removed member's history ends with its own removal; it sees nothing after.
    expect(
      (await invitee!.client.get('/v1/im/chatlog', { query: { conversationId: groupId } })).status,
    ).toBe(403);
  });

  it('hands over ownership with two role notices, one per member whose role changed', async () => {
    const [owner, heir] = await Promise.all([createUser(t.client), createUser(t.client)]);
    const groupId = await createGroup(owner);
    await joinGroup(heir, groupId);
    ok(
      await owner.client.put('/v1/social/group/member', {
        groupId,
        userId: heir.id,
        roleLevel: 1,
      }),
    );
    const roles = (await notices(heir, groupId)).filter((n) => n.type === 'member.role');
    expect(roles).toEqual([
      {
        type: 'member.role',
        operatorId: owner.id,
        userId: owner.id,
        roleLevel: 2,
        oldRoleLevel: 1,
      },
      {
        type: 'member.role',
        operatorId: owner.id,
        userId: heir.id,
        roleLevel: 1,
        oldRoleLevel: 3,
      },
    ]);
    // Setting the role a member already has changes nothing, and posts nothing.
    const before = (await history(heir, groupId)).length;
    ok(
      await heir.client.put('/v1/social/group/member', {
        groupId,
        userId: owner.id,
        roleLevel: 2,
      }),
    );
    expect((await history(heir, groupId)).length).toBe(before);
  });

  it('a refused change posts no notice (it rolls back with the change)', async () => {
    const [owner, member, other] = await Promise.all(
      Array.from({ length: 3 }, () => createUser(t.client)),
    );
    const groupId = await createGroup(owner!);
    await joinGroup(member!, groupId);
    await joinGroup(other!, groupId);
    const before = await history(owner!, groupId);
    // An ordinary member may not remove, the creator may not quit.
    expect(
      (
        await member!.client.delete('/v1/social/group/member', {
          query: { groupId, userId: other!.id },
        })
      ).status,
    ).toBe(403);
    expect((await owner!.client.post('/v1/social/group/quit', { groupId })).status).toBe(409);
    expect(await history(owner!, groupId)).toEqual(before);
  });

  it('unread equals the count of non-notice history after joins, kicks, role changes and chat', async () => {
    const users = await Promise.all(Array.from({ length: 5 }, () => createUser(t.client)));
    const [owner, a, b, c, late] = users as [
      RegisteredUser,
      RegisteredUser,
      RegisteredUser,
      RegisteredUser,
      RegisteredUser,
    ];
    const groupId = await createGroup(owner);
    for (const u of [a, b, c]) await joinGroup(u, groupId);
    const [wsOwner, wsA, wsB] = await Promise.all([connect(owner), connect(a), connect(b)]);
    await say(wsOwner, groupId, 'one');
    await say(wsA, groupId, 'two');
    ok(await owner.client.put('/v1/social/group/member', { groupId, userId: a.id, roleLevel: 2 }));
    await say(wsB, groupId, 'three');
    ok(await a.client.delete('/v1/social/group/member', { query: { groupId, userId: c.id } }));
    await joinGroup(late, groupId);
    // b reads up to here: later notices alone leave it at 0 unread.
    const { maxSeq } = await unreadBoth(b, groupId);
    await wsB.call('conversation.markRead', { conversationId: groupId, readSeq: maxSeq });
    ok(await owner.client.put('/v1/social/group/member', { groupId, userId: b.id, roleLevel: 2 }));
    ok(await a.client.post('/v1/social/group/quit', { groupId }));
    expect(await unreadBoth(b, groupId)).toMatchObject({ listed: 0, counted: 0 });
    await say(wsOwner, groupId, 'four');
    await say(wsB, groupId, 'five');

    const expected: Record<string, number> = { [owner.id]: 1, [b.id]: 0, [late.id]: 2 };
    for (const viewer of [owner, b, late]) {
      const seen = await unreadBoth(viewer, groupId);
      expect(seen.listed, viewer.nickname).toBe(seen.counted);
      expect(seen.listed, viewer.nickname).toBe(expected[viewer.id]);
      expect(seen.maxSeq).toBe(seen.lastSeq);
    }
    void wsA;
  });
});
