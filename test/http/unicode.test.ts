/**
 * Text outside the Basic Multilingual Plane (emoji, musical symbols: four bytes in
 * UTF-8) round-trips through every store: MySQL's `utf8` would cut or refuse it, so
 * its tables are utf8mb4. Nicknames, a friend request's message, a group name,
 * message content, a reaction, an edit and the conversation list all come back as sent.
 */
import { describe, expect, it } from 'vitest';
import { STORAGES } from '../support/backends.js';
import { createUser } from '../support/factories.js';
import { befriend } from '../support/social.js';
import { suiteApp } from '../support/suite-app.js';
import { WsClient } from '../support/ws-client.js';

const NICK = '🦊 Zoë 山田';
const TEXT = 'hello 😀👍🏽 𝄞 — naïve, 漢字, مرحبا';

describe.each(STORAGES)('four-byte text round-trips on %s', (storage) => {
  const { t } = suiteApp({ storage });

  it('nicknames, group names, messages, reactions and edits come back as sent', async () => {
    const alice = await createUser(t.client, { nickname: NICK });
    const bob = await createUser(t.client);
    expect((await alice.client.get('/v1/user/user')).body.data.info.nickname).toBe(NICK);
    await befriend(alice, bob);
    const group = await alice.client.post('/v1/social/group', { name: `🏔️ ${NICK}` });
    expect(group.status).toBe(200);
    const groups = await alice.client.get('/v1/social/groups');
    expect(groups.body.data.list.map((g: { name: string }) => g.name)).toContain(`🏔️ ${NICK}`);

    const ws = await (await WsClient.connect(t.url, { token: alice.token })).ready();
    const sent = await ws.call('conversation.chat', {
      chatType: 2,
      recvId: bob.id,
      msg: { mType: 0, content: TEXT },
    });
    await ws.call('message.react', {
      conversationId: sent.conversationId,
      msgId: sent.msgId,
      emoji: '🧗🏽‍♀️',
      add: true,
    });
    const edited = await ws.call('message.edit', {
      conversationId: sent.conversationId,
      msgId: sent.msgId,
      content: `${TEXT} ✏️`,
    });
    expect(edited.content).toBe(`${TEXT} ✏️`);
    await ws.close();

    const log = await bob.client.get('/v1/im/chatlog', {
      query: { conversationId: sent.conversationId },
    });
    expect(log.body.data.list[0]).toMatchObject({
      content: `${TEXT} ✏️`,
      reactions: { '🧗🏽‍♀️': [alice.id] },
    });
    const list = await bob.client.get('/v1/im/conversation');
    expect(list.body.data.conversationList[sent.conversationId].msg.content).toBe(`${TEXT} ✏️`);
  });
});
