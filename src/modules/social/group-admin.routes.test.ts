import { describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { createGroup, joinGroup } from '../../../test/support/social.js';
import { publishedEvents } from '../../../test/support/published-events.js';
import { suiteApp } from '../../../test/support/suite-app.js';

describe.each(STORAGES)('group administration on %s', (storage) => {
  const { t } = suiteApp({ storage });

  const users = (n: number) => Promise.all(Array.from({ length: n }, () => createUser(t.client)));
  /** A group with an owner, one manager and two ordinary members. */
  async function staffedGroup(isVerify = false) {
    const [owner, manager, m1, m2] = await users(4);
    const groupId = await createGroup(owner!, { isVerify });
    for (const u of [manager!, m1!, m2!]) {
      await owner!.client.post('/v1/social/group/putIn', { groupId, joinSource: 1, reqId: u.id });
    }
    const promoted = await setRole(owner!, groupId, manager!, 2);
    expect(promoted.status).toBe(200);
    return { groupId, owner: owner!, manager: manager!, m1: m1!, m2: m2! };
  }
  const setRole = (
    who: RegisteredUser,
    groupId: string,
    target: RegisteredUser,
    roleLevel: number,
  ) => who.client.put('/v1/social/group/member', { groupId, userId: target.id, roleLevel });
  const remove = (who: RegisteredUser, groupId: string, target: RegisteredUser) =>
    who.client.delete('/v1/social/group/member', { query: { groupId, userId: target.id } });
  const roles = async (viewer: RegisteredUser, groupId: string) => {
    const res = await viewer.client.get('/v1/social/group/users', { query: { groupId } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return Object.fromEntries(
      (res.body.data.list as Array<{ userId: string; roleLevel: number }>).map((m) => [
        m.userId,
        m.roleLevel,
      ]),
    );
  };
  const groupEvents = async (groupId: string, ...types: string[]) =>
    (await publishedEvents(t.app, ...types)).filter((e) => e.partitionKey === groupId);
  const expectError = (
    res: { status: number; body: { code: number } },
    status: number,
    code: number,
  ) => {
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
  };

  it('lets a member quit, but not the creator', async () => {
    const { groupId, owner, m1 } = await staffedGroup();
    expect((await m1.client.post('/v1/social/group/quit', { groupId })).status).toBe(200);
    expect(await roles(owner, groupId)).not.toHaveProperty(m1.id);
    expect((await m1.client.get('/v1/social/groups')).body.data.list).toEqual([]);
    expectError(await m1.client.post('/v1/social/group/quit', { groupId }), 403, 300102);
    expectError(await owner.client.post('/v1/social/group/quit', { groupId }), 409, 300108);
    expect((await groupEvents(groupId, 'group_member-left')).map((e) => e.payload)).toEqual([
      { groupId, userId: m1.id },
    ]);
    const [group] = (await owner.client.get('/v1/social/groups')).body.data.list;
    expect(group.memberCount).toBe(3);
  });

  it('lets only the creator set roles; managers then handle requests', async () => {
    const { groupId, owner, manager, m1, m2 } = await staffedGroup(true);
    expect(await roles(owner, groupId)).toEqual({
      [owner.id]: 1,
      [manager.id]: 2,
      [m1.id]: 3,
      [m2.id]: 3,
    });
    expectError(await setRole(manager, groupId, m1, 2), 403, 300104);
    expectError(await setRole(m1, groupId, m2, 2), 403, 300104);
    expectError(await setRole(owner, groupId, owner, 2), 400, 300112);
    const outsider = await createUser(t.client);
    expectError(await setRole(owner, groupId, outsider, 2), 404, 300109);

    const applicant = await createUser(t.client);
    const reqId = (
      await applicant.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 })
    ).body.data.id;
    expect(
      (
        await manager.client.put('/v1/social/group/putIn', {
          groupReqId: reqId,
          groupId,
          handleResult: 2,
        })
      ).status,
    ).toBe(200);

    // Demoted, the manager loses those rights at once.
    expect((await setRole(owner, groupId, manager, 3)).status).toBe(200);
    const list = await manager.client.get('/v1/social/group/putIns', { query: { groupId } });
    expectError(list, 403, 300103);
    // Setting the role someone already has records nothing.
    expect((await setRole(owner, groupId, manager, 3)).status).toBe(200);
    const changes = await groupEvents(groupId, 'group_member-role_changed');
    expect(changes.map((e) => e.payload)).toEqual([
      { groupId, userId: manager.id, oldRoleLevel: 3, roleLevel: 2, operatorUid: owner.id },
      { groupId, userId: manager.id, oldRoleLevel: 2, roleLevel: 3, operatorUid: owner.id },
    ]);
  });

  it('transfers ownership: the new creator rules, the former one becomes a manager', async () => {
    const { groupId, owner, m1 } = await staffedGroup();
    expect((await setRole(owner, groupId, m1, 1)).status).toBe(200);
    expect(await roles(owner, groupId)).toMatchObject({ [owner.id]: 2, [m1.id]: 1 });
    const [group] = (await m1.client.get('/v1/social/groups')).body.data.list;
    expect(group.creatorUid).toBe(m1.id);
    const creators = await t.app.storage.db
      .selectFrom('groupMembers')
      .select('userId')
      .where('groupId', '=', groupId)
      .where('roleLevel', '=', 1)
      .execute();
    expect(creators).toEqual([{ userId: m1.id }]);

    expectError(await setRole(owner, groupId, m1, 3), 403, 300104);
    expectError(await owner.client.delete('/v1/social/group', { query: { groupId } }), 403, 300104);
    expect((await owner.client.post('/v1/social/group/quit', { groupId })).status).toBe(200);
    expect((await groupEvents(groupId, 'group-owner_transferred')).map((e) => e.payload)).toEqual([
      { groupId, fromUid: owner.id, toUid: m1.id, fromRoleLevel: 2 },
    ]);
  });

  it('lets the creator remove anyone but themself and managers only ordinary members', async () => {
    const { groupId, owner, manager, m1, m2 } = await staffedGroup();
    const manager2 = await createUser(t.client);
    await joinGroup(manager2, groupId);
    await setRole(owner, groupId, manager2, 2);

    expectError(await remove(m1, groupId, m2), 403, 300103);
    expectError(await remove(manager, groupId, manager2), 403, 300110);
    expectError(await remove(manager, groupId, owner), 403, 300110);
    expectError(await remove(owner, groupId, owner), 400, 300112);
    const outsider = await createUser(t.client);
    expectError(await remove(owner, groupId, outsider), 404, 300109);
    expectError(await remove(outsider, groupId, m1), 403, 300103);

    expect((await remove(manager, groupId, m1)).status).toBe(200);
    expect((await remove(owner, groupId, manager2)).status).toBe(200);
    expect(Object.keys(await roles(owner, groupId)).sort()).toEqual(
      [owner.id, manager.id, m2.id].sort(),
    );
    // A removed member is an outsider now.
    expectError(await m1.client.get('/v1/social/group/users', { query: { groupId } }), 403, 300102);
    expect((await groupEvents(groupId, 'group_member-removed')).map((e) => e.payload)).toEqual([
      { groupId, userId: m1.id, roleLevel: 3, operatorUid: manager.id },
      { groupId, userId: manager2.id, roleLevel: 2, operatorUid: owner.id },
    ]);
  });

  it('lets the creator dismiss the group, ending memberships and pending requests', async () => {
    const { groupId, owner, manager, m1, m2 } = await staffedGroup(true);
    const applicant = await createUser(t.client);
    const reqId = (
      await applicant.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 })
    ).body.data.id;

    expectError(
      await manager.client.delete('/v1/social/group', { query: { groupId } }),
      403,
      300104,
    );
    expectError(await m1.client.delete('/v1/social/group', { query: { groupId } }), 403, 300104);
    expect((await owner.client.delete('/v1/social/group', { query: { groupId } })).status).toBe(
      200,
    );

    for (const u of [owner, manager, m1, m2]) {
      expect((await u.client.get('/v1/social/groups')).body.data.list).toEqual([]);
    }
    expectError(
      await owner.client.get('/v1/social/group/users', { query: { groupId } }),
      404,
      300101,
    );
    expectError(
      await applicant.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 }),
      404,
      300101,
    );
    expectError(await owner.client.delete('/v1/social/group', { query: { groupId } }), 404, 300101);
    const request = await t.app.storage.db
      .selectFrom('groupRequests')
      .select('handleResult')
      .where('id', '=', reqId)
      .executeTakeFirstOrThrow();
    expect(request.handleResult).toBe(4);
    const memberRows = await t.app.storage.db
      .selectFrom('groupMembers')
      .select('userId')
      .where('groupId', '=', groupId)
      .execute();
    expect(memberRows).toEqual([]);

    const [dismissed] = await groupEvents(groupId, 'group-dismissed');
    expect(dismissed!.payload).toEqual({
      groupId,
      operatorUid: owner.id,
      memberIds: [owner.id, manager.id, m1.id, m2.id].sort(),
    });
  });
});
