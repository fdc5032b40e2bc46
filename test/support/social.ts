import { expect } from 'vitest';
import type { RegisteredUser } from './factories.js';

/** Makes two users friends over HTTP: a asks, b accepts. */
export async function befriend(a: RegisteredUser, b: RegisteredUser): Promise<void> {
  const asked = await a.client.post('/v1/social/friend/putIn', { userId: b.id });
  expect(asked.status, JSON.stringify(asked.body)).toBe(200);
  const accepted = await b.client.put('/v1/social/friend/putIn', {
    friendReqId: asked.body.data.id,
    handleResult: 2,
  });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
}

/** Creates a group over HTTP and returns its id. */
export async function createGroup(
  owner: RegisteredUser,
  body: { name?: string; icon?: string; isVerify?: boolean } = {},
): Promise<string> {
  const res = await owner.client.post('/v1/social/group', { name: 'group', ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data.id as string;
}

/** Joins a group that needs no verification, by applying. */
export async function joinGroup(user: RegisteredUser, groupId: string): Promise<void> {
  const res = await user.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.data.joined).toBe(true);
}

/** Creates an open group owned by `owner` with `members` joined; returns its id. */
export async function createGroupWith(
  owner: RegisteredUser,
  members: RegisteredUser[],
  body: { name?: string } = {},
): Promise<string> {
  const groupId = await createGroup(owner, body);
  for (const member of members) await joinGroup(member, groupId);
  return groupId;
}
