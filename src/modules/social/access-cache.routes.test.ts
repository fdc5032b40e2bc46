/**
 * The social access cache on one process: a usual send reads no friendship,
 * block or post state from the database, and a change made on this process is
 * refused on its very next send, with the same codes as without the cache. The
 * outbox relay is stopped and run by hand before each change, so no invalidation
 * comes through the bus after it: the refusals show the recorder's pin alone
 * (SocialAccessCache.changing).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { befriend, createGroupWith } from '../../../test/support/social.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import type { WsClient } from '../../../test/support/ws-client.js';
import { ImErrors } from '../im/im.errors.js';

describe.each(STORAGES)('social access cache on one process (%s)', (storage) => {
  const { t, connect } = suiteApp({ storage });
  beforeAll(async () => {
    await t.app.events.relay.stop();
  });

  /** The send's outcome: 'ok', or the refusal's error code. */
  async function send(socket: WsClient, chatType: 1 | 2, recvId: string): Promise<number | 'ok'> {
    const frame = await socket.request('conversation.chat', {
      chatType,
      recvId,
      msg: { mType: 0, content: 'hello' },
    });
    return frame.frameType === 2 ? 'ok' : (frame.data as { code: number }).code;
  }
  /**
   * Publishes the outbox as the relay would, so the recorded changes come back
   * committed through the bus and unpin their keys.
   */
  async function relayAll(): Promise<void> {
    while ((await t.app.events.relay.relayOnce()) > 0);
    await new Promise((r) => setTimeout(r, 50));
  }
  const single = (socket: WsClient, to: RegisteredUser) => send(socket, 2, to.id);
  const group = (socket: WsClient, groupId: string) => send(socket, 1, groupId);

  it('reads friendship, block and post state once, then sends from memory', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const groupId = await createGroupWith(alice, [bob]);
    const a = await connect(alice);
    await relayAll();
    const directory = t.app.services.socialDirectory;
    const reads = [
      vi.spyOn(directory, 'areFriends'),
      vi.spyOn(directory, 'isBlocked'),
      vi.spyOn(directory, 'postState'),
    ];
    try {
      expect(await single(a, bob)).toBe('ok');
      expect(await group(a, groupId)).toBe('ok');
      const first = reads.map((r) => r.mock.calls.length);
      expect(first).toEqual([1, 1, 1]);
      for (let i = 0; i < 3; i += 1) {
        expect(await single(a, bob)).toBe('ok');
        expect(await group(a, groupId)).toBe('ok');
      }
      expect(reads.map((r) => r.mock.calls.length)).toEqual(first);
    } finally {
      for (const r of reads) r.mockRestore();
    }
  });

  it('refuses the next message after a block, and takes it after the unblock', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const b = await connect(bob);
    await relayAll();
    expect(await single(b, alice)).toBe('ok');
    expect((await alice.client.post('/v1/social/blacklist', { userId: bob.id })).status).toBe(200);
    expect(await single(b, alice)).toBe(ImErrors.blockedByRecipient.code);
    const unblocked = await alice.client.delete('/v1/social/blacklist', {
      query: { userId: bob.id },
    });
    expect(unblocked.status).toBe(200);
    expect(await single(b, alice)).toBe('ok');
  });

  it('refuses the next message after an unfriend, in both directions', async () => {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const [a, b] = [await connect(alice), await connect(bob)];
    await relayAll();
    expect(await single(a, bob)).toBe('ok');
    expect(await single(b, alice)).toBe('ok');
    const deleted = await alice.client.delete('/v1/social/friend', {
      query: { friendUid: bob.id },
    });
    expect(deleted.status).toBe(200);
    expect(await single(a, bob)).toBe(ImErrors.notFriends.code);
    expect(await single(b, alice)).toBe(ImErrors.notFriends.code);
    await befriend(bob, alice);
    expect(await single(a, bob)).toBe('ok');
  });

  it('refuses the next group message after a kick, a mute, a group mute and a dismissal', async () => {
    const [owner, bob, carol] = [
      await createUser(t.client),
      await createUser(t.client),
      await createUser(t.client),
    ];
    const groupId = await createGroupWith(owner, [bob, carol]);
    const [o, b, c] = [await connect(owner), await connect(bob), await connect(carol)];
    await relayAll();
    for (const socket of [o, b, c]) expect(await group(socket, groupId)).toBe('ok');

    const muted = await owner.client.put('/v1/social/group/member/mute', {
      groupId,
      userId: bob.id,
      seconds: 600,
    });
    expect(muted.status).toBe(200);
    expect(await group(b, groupId)).toBe(ImErrors.memberMuted.code);
    await owner.client.put('/v1/social/group/member/mute', { groupId, userId: bob.id, seconds: 0 });
    expect(await group(b, groupId)).toBe('ok');
    await relayAll();
    expect(await group(b, groupId)).toBe('ok');

    const kicked = await owner.client.delete('/v1/social/group/member', {
      query: { groupId, userId: bob.id },
    });
    expect(kicked.status).toBe(200);
    expect(await group(b, groupId)).toBe(ImErrors.notGroupMember.code);

    expect((await owner.client.put('/v1/social/group/mute', { groupId, muted: true })).status).toBe(
      200,
    );
    expect(await group(c, groupId)).toBe(ImErrors.groupMuted.code);
    // The group-wide mute spares the creator and managers.
    expect(await group(o, groupId)).toBe('ok');
    const promoted = await owner.client.put('/v1/social/group/member', {
      groupId,
      userId: carol.id,
      roleLevel: 2,
    });
    expect(promoted.status).toBe(200);
    expect(await group(c, groupId)).toBe('ok');

    const dismissed = await owner.client.delete('/v1/social/group', { query: { groupId } });
    expect(dismissed.status).toBe(200);
    expect(await group(o, groupId)).toBe(ImErrors.notGroupMember.code);
    expect(await group(c, groupId)).toBe(ImErrors.notGroupMember.code);
  });

  it('lets a new member post at once, and refuses one who quit', async () => {
    const [owner, dave] = [await createUser(t.client), await createUser(t.client)];
    const groupId = await createGroupWith(owner, []);
    const d = await connect(dave);
    await relayAll();
    expect(await group(d, groupId)).toBe(ImErrors.notGroupMember.code);
    const joined = await dave.client.post('/v1/social/group/putIn', { groupId, joinSource: 2 });
    expect(joined.status).toBe(200);
    expect(await group(d, groupId)).toBe('ok');
    await relayAll();
    expect(await group(d, groupId)).toBe('ok');
    expect((await dave.client.post('/v1/social/group/quit', { groupId })).status).toBe(200);
    expect(await group(d, groupId)).toBe(ImErrors.notGroupMember.code);
  });
});
