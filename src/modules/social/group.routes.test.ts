import { describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { createGroup, joinGroup } from '../../../test/support/social.js';
import { publishedEvents } from '../../../test/support/published-events.js';
import { suiteApp } from '../../../test/support/suite-app.js';

const UNKNOWN_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

describe.each(STORAGES)('groups API on %s', (storage) => {
  const { t } = suiteApp({ storage });

  const users = (n: number) => Promise.all(Array.from({ length: n }, () => createUser(t.client)));
  const putIn = (who: RegisteredUser, body: Record<string, unknown>) =>
    who.client.post('/v1/social/group/putIn', body);
  const apply = (who: RegisteredUser, groupId: string, reqMsg?: string) =>
    putIn(who, { groupId, joinSource: 2, ...(reqMsg ? { reqMsg } : {}) });
  const invite = (who: RegisteredUser, groupId: string, invitee: RegisteredUser) =>
    putIn(who, { groupId, joinSource: 1, reqId: invitee.id });
  const handle = (who: RegisteredUser, groupId: string, groupReqId: string, handleResult: number) =>
    who.client.put('/v1/social/group/putIn', { groupReqId, groupId, handleResult });
  const memberIds = async (viewer: RegisteredUser, groupId: string) => {
    const res = await viewer.client.get('/v1/social/group/users', { query: { groupId } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.data.list as Array<{ userId: string }>).map((m) => m.userId);
  };
  const groupEvents = async (groupId: string) =>
    (await publishedEvents(t.app)).filter((e) => e.partitionKey === groupId);

  it('creates a group with its creator as member and lists it under my groups', async () => {
    const owner = await createUser(t.client, { nickname: 'owner', avatar: 'o.png' });
    const res = await owner.client.post('/v1/social/group', {
      name: 'Hiking club',
      icon: 'https://img/h.png',
    });
    expect(res.status).toBe(200);
    const groupId = res.body.data.id;
    expect(groupId).toMatch(/^[0-9A-Z]{26}$/);

    const mine = await owner.client.get('/v1/social/groups');
    expect(mine.body.data.list).toEqual([
      {
        id: groupId,
        name: 'Hiking club',
        icon: 'https://img/h.png',
        status: 1,
        creatorUid: owner.id,
        groupType: 1,
        isVerify: false,
        notification: '',
        memberCount: 1,
        muted: false,
      },
    ]);
    const members = await owner.client.get('/v1/social/group/users', { query: { groupId } });
    expect(members.body.data).toEqual({
      list: [
        {
          userId: owner.id,
          roleLevel: 1,
          nickname: 'owner',
          avatar: 'o.png',
          joinTime: expect.any(Number),
        },
      ],
      nextCursor: null,
    });
    expect((await groupEvents(groupId)).map((e) => [e.type, e.payload])).toEqual([
      ['group-created', { groupId, creatorUid: owner.id, name: 'Hiking club', isVerify: false }],
      ['group_member-joined', { groupId, userId: owner.id, roleLevel: 1, joinSource: 0 }],
      [
        'message-sent',
        expect.objectContaining({ conversationId: groupId, seq: 1, mType: 10, sendId: 'system' }),
      ],
    ]);
    // The group's history starts with the founding notice (the creator's member.joined).
    const history = await owner.client.get('/v1/im/chatlog', {
      query: { conversationId: groupId, startSeq: 0, count: 10 },
    });
    expect(history.body.data.list).toEqual([
      expect.objectContaining({ seq: 1, mType: 10, sendId: 'system' }),
    ]);
    expect(JSON.parse(history.body.data.list[0].content)).toEqual({
      type: 'member.joined',
      operatorId: owner.id,
      userId: owner.id,
      roleLevel: 1,
      joinSource: 0,
    });
  });

  it('joins an unverified group at once; joining again changes nothing', async () => {
    const [owner, user] = await users(2);
    const groupId = await createGroup(owner!);
    const first = await apply(user!, groupId);
    expect(first.body).toEqual({ code: 200, msg: 'ok', data: { joined: true } });
    const second = await apply(user!, groupId);
    expect(second.body.data).toEqual({ joined: true });
    expect(await memberIds(user!, groupId)).toEqual([owner!.id, user!.id]);
    const joined = (await groupEvents(groupId)).filter((e) => e.type === 'group_member-joined');
    expect(joined.map((e) => e.payload)).toEqual([
      { groupId, userId: owner!.id, roleLevel: 1, joinSource: 0 },
      { groupId, userId: user!.id, roleLevel: 3, joinSource: 2 },
    ]);
    const [group] = (await user!.client.get('/v1/social/groups')).body.data.list;
    expect(group).toMatchObject({ id: groupId, memberCount: 2 });
  });

  it('queues applications to a verified group for the creator and managers', async () => {
    const [owner, manager, member, applicant] = await users(4);
    const groupId = await createGroup(owner!, { isVerify: true });
    // The creator invites directly, even into a verified group.
    expect((await invite(owner!, groupId, manager!)).body.data).toEqual({ joined: true });
    expect((await invite(owner!, groupId, member!)).body.data).toEqual({ joined: true });
    await owner!.client.put('/v1/social/group/member', {
      groupId,
      userId: manager!.id,
      roleLevel: 2,
    });

    const applied = await apply(applicant!, groupId, 'let me in');
    expect(applied.status).toBe(200);
    expect(applied.body.data).toEqual({ id: expect.any(String), joined: false });
    const reqId = applied.body.data.id;
    // A second application returns the pending one.
    expect((await apply(applicant!, groupId)).body.data).toEqual({ id: reqId, joined: false });

    const expected = {
      id: reqId,
      groupId,
      reqId: applicant!.id,
      reqMsg: 'let me in',
      reqTime: expect.any(Number),
      joinSource: 2,
      inviterUid: '',
      handleUid: '',
      handleResult: 1,
    };
    for (const viewer of [owner!, manager!]) {
      const list = await viewer.client.get('/v1/social/group/putIns', { query: { groupId } });
      expect(list.status).toBe(200);
      expect(list.body.data.list).toEqual([expected]);
    }
    for (const outsider of [member!, applicant!]) {
      const list = await outsider.client.get('/v1/social/group/putIns', { query: { groupId } });
      expect(list.status).toBe(403);
      expect(list.body.code).toBe(300103);
    }

    // An ordinary member cannot handle it; nor can the applicant accept it.
    for (const who of [member!, applicant!]) {
      const res = await handle(who, groupId, reqId, 2);
      expect(res.status).toBe(403);
      expect(res.body.code).toBe(300103);
    }
    expect(await memberIds(owner!, groupId)).not.toContain(applicant!.id);

    const accepted = await handle(manager!, groupId, reqId, 2);
    expect(accepted.status).toBe(200);
    expect(await memberIds(owner!, groupId)).toContain(applicant!.id);
    const again = await handle(owner!, groupId, reqId, 3);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe(300007);
    expect(
      (await owner!.client.get('/v1/social/group/putIns', { query: { groupId } })).body.data.list,
    ).toEqual([]);

    const events = await groupEvents(groupId);
    expect(events.filter((e) => e.type.startsWith('group_request')).map((e) => e.payload)).toEqual([
      { requestId: reqId, groupId, reqId: applicant!.id, joinSource: 2, reqMsg: 'let me in' },
      {
        requestId: reqId,
        groupId,
        reqId: applicant!.id,
        handleResult: 2,
        handleUid: manager!.id,
      },
    ]);
    expect(events.filter((e) => e.type === 'group_member-joined').at(-1)!.payload).toEqual({
      groupId,
      userId: applicant!.id,
      roleLevel: 3,
      joinSource: 2,
      operatorUid: manager!.id,
    });
  });

  it('turns an ordinary member’s invitation into a request and records the inviter', async () => {
    const [owner, member, invitee] = await users(3);
    const groupId = await createGroup(owner!, { isVerify: true });
    await invite(owner!, groupId, member!);
    const invited = await invite(member!, groupId, invitee!);
    expect(invited.body.data).toEqual({ id: expect.any(String), joined: false });
    const [request] = (await owner!.client.get('/v1/social/group/putIns', { query: { groupId } }))
      .body.data.list;
    expect(request).toMatchObject({ reqId: invitee!.id, joinSource: 1, inviterUid: member!.id });
    expect((await handle(owner!, groupId, request.id, 2)).status).toBe(200);
    const joined = (await groupEvents(groupId)).filter((e) => e.type === 'group_member-joined');
    expect(joined.at(-1)!.payload).toEqual({
      groupId,
      userId: invitee!.id,
      roleLevel: 3,
      joinSource: 1,
      inviterUid: member!.id,
      operatorUid: owner!.id,
    });
    // In an unverified group any member's invitation joins at once.
    const open = await createGroup(owner!);
    await joinGroup(member!, open);
    expect((await invite(member!, open, invitee!)).body.data).toEqual({ joined: true });
  });

  it('answers a pending application when a manager invites the applicant', async () => {
    const [owner, applicant] = await users(2);
    const groupId = await createGroup(owner!, { isVerify: true });
    const reqId = (await apply(applicant!, groupId)).body.data.id;
    expect((await invite(owner!, groupId, applicant!)).body.data).toEqual({ joined: true });
    const row = await t.app.storage.db
      .selectFrom('groupRequests')
      .select(['handleResult', 'handleUid'])
      .where('id', '=', reqId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ handleResult: 2, handleUid: owner!.id });
  });

  it('refuses, and lets the applicant or the inviter cancel', async () => {
    const [owner, member, applicant, stranger] = await users(4);
    const groupId = await createGroup(owner!, { isVerify: true });
    await invite(owner!, groupId, member!);

    const refusedId = (await apply(applicant!, groupId)).body.data.id;
    expect((await handle(owner!, groupId, refusedId, 3)).status).toBe(200);
    expect(await memberIds(owner!, groupId)).not.toContain(applicant!.id);

    const ownId = (await apply(applicant!, groupId)).body.data.id;
    expect(ownId).not.toBe(refusedId);
    const byStranger = await handle(stranger!, groupId, ownId, 4);
    expect(byStranger.status).toBe(403);
    expect(byStranger.body.code).toBe(300106);
    expect((await handle(applicant!, groupId, ownId, 4)).status).toBe(200);

    const invitedId = (await invite(member!, groupId, applicant!)).body.data.id;
    expect((await handle(member!, groupId, invitedId, 4)).status).toBe(200);
    expect(
      (await owner!.client.get('/v1/social/group/putIns', { query: { groupId } })).body.data.list,
    ).toEqual([]);
  });

  it('checks invitations and request ids', async () => {
    const [owner, outsider, other] = await users(3);
    const groupId = await createGroup(owner!);
    const byOutsider = await invite(outsider!, groupId, other!);
    expect(byOutsider.status).toBe(403);
    expect(byOutsider.body.code).toBe(300102);
    const unknownUser = await putIn(owner!, { groupId, joinSource: 1, reqId: UNKNOWN_ID });
    expect(unknownUser.status).toBe(404);
    expect(unknownUser.body.code).toBe(300002);
    const noInvitee = await putIn(owner!, { groupId, joinSource: 1 });
    expect(noInvitee.status).toBe(400);
    expect(noInvitee.body.code).toBe(300111);
    const inviteSelf = await invite(owner!, groupId, owner!);
    expect(inviteSelf.status).toBe(400);
    expect(inviteSelf.body.code).toBe(300112);
    const applyForOther = await putIn(outsider!, { groupId, joinSource: 2, reqId: other!.id });
    expect(applyForOther.status).toBe(400);
    expect(applyForOther.body.code).toBe(100002);
    const noGroup = await apply(outsider!, UNKNOWN_ID);
    expect(noGroup.status).toBe(404);
    expect(noGroup.body.code).toBe(300101);

    const verified = await createGroup(owner!, { isVerify: true });
    const reqId = (await apply(outsider!, verified)).body.data.id;
    const wrongGroup = await handle(owner!, groupId, reqId, 2);
    expect(wrongGroup.status).toBe(404);
    expect(wrongGroup.body.code).toBe(300105);
    const unknownRequest = await handle(owner!, verified, UNKNOWN_ID, 2);
    expect(unknownRequest.status).toBe(404);
    expect(unknownRequest.body.code).toBe(300105);
  });

  it('shows members to members only, a page at a time in join order', async () => {
    // Created one after another: ids ascend, so members who join within the same
    // millisecond still come back in this order (ties break by id).
    const created: RegisteredUser[] = [];
    for (let i = 0; i < 6; i += 1) created.push(await createUser(t.client));
    const [owner, ...joiners] = created;
    const outsider = await createUser(t.client);
    const groupId = await createGroup(owner!);
    for (const u of joiners) await joinGroup(u, groupId);

    const seen: string[] = [];
    let cursor: string | undefined;
    const pageSizes: number[] = [];
    for (;;) {
      const res = await joiners[0]!.client.get('/v1/social/group/users', {
        query: { groupId, limit: 4, cursor },
      });
      expect(res.status).toBe(200);
      pageSizes.push(res.body.data.list.length);
      seen.push(...res.body.data.list.map((m: { userId: string }) => m.userId));
      cursor = res.body.data.nextCursor ?? undefined;
      if (!cursor) break;
    }
    expect(pageSizes).toEqual([4, 2]);
    expect(seen).toEqual([owner!.id, ...joiners.map((u) => u.id)]);

    const denied = await outsider.client.get('/v1/social/group/users', { query: { groupId } });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      code: 300102,
      msg: 'you are not a member of this group',
      data: null,
    });
    const badCursor = await owner!.client.get('/v1/social/group/users', {
      query: { groupId, cursor: 'not-a-cursor' },
    });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.code).toBe(100002);
    const tooMany = await owner!.client.get('/v1/social/group/users', {
      query: { groupId, limit: 1001 },
    });
    expect(tooMany.status).toBe(400);
    const missing = await owner!.client.get('/v1/social/group/users', {
      query: { groupId: UNKNOWN_ID },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe(300101);
  });

  it('lists online members to members only', async () => {
    const [owner, online, offline, outsider] = await users(4);
    const groupId = await createGroup(owner!);
    await joinGroup(online!, groupId);
    await joinGroup(offline!, groupId);
    await t.app.presence.connected(online!.id, 'conn-1');
    await t.app.presence.connected(outsider!.id, 'conn-2');
    const res = await owner!.client.get('/v1/social/group/users/online', { query: { groupId } });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ onlineList: { [online!.id]: true } });
    const denied = await outsider!.client.get('/v1/social/group/users/online', {
      query: { groupId },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe(300102);
  });
});

