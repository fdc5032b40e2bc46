import { describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { createGroup } from '../../../test/support/social.js';
import { publishedEvents } from '../../../test/support/published-events.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import { pairKey } from './social.entity.js';

const PARALLEL = 10;

/**
 * Races that the Go system lost: the same call many times at once must leave
 * exactly one row, and a request must be handled exactly once. On PostgreSQL
 * these run truly concurrently (a pool of connections); on SQLite they queue
 * on the one connection, which must give the same answers.
 */
describe.each(STORAGES)('social concurrency on %s', (storage) => {
  const { t } = suiteApp({ storage, overrides: { social: { groupMemberLimit: 6 } } });

  const db = () => t.app.storage.db;
  const users = (n: number) => Promise.all(Array.from({ length: n }, () => createUser(t.client)));
  const times = <T>(n: number, fn: (i: number) => Promise<T>) =>
    Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
  const statuses = (answers: Array<{ status: number }>) =>
    answers.map((a) => a.status).sort((a, b) => a - b);
  const friendRows = async (a: string, b: string) =>
    db()
      .selectFrom('friends')
      .selectAll()
      .where('userId', 'in', [a, b])
      .where('friendUid', 'in', [a, b])
      .execute();
  const requestRows = (a: string, b: string) =>
    db()
      .selectFrom('friendRequests')
      .select(['id', 'reqUid', 'handleResult'])
      .where('pairKey', '=', pairKey(a, b))
      .execute();
  const eventsOf = async (key: string, type: string) =>
    (await publishedEvents(t.app, type)).filter((e) => e.partitionKey === key);
  const members = (groupId: string) =>
    db().selectFrom('groupMembers').select('userId').where('groupId', '=', groupId).execute();
  const memberCount = async (groupId: string) =>
    (
      await db()
        .selectFrom('groups')
        .select('memberCount')
        .where('id', '=', groupId)
        .executeTakeFirstOrThrow()
    ).memberCount;

  it('parallel identical friend requests store one request and answer its id', async () => {
    const [a, b] = await users(2);
    const answers = await times(PARALLEL, () =>
      a!.client.post('/v1/social/friend/putIn', { userId: b!.id }),
    );
    expect(statuses(answers)).toEqual(Array(PARALLEL).fill(200));
    const rows = await requestRows(a!.id, b!.id);
    expect(rows).toHaveLength(1);
    expect(new Set(answers.map((r) => r.body.data.id))).toEqual(new Set([rows[0]!.id]));
    expect(await eventsOf(pairKey(a!.id, b!.id), 'friend_request-created')).toHaveLength(1);
  });

  it('crossed friend requests make one friendship from one request', async () => {
    const [a, b] = await users(2);
    const answers = await times(PARALLEL, (i) =>
      i % 2 === 0
        ? a!.client.post('/v1/social/friend/putIn', { userId: b!.id })
        : b!.client.post('/v1/social/friend/putIn', { userId: a!.id }),
    );
    // Calls after the friendship exists are told so (409); none fail otherwise.
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    expect(answers.some((r) => r.body.data?.handleResult === 2)).toBe(true);
    expect(await friendRows(a!.id, b!.id)).toHaveLength(2);
    const requests = await requestRows(a!.id, b!.id);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.handleResult).toBe(2);
    expect(await eventsOf(pairKey(a!.id, b!.id), 'friend-added')).toHaveLength(1);
  });

  it('parallel acceptances of one friend request succeed once', async () => {
    const [a, b] = await users(2);
    const id = (await a!.client.post('/v1/social/friend/putIn', { userId: b!.id })).body.data.id;
    const answers = await times(PARALLEL, () =>
      b!.client.put('/v1/social/friend/putIn', { friendReqId: id, handleResult: 2 }),
    );
    expect(statuses(answers)).toEqual([200, ...Array(PARALLEL - 1).fill(409)]);
    for (const r of answers.filter((x) => x.status === 409)) expect(r.body.code).toBe(300007);
    expect(await friendRows(a!.id, b!.id)).toHaveLength(2);
    const key = pairKey(a!.id, b!.id);
    expect(await eventsOf(key, 'friend_request-handled')).toHaveLength(1);
    expect(await eventsOf(key, 'friend-added')).toHaveLength(1);
  });

  it('a racing accept and cancel: exactly one wins', async () => {
    const [a, b] = await users(2);
    const id = (await a!.client.post('/v1/social/friend/putIn', { userId: b!.id })).body.data.id;
    const answers = await times(PARALLEL, (i) =>
      i % 2 === 0
        ? b!.client.put('/v1/social/friend/putIn', { friendReqId: id, handleResult: 2 })
        : a!.client.put('/v1/social/friend/putIn', { friendReqId: id, handleResult: 4 }),
    );
    expect(statuses(answers)).toEqual([200, ...Array(PARALLEL - 1).fill(409)]);
    const [row] = await requestRows(a!.id, b!.id);
    expect(await friendRows(a!.id, b!.id)).toHaveLength(row!.handleResult === 2 ? 2 : 0);
  });

  it('parallel joins of one user leave one membership', async () => {
    const [owner, user] = await users(2);
    const groupId = await createGroup(owner!);
    const answers = await times(PARALLEL, () =>
      user!.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 }),
    );
    expect(statuses(answers)).toEqual(Array(PARALLEL).fill(200));
    for (const r of answers) expect(r.body.data).toEqual({ joined: true });
    expect(await members(groupId)).toHaveLength(2);
    expect(await memberCount(groupId)).toBe(2);
    expect(await eventsOf(groupId, 'group_member-joined')).toHaveLength(2);
  });

  it('parallel joins of many users stop exactly at the member limit', async () => {
    const owner = await createUser(t.client);
    const joiners = await users(PARALLEL);
    const groupId = await createGroup(owner);
    const answers = await Promise.all(
      joiners.map((u: RegisteredUser) =>
        u.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 }),
      ),
    );
    expect(statuses(answers)).toEqual([...Array(5).fill(200), ...Array(PARALLEL - 5).fill(409)]);
    expect(await members(groupId)).toHaveLength(6);
    expect(await memberCount(groupId)).toBe(6);
  });

  it('parallel applications to a verified group leave one pending request', async () => {
    const [owner, user] = await users(2);
    const groupId = await createGroup(owner!, { isVerify: true });
    const answers = await times(PARALLEL, () =>
      user!.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 }),
    );
    expect(statuses(answers)).toEqual(Array(PARALLEL).fill(200));
    const rows = await db()
      .selectFrom('groupRequests')
      .select('id')
      .where('groupId', '=', groupId)
      .execute();
    expect(rows).toHaveLength(1);
    for (const r of answers) expect(r.body.data).toEqual({ id: rows[0]!.id, joined: false });
  });

  it('parallel acceptances of one join request add the member once', async () => {
    const [owner, manager, user] = await users(3);
    const groupId = await createGroup(owner!, { isVerify: true });
    await owner!.client.post('/v1/social/group/putIn', {
      groupId,
      joinSource: 1,
      reqId: manager!.id,
    });
    await owner!.client.put('/v1/social/group/member', {
      groupId,
      userId: manager!.id,
      roleLevel: 2,
    });
    const reqId = (await user!.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 }))
      .body.data.id;
    const answers = await times(PARALLEL, (i) =>
      (i % 2 === 0 ? owner! : manager!).client.put('/v1/social/group/putIn', {
        groupReqId: reqId,
        groupId,
        handleResult: 2,
      }),
    );
    expect(statuses(answers)).toEqual([200, ...Array(PARALLEL - 1).fill(409)]);
    expect(await members(groupId)).toHaveLength(3);
    expect(await memberCount(groupId)).toBe(3);
    expect(await eventsOf(groupId, 'group_request-handled')).toHaveLength(1);
  });

  it('parallel ownership transfers leave exactly one creator', async () => {
    const owner = await createUser(t.client);
    const candidates = await users(4);
    const groupId = await createGroup(owner);
    for (const c of candidates) {
      await owner.client.post('/v1/social/group/putIn', { groupId, joinSource: 1, reqId: c.id });
    }
    const answers = await Promise.all(
      candidates.map((c) =>
        owner.client.put('/v1/social/group/member', { groupId, userId: c.id, roleLevel: 1 }),
      ),
    );
    expect(statuses(answers)).toEqual([200, 403, 403, 403]);
    const creators = await db()
      .selectFrom('groupMembers')
      .select('userId')
      .where('groupId', '=', groupId)
      .where('roleLevel', '=', 1)
      .execute();
    expect(creators).toHaveLength(1);
    const group = await db()
      .selectFrom('groups')
      .select('creatorUid')
      .where('id', '=', groupId)
      .executeTakeFirstOrThrow();
    expect(group.creatorUid).toBe(creators[0]!.userId);
    expect(group.creatorUid).not.toBe(owner.id);
  });
});
