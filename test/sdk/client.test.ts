/**
 * The SDK against a real server: reconnect with resubscribe-then-sync, paging,
 * de-duplication by (conversationId, seq), gap repair, send retries that store a
 * message once, and the close codes that stop reconnecting.
 */
import {
  ApiError,
  ChatClient,
  ChatType,
  type ConnectionStateChange,
  type PresenceChange,
} from '@easy-chat/sdk';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type RegisteredUser } from '../support/factories.js';
import { Network, sdkClient, waitUntil } from '../support/sdk.js';
import { befriend, createGroupWith } from '../support/social.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { resyncFrame } from '../../src/realtime/push-repair.js';

describe('SDK against a real server', () => {
  let t: TestApp;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    // Small sync pages so catching up needs several of them.
    t = await startTestApp({ overrides: { im: { syncPageSize: 2 } } });
    alice = await createUser(t.client, { nickname: 'alice' });
    bob = await createUser(t.client, { nickname: 'bob' });
    await befriend(alice, bob);
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await t.close();
  });

  async function open(user: RegisteredUser, options: Parameters<typeof sdkClient>[2] = {}) {
    const opened = await sdkClient(t.url, user, options);
    clients.push(opened.client);
    return opened;
  }

  it('REST calls are typed and unwrap the envelope; errors carry the code', async () => {
    const client = new ChatClient({ baseUrl: t.url, WebSocket });
    const token = await client.api.login({ phone: alice.phone, password: alice.password });
    expect(token.token).toBe(client.token);
    expect((await client.api.me()).id).toBe(alice.id);
    expect((await client.api.friends()).map((f) => f.friendUid)).toEqual([bob.id]);
    const error = await client.api.requestFriend({ userId: alice.id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 300001, status: 400 });
  });

  it('a client that was offline gets what it missed, once each and in order, paging the sync', async () => {
    const a = await open(alice);
    const b = await open(bob);
    const first = await a.client.send({ chatType: ChatType.single, recvId: bob.id, content: 'm1' });
    await waitUntil(() => b.received.length === 1, 10_000, 'the live push');
    expect(b.received[0]).toMatchObject({ msgId: first.msgId, seq: 1, content: 'm1' });

    // Bob's network goes down: the socket is cut and reconnecting fails.
    const states: ConnectionStateChange[] = [];
    b.client.on('state', (s) => states.push(s));
    b.network.down = true;
    b.network.cut();
    await waitUntil(() => b.client.state === 'reconnecting', 10_000, 'reconnecting');
    for (let i = 2; i <= 6; i += 1) {
      await a.client.send({ chatType: ChatType.single, recvId: bob.id, content: `m${i}` });
    }
    expect(b.received).toHaveLength(1);

    // Back online: resubscribe, list conversations, sync from seq 1 in pages of 2.
    b.network.down = false;
    b.client.socket.reconnectNow();
    await waitUntil(() => b.received.length === 6 && b.client.state === 'online');
    expect(b.received.map((m) => m.content)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(b.received.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(states.map((s) => s.state)).toContain('syncing');
    expect(b.client.cursors()[first.conversationId]).toBe(6);

    // A server-side close (slow consumer) reconnects by itself, without duplicates.
    expect(t.app.connections.closeUser(bob.id, 4008, 'slow consumer')).toBe(1);
    await waitUntil(() => states.filter((s) => s.state === 'online').length >= 2);
    await a.client.send({ chatType: ChatType.single, recvId: bob.id, content: 'm7' });
    await waitUntil(() => b.received.length === 7);
    expect(b.received.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    a.client.disconnect();
    b.client.disconnect();
  });

  it('a push delivered twice and a push that skips a seq give each message once, in order', async () => {
    const carol = await createUser(t.client, { nickname: 'carol' });
    const dave = await createUser(t.client, { nickname: 'dave' });
    await befriend(carol, dave);
    const c = await open(carol);
    const network = new Network();
    let dropped = 0;
    // Dave's connection loses the push of seq 2: the push of seq 3 reveals the gap.
    network.inbound = (frame) => {
      if (frame.method === 'push' && frame.data?.seq === 2 && dropped === 0) {
        dropped += 1;
        return false;
      }
      return true;
    };
    const d = await open(dave, { network });

    await c.client.send({ chatType: 2, recvId: dave.id, content: 'one', clientMsgId: 'dup-1' });
    // The same clientMsgId again: stored once, pushed again (at-least-once).
    const again = await c.client.send({
      chatType: 2,
      recvId: dave.id,
      content: 'one',
      clientMsgId: 'dup-1',
    });
    expect(again.seq).toBe(1);
    await c.client.send({ chatType: 2, recvId: dave.id, content: 'two' });
    await c.client.send({ chatType: 2, recvId: dave.id, content: 'three' });
    await waitUntil(() => d.received.length === 3, 10_000, 'gap repair');
    expect(dropped).toBe(1);
    expect(d.received.map((m) => [m.seq, m.content])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    const history = await dave.client.get('/v1/im/chatlog', {
      query: { conversationId: again.conversationId },
    });
    expect(history.body.data.list).toHaveLength(3);
  });

  it('catches up when the server says pushes were missed (session.resync)', async () => {
    const gina = await createUser(t.client, { nickname: 'gina' });
    const hugo = await createUser(t.client, { nickname: 'hugo' });
    await befriend(gina, hugo);
    const g = await open(gina);
    const network = new Network();
    // Routing is lost for a while (as in a Redis outage): Hugo's pushes never arrive,
    // and no later push reveals the gap.
    let routing = true;
    network.inbound = (frame) => routing || frame.method !== 'push';
    const h = await open(hugo, { network });
    const first = await g.client.send({ chatType: 2, recvId: hugo.id, content: 'live' });
    await waitUntil(() => h.received.length === 1, 10_000, 'the live push');
    routing = false;
    await g.client.send({ chatType: 2, recvId: hugo.id, content: 'lost 1' });
    await g.client.send({ chatType: 2, recvId: hugo.id, content: 'lost 2' });
    await new Promise((r) => setTimeout(r, 200));
    expect(h.received).toHaveLength(1);

    routing = true;
    const sources: string[] = [];
    h.client.on('message', ({ source }) => sources.push(source));
    t.app.connections.deliver([hugo.id], resyncFrame());
    await waitUntil(() => h.received.length === 3, 10_000, 'the resync');
    expect(h.received.map((m) => m.content)).toEqual(['live', 'lost 1', 'lost 2']);
    expect(sources).toEqual(['sync', 'sync']);
    expect(h.client.cursors()[first.conversationId]).toBe(3);
  });

  it('a send whose answer is lost is retried with the same clientMsgId and stored once', async () => {
    const erin = await createUser(t.client, { nickname: 'erin' });
    const frank = await createUser(t.client, { nickname: 'frank' });
    await befriend(erin, frank);
    const f = await open(frank);
    const network = new Network();
    const e = await open(erin, { network, requestTimeoutMs: 300 });

    // The first answer is lost (timeout), the second attempt's socket is cut.
    const sent: string[] = [];
    let answersLost = 0;
    network.inbound = (frame) => {
      if (frame.frameType === 2 && frame.method === 'conversation.chat' && answersLost < 1) {
        answersLost += 1;
        return false;
      }
      return true;
    };
    let cuts = 0;
    network.outbound = (frame) => {
      if (frame.method === 'conversation.chat') {
        sent.push(frame.data.clientMsgId);
        if (sent.length === 2 && cuts === 0) {
          cuts += 1;
          queueMicrotask(() => network.cut());
          return false;
        }
      }
      return true;
    };
    const message = await e.client.send({ chatType: 2, recvId: frank.id, content: 'hello' });
    expect(sent.length).toBe(3);
    expect(new Set(sent).size).toBe(1);
    expect(message.clientMsgId).toBe(sent[0]);
    await waitUntil(() => f.received.length >= 1);
    const history = await frank.client.get('/v1/im/chatlog', {
      query: { conversationId: message.conversationId },
    });
    expect(history.body.data.list.map((m: any) => m.content)).toEqual(['hello']);
    // The retry pushed the stored message again; Frank's client shows it once.
    expect(f.received.map((m) => m.msgId)).toEqual([message.msgId]);
  });

  it('sends made while disconnected wait for the connection and go out once', async () => {
    const gina = await createUser(t.client, { nickname: 'gina' });
    const hal = await createUser(t.client, { nickname: 'hal' });
    await befriend(gina, hal);
    const h = await open(hal);
    const g = await open(gina);
    g.network.down = true;
    g.network.cut();
    await waitUntil(() => g.client.state === 'reconnecting');
    const sends = ['a', 'b', 'c'].map((content) =>
      g.client.send({ chatType: 2, recvId: hal.id, content }),
    );
    g.network.down = false;
    g.client.socket.reconnectNow();
    const stored = await Promise.all(sends);
    expect(stored.map((m) => m.seq).sort()).toEqual([1, 2, 3]);
    await waitUntil(() => h.received.length === 3);
    expect(new Set(h.received.map((m) => m.content))).toEqual(new Set(['a', 'b', 'c']));
    expect(h.received.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('a conversation that began while the client was offline arrives in full on reconnect', async () => {
    const jay = await createUser(t.client, { nickname: 'jay' });
    const kim = await createUser(t.client, { nickname: 'kim' });
    await befriend(jay, kim);
    const k = await open(kim);
    const j = await open(jay);
    k.network.down = true;
    k.network.cut();
    await waitUntil(() => k.client.state === 'reconnecting');
    await j.client.send({ chatType: 2, recvId: kim.id, content: 'first ever' });
    await j.client.send({ chatType: 2, recvId: kim.id, content: 'second' });
    k.network.down = false;
    k.client.socket.reconnectNow();
    await waitUntil(() => k.received.length === 2);
    expect(k.received.map((m) => m.content)).toEqual(['first ever', 'second']);
  });

  it('a push for a new conversation that beats the conversation list loses nothing', async () => {
    const nat = await createUser(t.client, { nickname: 'nat' });
    const oli = await createUser(t.client, { nickname: 'oli' });
    await befriend(nat, oli);
    // Oli's conversation list can be held back, to let a push arrive before it.
    let hold = false;
    let release: (() => void) | undefined;
    const fetchHeld = async (input: string, init: RequestInit) => {
      if (hold && input.includes('/v1/im/conversation')) {
        hold = false;
        await new Promise<void>((resolve) => (release = resolve));
      }
      return fetch(input, init);
    };
    const o = await open(oli, { fetch: fetchHeld });
    const n = await open(nat);
    o.network.down = true;
    o.network.cut();
    await waitUntil(() => o.client.state === 'reconnecting');
    await n.client.send({ chatType: 2, recvId: oli.id, content: 'while away' });

    let pushes = 0;
    o.network.inbound = (frame) => {
      if (frame.method === 'push') pushes += 1;
      return true;
    };
    hold = true;
    o.network.down = false;
    o.client.socket.reconnectNow();
    await waitUntil(() => release !== undefined, 10_000, 'the held list request');
    await n.client.send({ chatType: 2, recvId: oli.id, content: 'during the catch-up' });
    await waitUntil(() => pushes === 1, 10_000, 'the push');
    expect(o.received).toHaveLength(0);
    release!();
    await waitUntil(() => o.received.length === 2 && o.client.state === 'online');
    expect(o.received.map((m) => m.content)).toEqual(['while away', 'during the catch-up']);
  });

  it('a send made while the server is closing the socket goes out after the reconnect', async () => {
    const lee = await createUser(t.client, { nickname: 'lee' });
    const max = await createUser(t.client, { nickname: 'max' });
    await befriend(lee, max);
    const l = await open(lee, { sendTimeoutMs: 10_000 });
    const m = await open(max);
    t.app.connections.closeUser(lee.id, 4008, 'slow consumer');
    // The close frame has arrived (CLOSING) but maybe not yet the close event.
    await waitUntil(() => [...l.network.sockets].every((s) => s.readyState !== 1));
    const sent = await l.client.send({ chatType: 2, recvId: max.id, content: 'still here' });
    expect(sent.seq).toBe(1);
    await waitUntil(() => m.received.length === 1);
  });

  it('group messages and read receipts arrive as typed events', async () => {
    const [x, y, z] = await Promise.all(
      ['xena', 'yann', 'zoe'].map((nickname) => createUser(t.client, { nickname })),
    );
    const groupId = await createGroupWith(x!, [y!, z!]);
    const cx = await open(x!);
    const cy = await open(y!);
    const cz = await open(z!);
    const receipts: unknown[] = [];
    cx.client.on('readReceipt', (r) => receipts.push(r));
    const m = await cx.client.send({ chatType: 1, recvId: groupId, content: 'hi all' });
    // The group's membership notices (mType 10) are pushed too, by the worker, whenever
    // they get there: count the chat message only.
    const chats = (c: typeof cy) => c.received.filter((r) => r.mType !== 10);
    await waitUntil(() => chats(cy).length === 1 && chats(cz).length === 1);
    expect(await cy.client.markRead(groupId, m.seq)).toBe(m.seq);
    await waitUntil(() => receipts.length > 0);
    expect(receipts[0]).toMatchObject({ conversationId: groupId, reads: { [y!.id]: m.seq } });
    expect(await cx.client.onlineFriends()).toEqual({});
  });

  it('friends coming online and going offline arrive as presence events', async () => {
    const [pia, quinn] = await Promise.all(
      ['pia', 'quinn'].map((nickname) => createUser(t.client, { nickname })),
    );
    await befriend(pia!, quinn!);
    const cp = await open(pia!);
    const changes: PresenceChange[] = [];
    cp.client.on('presence', (change) => changes.push(change));
    const cq = await open(quinn!);
    await waitUntil(() => changes.length === 1, 10_000, 'online');
    expect(changes[0]).toEqual({ userId: quinn!.id, online: true });
    expect(await cp.client.onlineFriends()).toEqual({ [quinn!.id]: true });
    cq.client.disconnect();
    await waitUntil(() => changes.length === 2, 10_000, 'offline');
    expect(changes[1]).toEqual({ userId: quinn!.id, online: false });
  });

  it('friend and group pushes arrive as events of their own name, never as serverEvent', async () => {
    const [rae, sol] = await Promise.all(
      ['rae', 'sol'].map((nickname) => createUser(t.client, { nickname })),
    );
    const cs = await open(sol!);
    const seen: string[] = [];
    const unknown: unknown[] = [];
    cs.client.on('friend.request', (data) => seen.push(`request from ${data.reqUid}`));
    cs.client.on('friend.added', (data) => seen.push(`added ${data.friendUid}`));
    cs.client.on('group.member.joined', (data) => seen.push(`joined ${data.groupId}`));
    cs.client.on('serverEvent', (frame) => unknown.push(frame));
    await befriend(rae!, sol!);
    const groupId = await createGroupWith(rae!, [sol!]);
    await waitUntil(() => seen.length === 3, 10_000, 'three social pushes');
    expect(seen).toEqual([
      `request from ${rae!.id}`,
      expect.stringMatching(/^added /),
      `joined ${groupId}`,
    ]);
    expect(unknown).toEqual([]);
  });

  it('a refused token stops reconnecting and reports an auth error', async () => {
    const client = new ChatClient({ baseUrl: t.url, token: 'not-a-token', WebSocket });
    const errors: ApiError[] = [];
    client.on('authError', (e) => errors.push(e));
    await expect(client.connect()).rejects.toBeInstanceOf(ApiError);
    expect(client.state).toBe('stopped');
    expect(errors[0]).toMatchObject({ code: 100003 });
  });

  it('a revoked token closes the live socket with 4001 and the client stops', async () => {
    const ivy = await createUser(t.client, { nickname: 'ivy' });
    const { client } = await open(ivy);
    const stopped = new Promise<ConnectionStateChange>((resolve) =>
      client.on('state', (s) => s.state === 'stopped' && resolve(s)),
    );
    t.app.connections.closeUser(ivy.id, 4001, 'token revoked');
    expect(await stopped).toMatchObject({ state: 'stopped', code: 4001 });
  });
});