describe.each(STORAGES)('group member limit on %s', (storage) => {
  const { t } = suiteApp({ storage, overrides: { social: { groupMemberLimit: 3 } } });

  it('refuses joins and acceptances beyond the limit; a leave makes room', async () => {
    const [owner, a, b, c] = await Promise.all(
      Array.from({ length: 4 }, () => createUser(t.client)),
    );
    const groupId = await createGroup(owner!);
    await joinGroup(a!, groupId);
    await joinGroup(b!, groupId);
    const full = await c!.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 });
    expect(full.status).toBe(409);
    expect(full.body.code).toBe(300107);

    const verified = await createGroup(owner!, { isVerify: true });
    await owner!.client.post('/v1/social/group/putIn', {
      groupId: verified,
      joinSource: 1,
      reqId: a!.id,
    });
    await owner!.client.post('/v1/social/group/putIn', {
      groupId: verified,
      joinSource: 1,
      reqId: b!.id,
    });
    const reqId = (
      await c!.client.post('/v1/social/group/putIn', { groupId: verified, joinSource: 2 })
    ).body.data.id;
    const accept = await owner!.client.put('/v1/social/group/putIn', {
      groupReqId: reqId,
      groupId: verified,
      handleResult: 2,
    });
    expect(accept.status).toBe(409);
    expect(accept.body.code).toBe(300107);
    // The request stays pending and can be accepted once there is room.
    expect((await b!.client.post('/v1/social/group/quit', { groupId: verified })).status).toBe(200);
    const retry = await owner!.client.put('/v1/social/group/putIn', {
      groupReqId: reqId,
      groupId: verified,
      handleResult: 2,
    });
    expect(retry.status).toBe(200);
    const count = await t.app.storage.db
      .selectFrom('groupMembers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('groupId', '=', verified)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(3);
  });
});
