/**
 * A randomized check in the style of Zulip's verify_action: a random mix of sends,
 * reads, group joins and reconnects runs against the real server while each user
 * keeps the state a client would keep, built only from answers, pushes and the
 * gap-repair sync a client does on reconnect or when a push skips a seq. At the
 * end every client's state must equal a fresh fetch of its conversations, unread
 * counts and history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { befriend, createGroupWith } from '../../../test/support/social.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';
import { WsClient, type Frame } from '../../../test/support/ws-client.js';

interface Msg {
  seq: number;
  msgId: string;
  sendId: string;
  content: string;
}

interface ConvState {
  maxSeq: number;
  readSeq: number;
  messages: Map<number, Msg>;
}

/** Mulberry32: a tiny seeded PRNG so a failing run can be replayed from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a client keeps: conversations with their messages, from pushes and syncs. */
class ModelClient {
  socket: WsClient | undefined;
  readonly conversations = new Map<string, ConvState>();
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    readonly user: RegisteredUser,
    private readonly url: string,
  ) {}

  get online(): boolean {
    return this.socket?.isOpen ?? false;
  }

  conv(id: string): ConvState {
    let state = this.conversations.get(id);
    if (!state)
      this.conversations.set(id, (state = { maxSeq: 0, readSeq: 0, messages: new Map() }));
    return state;
  }

  /** Where each conversation's history starts for this user (a group's join point). */
  readonly joinPoints = new Map<string, number>();

  /** Highest seq up to which this client has every message. */
  contiguous(id: string): number {
    const state = this.conv(id);
    let seq = this.joinPoints.get(id) ?? 0;
    while (state.messages.has(seq + 1)) seq += 1;
    return seq;
  }

  apply(message: Msg & { conversationId: string }): void {
    const state = this.conv(message.conversationId);
    state.messages.set(message.seq, {
      seq: message.seq,
      msgId: message.msgId,
      sendId: message.sendId,
      content: message.content,
    });
    state.maxSeq = Math.max(state.maxSeq, message.seq);
  }

  /** Connect (subscribe to pushes) first, then catch up: pushes during the catch-up are de-duplicated by seq. */
  async connect(api: (path: string) => Promise<any>): Promise<void> {
    this.socket = await (await WsClient.connect(this.url, { token: this.user.token })).ready();
    this.socket.socket.on('message', (raw) =>
      this.onFrame(JSON.parse((raw as Buffer).toString('utf8')) as Frame),
    );
    const list = (await api('/v1/im/conversation')).conversationList as Record<
      string,
      { readSeq: number; maxSeq: number }
    >;
    for (const [id, view] of Object.entries(list)) {
      const state = this.conv(id);
      state.readSeq = Math.max(state.readSeq, view.readSeq);
    }
    await this.sync(Object.keys(list));
  }

  private onFrame(frame: Frame): void {
    if (frame.method !== 'push' || frame.data?.contentType !== 0) return;
    const message = frame.data as Msg & { conversationId: string };
    const before = this.contiguous(message.conversationId);
    this.apply(message);
    if (message.seq > before + 1) void this.sync([message.conversationId]);
  }

  sync(ids: string[]): Promise<void> {
    const run = async () => {
      if (!this.online || ids.length === 0) return;
      for (;;) {
        const request = Object.fromEntries(ids.map((id) => [id, this.contiguous(id)]));
        const answer = await this.socket!.call('conversation.sync', { conversations: request });
        let more = false;
        for (const [id, page] of Object.entries(answer.conversations as Record<string, any>)) {
          if (page.error) continue;
          for (const m of page.messages) this.apply({ ...m, conversationId: id });
          this.conv(id).maxSeq = Math.max(this.conv(id).maxSeq, page.maxSeq);
          more ||= page.hasMore;
        }
        if (!more) return;
      }
    };
    this.syncing = this.syncing.then(run, run);
    return this.syncing;
  }

  async disconnect(): Promise<void> {
    await this.socket?.close();
    this.socket = undefined;
  }

  /** The state a fresh fetch would show, computed from what this client holds. */
  view(): Record<string, { maxSeq: number; readSeq: number; unread: number; seqs: number[] }> {
    const out: Record<string, { maxSeq: number; readSeq: number; unread: number; seqs: number[] }> =
      {};
    for (const [id, state] of this.conversations) {
      const seqs = [...state.messages.keys()].sort((a, b) => a - b);
      const unread = seqs.filter(
        (s) => s > state.readSeq && state.messages.get(s)!.sendId !== this.user.id,
      ).length;
      out[id] = { maxSeq: state.maxSeq, readSeq: state.readSeq, unread, seqs };
    }
    return out;
  }
}

