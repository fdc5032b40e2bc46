/**
 * A randomized check in the style of Zulip's verify_action: a random mix of sends,
 * reads, group joins, disconnects and server-side cuts runs against the real server
 * while each user keeps the state a client would keep, built only from the client
 * SDK's events (answers, pushes, and the sync it does on reconnect or when a push
 * skips a seq). The group's history holds its membership notices (mType 10) in seq
 * order with chat; they are delivered like chat and never count as unread. At the end every client's state must equal a fresh fetch of its
 * conversations, unread counts and history, and no message may have been delivered
 * twice.
 */
import { ChatClient } from '@easy-chat/sdk';
import { describe, expect, it, onTestFailed } from 'vitest';
import WebSocket from 'ws';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { befriend, createGroupWith } from '../../../test/support/social.js';
import { suiteApp } from '../../../test/support/suite-app.js';
import { seededRandom } from '../../../test/support/seeded-random.js';

interface Msg {
  seq: number;
  msgId: string;
  sendId: string;
  mType: number;
  content: string;
}

interface ConvState {
  maxSeq: number;
  readSeq: number;
  messages: Map<number, Msg>;
}

/**
 * What a client keeps, built only from the SDK's events: `message` (pushes, the
 * catch-up sync after every connect, gap repairs, send answers), the conversation
 * list it fetches on connect, and the answers to its reads.
 */
class ModelClient {
  readonly client: ChatClient;
  readonly conversations = new Map<string, ConvState>();

  constructor(
    readonly user: RegisteredUser,
    url: string,
  ) {
    this.client = new ChatClient({
      baseUrl: url,
      token: user.token,
      WebSocket,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    });
    this.client.on('message', ({ message }) => this.apply(message));
    this.client.on('conversations', (list) => {
      for (const [id, view] of Object.entries(list)) {
        const state = this.conv(id);
        state.readSeq = Math.max(state.readSeq, view.readSeq);
        state.maxSeq = Math.max(state.maxSeq, view.maxSeq);
      }
    });
  }

  /** Connected and caught up (the SDK reconnects by itself after a server-side cut). */
  get online(): boolean {
    return this.client.state === 'online';
  }

  /** Stopped by this client: the model reconnects it with connect(). */
  get stopped(): boolean {
    return this.client.state === 'idle';
  }

  conv(id: string): ConvState {
    let state = this.conversations.get(id);
    if (!state)
      this.conversations.set(id, (state = { maxSeq: 0, readSeq: 0, messages: new Map() }));
    return state;
  }

  /** Messages the SDK delivered a second time (it must never). */
  readonly duplicates: string[] = [];

  apply(message: Msg & { conversationId: string }): void {
    const state = this.conv(message.conversationId);
    if (state.messages.has(message.seq)) {
      this.duplicates.push(`${message.conversationId}#${message.seq}`);
    }
    state.messages.set(message.seq, {
      seq: message.seq,
      msgId: message.msgId,
      sendId: message.sendId,
      mType: message.mType,
      content: message.content,
    });
    state.maxSeq = Math.max(state.maxSeq, message.seq);
    // Sending marks read: my own message is read up to its seq (from any of my devices).
    if (message.sendId === this.user.id) state.readSeq = Math.max(state.readSeq, message.seq);
  }

  /** Connects and waits for the catch-up sync (subscribe first, then sync: the SDK's job). */
  async connect(): Promise<void> {
    const online = new Promise<void>((resolve) => {
      const off = this.client.on('state', ({ state }) => {
        if (state === 'online') {
          off();
          resolve();
        }
      });
    });
    await this.client.connect();
    await online;
  }

  disconnect(): void {
    this.client.disconnect();
  }

