import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { befriend, createGroup, joinGroup } from '../../../test/support/social.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';
import type { SocialDirectory } from './social-directory.js';

describe.each(STORAGES)('SocialDirectory on %s', (storage) => {
  let t: TestApp;
  let dir: SocialDirectory;
  beforeAll(async () => {
    t = await startTestApp({ storage });
    dir = t.app.services.socialDirectory;
  });
  afterAll(async () => {
    await t.close();
  });

  const users = (n: number) => Promise.all(Array.from({ length: n }, () => createUser(t.client)));

  it('answers friendship both ways and forgets it after deletion', async () => {
    const [a, b, c] = await users(3);
    await befriend(a!, b!);
    expect(await dir.areFriends(a!.id, b!.id)).toBe(true);
    expect(await dir.areFriends(b!.id, a!.id)).toBe(true);
    expect(await dir.areFriends(a!.id, c!.id)).toBe(false);
    // A pending request is not a friendship.
    await a!.client.post('/v1/social/friend/putIn', { userId: c!.id });
    expect(await dir.areFriends(a!.id, c!.id)).toBe(false);
    expect(await dir.friendIds(a!.id)).toEqual([b!.id]);
    await b!.client.delete('/v1/social/friend', { query: { friendUid: a!.id } });
    expect(await dir.areFriends(a!.id, b!.id)).toBe(false);
    expect(await dir.friendIds(a!.id)).toEqual([]);
  });

  it('reports membership with the role, existence, and member ids in batches', async () => {
    const created: RegisteredUser[] = await users(7);
    const [owner, ...rest] = created;
    const groupId = await createGroup(owner!);
    for (const u of rest) await joinGroup(u, groupId);
    await owner!.client.put('/v1/social/group/member', {
      groupId,
      userId: rest[0]!.id,
      roleLevel: 2,
    });
    const outsider = await createUser(t.client);

    expect(await dir.groupExists(groupId)).toBe(true);
    expect(await dir.groupExists('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(false);
    expect(await dir.membership(groupId, owner!.id)).toEqual({ roleLevel: 1 });
    expect(await dir.membership(groupId, rest[0]!.id)).toEqual({ roleLevel: 2 });
    expect(await dir.membership(groupId, rest[1]!.id)).toEqual({ roleLevel: 3 });
    expect(await dir.membership(groupId, outsider.id)).toBeUndefined();

    const batches: string[][] = [];
    let after: string | undefined;
    for (;;) {
      const batch = await dir.memberIds(groupId, { after, limit: 3 });
      if (batch.length === 0) break;
      batches.push(batch);
      after = batch.at(-1);
    }
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(batches.flat()).toEqual(created.map((u) => u.id).sort());

    await owner!.client.delete('/v1/social/group', { query: { groupId } });
    expect(await dir.groupExists(groupId)).toBe(false);
    expect(await dir.membership(groupId, owner!.id)).toBeUndefined();
    expect(await dir.memberIds(groupId, { limit: 10 })).toEqual([]);
  });
});
