/**
 * The SDK's calls for issue 16's social and group controls against a real server
 * (the ones the web app uses): block list, friend remark, group info, group-wide
 * and per-member mute, roles, kick, invite, change password and delete account —
 * and `groupNotice` reading the notices (mType 10) those changes post.
 */
import {
  ApiError,
  ChatClient,
  ChatType,
  groupNotice,
  MessageType,
  type Message,
} from '@easy-chat/sdk';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../support/backends.js';
import { createUser, type RegisteredUser } from '../support/factories.js';
import { sdkClient } from '../support/sdk.js';
import { befriend, createGroupWith } from '../support/social.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe.each(STORAGES)('SDK social and group controls against a real server on %s', (storage) => {
  let t: TestApp;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({ storage });
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await t.close();
  });

  async function open(user: RegisteredUser) {
    const opened = await sdkClient(t.url, user, { WebSocket });
    clients.push(opened.client);
    return opened;
  }
  const users = (...names: string[]) =>
    Promise.all(names.map((nickname) => createUser(t.client, { nickname })));
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => 'resolved',
      (e: unknown) => (e instanceof ApiError ? e.code : String(e)),
    );

  it('block, list, unblock: a blocked user’s message is refused with its code', async () => {
    const [amy, bo] = await users('amy', 'bo');
    await befriend(amy!, bo!);
    const a = await open(amy!);
    const b = await open(bo!);
    await a.client.api.block(bo!.id);
    expect((await a.client.api.blacklist()).map((u) => [u.userId, u.nickname])).toEqual([
      [bo!.id, 'bo'],
    ]);
    const refused = await codeOf(
      b.client.send({ chatType: ChatType.single, recvId: amy!.id, content: 'hello?' }),
    );
    expect(refused).toBe(400201);
    await a.client.api.unblock(bo!.id);
    expect(await a.client.api.blacklist()).toEqual([]);
    expect(await codeOf(a.client.api.unblock(bo!.id))).toBe(300203);
    await b.client.send({ chatType: ChatType.single, recvId: amy!.id, content: 'hello!' });
  });

  it('a remark is mine only and shows in my friends list', async () => {
    const [cy, di] = await users('cy', 'di');
    await befriend(cy!, di!);
    const c = await open(cy!);
    const d = await open(di!);
    await c.client.api.setFriendRemark({ friendUid: di!.id, remark: 'Di from work' });
    expect((await c.client.api.friends())[0]).toMatchObject({
      nickname: 'di',
      remark: 'Di from work',
    });
    expect((await d.client.api.friends())[0]).toMatchObject({ nickname: 'cy', remark: '' });
    await c.client.api.setFriendRemark({ friendUid: di!.id, remark: '' });
    expect((await c.client.api.friends())[0]!.remark).toBe('');
  });

  it('group info, mute, roles, kick and invite, each read back as a notice by groupNotice', async () => {
    const [owner, mia, ned, ola] = await users('owner', 'mia', 'ned', 'ola');
    const groupId = await createGroupWith(owner!, [mia!, ned!]);
    await befriend(owner!, ola!);
    const o = await open(owner!);
    const m = await open(mia!);

    await o.client.api.updateGroup({ groupId, name: 'Renamed', notification: 'Be kind' });
    const group = (await m.client.api.groups()).find((g) => g.id === groupId)!;
    expect(group).toMatchObject({ name: 'Renamed', notification: 'Be kind', muted: false });

    await o.client.api.setRole({ groupId, userId: mia!.id, roleLevel: 2 });
    await o.client.api.muteGroup(groupId, true);
    expect((await m.client.api.groups()).find((g) => g.id === groupId)!.muted).toBe(true);
    // A manager still posts in a muted group; an ordinary member is refused.
    await m.client.send({ chatType: ChatType.group, recvId: groupId, content: 'managers only' });
    const n = await open(ned!);
    expect(
      await codeOf(n.client.send({ chatType: ChatType.group, recvId: groupId, content: 'x' })),
    ).toBe(400202);
    await o.client.api.muteGroup(groupId, false);
    const { mutedUntil } = await o.client.api.muteMember({
      groupId,
      userId: ned!.id,
      seconds: 600,
    });
    expect(mutedUntil).toBeGreaterThan(Date.now());
    expect(
      await codeOf(n.client.send({ chatType: ChatType.group, recvId: groupId, content: 'x' })),
    ).toBe(400203);
    expect(
      (await o.client.api.muteMember({ groupId, userId: ned!.id, seconds: 0 })).mutedUntil,
    ).toBe(0);
    await n.client.send({ chatType: ChatType.group, recvId: groupId, content: 'back' });

    // Not a manager: refused with the social module's code.
    expect(await codeOf(n.client.api.muteGroup(groupId, true))).toBe(300103);

    expect(await o.client.api.joinGroup({ groupId, joinSource: 1, reqId: ola!.id })).toMatchObject({
      joined: true,
    });
    await o.client.api.removeMember(groupId, ned!.id);
    const members = await o.client.api.members({ groupId });
    expect(members.list.map((x) => x.nickname).sort()).toEqual(['mia', 'ola', 'owner']);

    const log = await o.client.api.chatLog({ conversationId: groupId, count: 50 });
    const notices = log
      .filter((x: Message) => x.mType === MessageType.notice)
      .map((x) => groupNotice(x))
      .reverse();
    expect(notices).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'group.updated', operatorId: owner!.id, name: 'Renamed' }),
        expect.objectContaining({ type: 'group.muted', muted: true }),
        expect.objectContaining({ type: 'member.muted', userId: ned!.id }),
      ]),
    );
    expect(groupNotice(log.find((x) => x.mType === MessageType.text)!)).toBeUndefined();
  });

  it('groupNotice keeps unknown types and refuses what is not a notice', () => {
    const notice = (content: string) => groupNotice({ mType: MessageType.notice, content });
    expect(notice('{"type":"group.renamed.v2","operatorId":"u1","x":1}')).toEqual({
      type: 'group.renamed.v2',
      operatorId: 'u1',
      x: 1,
    });
    expect(notice('{"type":"member.left"}')).toEqual({ type: 'member.left', operatorId: '' });
    expect(notice('not json')).toBeUndefined();
    expect(notice('[1]')).toBeUndefined();
    expect(notice('null')).toBeUndefined();
    expect(notice('')).toBeUndefined();
    expect(groupNotice({ mType: MessageType.text, content: '{"type":"member.left"}' })).toBe(
      undefined,
    );
  });

  it('a changed password gives this client a working token; deleting the account ends it', async () => {
    const [pat] = await users('pat');
    const client = new ChatClient({ baseUrl: t.url, WebSocket });
    await client.api.login({ phone: pat!.phone, password: pat!.password });
    const old = client.token;
    expect(
      await codeOf(
        client.api.changePassword({ oldPassword: 'wrong-one-1', newPassword: 'n3w-pass-word' }),
      ),
    ).toBe(200011);
    const { token } = await client.api.changePassword({
      oldPassword: pat!.password,
      newPassword: 'n3w-pass-word',
    });
    expect(token).not.toBe(old);
    expect(client.token).toBe(token);
    expect((await client.api.me()).id).toBe(pat!.id);
    const again = new ChatClient({ baseUrl: t.url, WebSocket });
    await again.api.login({ phone: pat!.phone, password: 'n3w-pass-word' });

    await client.api.deleteAccount('n3w-pass-word');
    expect(client.token).toBeNull();
    expect(
      await codeOf(
        new ChatClient({ baseUrl: t.url, WebSocket }).api.login({
          phone: pat!.phone,
          password: 'n3w-pass-word',
        }),
      ),
    ).toBe(200002);
  });
});