  /** The state a fresh fetch would show, computed from what this client holds. */
  view(): Record<string, { maxSeq: number; readSeq: number; unread: number; seqs: number[] }> {
    const out: Record<string, { maxSeq: number; readSeq: number; unread: number; seqs: number[] }> =
      {};
    for (const [id, state] of this.conversations) {
      const seqs = [...state.messages.keys()].sort((a, b) => a - b);
      // Neither my own messages nor group notices (mType 10: joins, leaves) are unread.
      const unread = seqs.filter((s) => {
        const m = state.messages.get(s)!;
        return s > state.readSeq && m.sendId !== this.user.id && m.mType !== 10;
      }).length;
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
  const { t } = suiteApp({ storage, overrides: { im: { syncPageSize: 7 } } });

  it('state built from pushes and syncs equals a fresh fetch after a random mix of operations', async () => {
    const seed = Number(process.env.MODEL_SEED ?? Date.now() % 1_000_000);
    // Any failure names the seed, a timeout too (whose error says nothing of it).
    onTestFailed(() => console.error(`im.model: replay with MODEL_SEED=${seed}`));
    const random = seededRandom(seed);
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
    for (const client of clients) await client.connect();
    // On its first list the SDK takes what is already there as history (it starts at
    // maxSeq): the group's founding and join notices. An app shows them from a history
    // page; the model loads that page too, so its view covers the whole history.
    for (const client of clients.filter((c) => inGroup.has(c.user.id))) {
      const page = (await api(client.user)(`/v1/im/chatlog?conversationId=${groupId}&count=200`))
        .list as Array<Msg & { conversationId: string }>;
      for (const m of page) {
        client.conv(groupId).messages.set(m.seq, {
          seq: m.seq,
          msgId: m.msgId,
          sendId: m.sendId,
          mType: m.mType,
          content: m.content,
        });
      }
    }

    const log: string[] = [];
    // A step that hangs fails here with the seed, the steps so far and every client's
    // state, well inside the test's timeout (which would say none of it). A step takes
    // milliseconds, and under 10 s on a machine loaded to the hilt.
    const stepLimitMs = 20_000;
    const within = <T>(work: Promise<T>, what: string): Promise<T> => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const states = clients.map((c) => `${c.user.nickname}: ${c.client.state}`).join(', ');
          reject(
            new Error(
              `seed ${seed}: ${what} took over ${stepLimitMs} ms (${states})\n${log.slice(-30).join('\n')}`,
            ),
          );
        }, stepLimitMs);
      });
      return Promise.race([work, stalled]).finally(() => clearTimeout(timer));
    };
    for (let step = 0; step < 160; step += 1) {
      const client = pick(clients);
      const roll = random();
      if (!client.online) {
        log.push(`${step}: reconnect ${client.user.nickname}`);
        await within(client.connect(), `step ${step}, reconnecting ${client.user.nickname}`);
      } else if (roll < 0.55) {
        const toGroup = inGroup.has(client.user.id) && random() < 0.5;
        const peer = pick(clients.filter((c) => c !== client)).user;
        const content = `s${step}`;
        // The answer reaches the model as a 'message' event (source 'send').
        const answer = await within(
          client.client.send(
            toGroup
              ? { chatType: 1, recvId: groupId, content }
              : { chatType: 2, recvId: peer.id, content },
          ),
          `step ${step}, ${client.user.nickname} sending`,
        );
        log.push(
          `${step}: ${client.user.nickname} → ${toGroup ? 'group' : peer.nickname} #${answer.seq}`,
        );
      } else if (roll < 0.8) {
        const known = [...client.conversations.entries()];
        if (known.length === 0) continue;
        const [id, state] = pick(known);
        const target = Math.floor(random() * (state.maxSeq + 1));
        const readSeq = await within(
          client.client.markRead(id, target),
          `step ${step}, ${client.user.nickname} marking read`,
        );
        state.readSeq = Math.max(state.readSeq, readSeq);
        log.push(`${step}: ${client.user.nickname} read ${id.slice(-4)} to ${readSeq}`);
      } else if (roll < 0.86) {
        log.push(`${step}: ${client.user.nickname} goes offline`);
        client.disconnect();
      } else if (roll < 0.92) {
        // The server drops the socket: the SDK reconnects and catches up by itself.
        log.push(`${step}: ${client.user.nickname} is cut off`);
        t.app.connections.closeUser(client.user.id, 4008, 'model: connection lost');
      } else {
        const outsider = clients.find((c) => !inGroup.has(c.user.id));
        if (!outsider) continue;
        const res = await outsider.user.client.post('/v1/social/group/putIn', {
          groupId,
          joinSource: 2,
        });
        expect(res.body.data.joined).toBe(true);
        inGroup.add(outsider.user.id);
        // History starts at the join (the SDK learns it from its first push or list).
        const view = (await api(outsider.user)('/v1/im/conversation')).conversationList[groupId];
        outsider.conv(groupId).readSeq = view.readSeq;
        outsider.conv(groupId).maxSeq = Math.max(outsider.conv(groupId).maxSeq, view.maxSeq);
        log.push(`${step}: ${outsider.user.nickname} joins the group at ${view.readSeq}`);
      }
    }
    for (const client of clients) {
      if (!client.online) await within(client.connect(), `reconnecting ${client.user.nickname}`);
    }

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
        `seed ${seed}, user ${client.user.nickname}\n${log.slice(process.env.MODEL_DEBUG ? 0 : -30).join('\n')}`,
      ).toEqual(expected);
    }
    for (const client of clients) {
      expect(client.duplicates, client.user.nickname).toEqual([]);
      client.disconnect();
    }
    // Seconds on a loaded machine: 160 steps, then up to 5 s per client to converge.
  }, 120_000);
});