/** JSON with sorted keys, so two states compare equal whatever their insertion order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

describe.each(STORAGES)('randomized client-state check on %s', (storage) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ storage, overrides: { im: { syncPageSize: 7 } } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('state built from pushes and syncs equals a fresh fetch after a random mix of operations', async () => {
    const seed = Number(process.env.MODEL_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const api = (user: RegisteredUser) => async (path: string) => {
      const res = await user.client.get(path);
      if (res.status !== 200) throw new Error(`${path}: ${JSON.stringify(res.body)}`);
      return res.body.data;
    };

    const users = await Promise.all(Array.from({ length: 5 }, () => createUser(t.client)));
    for (let i = 0; i < users.length; i += 1) {
      for (let j = i + 1; j < users.length; j += 1) await befriend(users[i]!, users[j]!);
    }
    const founding = users.slice(0, 3);
    const groupId = await createGroupWith(founding[0]!, founding.slice(1));
    const inGroup = new Set(founding.map((u) => u.id));
    const clients = users.map((u) => new ModelClient(u, t.url));
    for (const client of clients) await client.connect(api(client.user));

    const log: string[] = [];
    for (let step = 0; step < 160; step += 1) {
      const client = pick(clients);
      const roll = random();
      if (!client.online) {
        log.push(`${step}: reconnect ${client.user.nickname}`);
        await client.connect(api(client.user));
      } else if (roll < 0.55) {
        const toGroup = inGroup.has(client.user.id) && random() < 0.5;
        const peer = pick(clients.filter((c) => c !== client)).user;
        const content = `s${step}`;
        const answer = await client.socket!.call(
          'conversation.chat',
          toGroup
            ? { chatType: 1, recvId: groupId, msg: { mType: 0, content } }
            : { chatType: 2, recvId: peer.id, msg: { mType: 0, content } },
        );
        client.apply(answer);
        log.push(
          `${step}: ${client.user.nickname} → ${toGroup ? 'group' : peer.nickname} #${answer.seq}`,
        );
      } else if (roll < 0.8) {
        const known = [...client.conversations.entries()];
        if (known.length === 0) continue;
        const [id, state] = pick(known);
        const target = Math.floor(random() * (state.maxSeq + 1));
        const answer = await client.socket!.call('conversation.markChat', {
          conversationId: id,
          readSeq: target,
        });
        state.readSeq = Math.max(state.readSeq, answer.readSeq);
        log.push(`${step}: ${client.user.nickname} read ${id.slice(-4)} to ${answer.readSeq}`);
      } else if (roll < 0.92) {
        log.push(`${step}: ${client.user.nickname} goes offline`);
        await client.disconnect();
      } else {
        const outsider = clients.find((c) => !inGroup.has(c.user.id));
        if (!outsider) continue;
        const res = await outsider.user.client.post('/v1/social/group/putIn', {
          groupId,
          joinSource: 2,
        });
        expect(res.body.data.joined).toBe(true);
        inGroup.add(outsider.user.id);
        // A client learns a new conversation from the list; history starts at its join.
        const view = (await api(outsider.user)('/v1/im/conversation')).conversationList[groupId];
        outsider.joinPoints.set(groupId, view.readSeq);
        outsider.conv(groupId).readSeq = view.readSeq;
        outsider.conv(groupId).maxSeq = Math.max(outsider.conv(groupId).maxSeq, view.maxSeq);
        log.push(`${step}: ${outsider.user.nickname} joins the group at ${view.readSeq}`);
      }
    }
    for (const client of clients) if (!client.online) await client.connect(api(client.user));

    // Let in-flight pushes and gap repairs land, then compare with a fresh fetch.
    const fresh = async (client: ModelClient) => {
      const list = (await api(client.user)('/v1/im/conversation')).conversationList as Record<
        string,
        any
      >;
      const out: Record<
        string,
        { maxSeq: number; readSeq: number; unread: number; seqs: number[] }
      > = {};
      for (const [id, view] of Object.entries(list)) {
        const seqs: number[] = [];
        let endSeq: number | undefined;
        for (;;) {
          const page = (
            await api(client.user)(
              `/v1/im/chatlog?conversationId=${id}&count=200${endSeq ? `&endSeq=${endSeq}` : ''}`,
            )
          ).list;
          seqs.push(...page.map((m: { seq: number }) => m.seq));
          if (page.length < 200) break;
          endSeq = page[page.length - 1].seq - 1;
        }
        out[id] = {
          maxSeq: view.maxSeq,
          readSeq: view.readSeq,
          unread: view.unread,
          seqs: seqs.sort((a, b) => a - b),
        };
      }
      return out;
    };
    for (const client of clients) {
      const expected = await fresh(client);
      const deadline = Date.now() + 5_000;
      while (canonical(client.view()) !== canonical(expected) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(
        client.view(),
        `seed ${seed}, user ${client.user.nickname}\n${log.slice(-30).join('\n')}`,
      ).toEqual(expected);
    }
    await Promise.all(clients.map((c) => c.disconnect()));
  });
});
