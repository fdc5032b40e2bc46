import { TYPING_TTL_MS, type ChatClient, type Message, type TypingPush } from '@easy-chat/sdk';
import type { StoreCore } from './core.js';
import { toChatMessage } from './messages.js';
import type { ChatMessage } from './state.js';

/** While typing, the notice is repeated this often (the others' copy expires after TYPING_TTL_MS). */
const TYPING_REPEAT_MS = 3_000;

/** A changed message's new state, if it is newer than the one held (by modSeq). */
function applyChange(list: ChatMessage[], message: Message): ChatMessage[] {
  const at = list.findIndex((m) => m.msgId === message.msgId);
  if (at < 0) return list;
  const held = list[at]!;
  if ((held.modSeq ?? 0) > message.modSeq) return list;
  const next = [...list];
  next[at] = { ...toChatMessage(message), key: held.key, localUrl: held.localUrl };
  return next;
}

/**
 * What happens to messages after they are sent: recall, edit, reactions, delete for
 * me, replies' quotes following a recall, and who is typing.
 */
export class ChangesStore {
  private typingSent = new Map<string, number>();
  private expiry: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly core: StoreCore) {}

  attach(client: ChatClient): void {
    client.on('messageChanged', ({ message }) => this.onChanged(message));
    client.on('typing', (push) => this.onTyping(push));
  }

  detach(): void {
    clearTimeout(this.expiry);
    this.typingSent.clear();
  }

  private onChanged(message: Message): void {
    const id = message.conversationId;
    this.core.set((s) => {
      const list = s.messages[id];
      // Quotes of a recalled message lose their excerpt too.
      const quoted = message.revoked
        ? list?.map((m) =>
            m.replyTo?.msgId === message.msgId
              ? { ...m, replyTo: { ...m.replyTo, excerpt: '', revoked: true } }
              : m,
          )
        : list;
      const conversation = s.conversations[id];
      return {
        ...(quoted ? { messages: { ...s.messages, [id]: applyChange(quoted, message) } } : {}),
        ...(conversation?.msg?.msgId === message.msgId
          ? { conversations: { ...s.conversations, [id]: { ...conversation, msg: message } } }
          : {}),
      };
    });
  }

  private onTyping(push: TypingPush): void {
    if (push.userId === this.core.getState().me?.id) return;
    this.core.set((s) => {
      const now = { ...s.typing[push.conversationId] };
      if (push.typing) now[push.userId] = Date.now() + TYPING_TTL_MS;
      else delete now[push.userId];
      return { typing: { ...s.typing, [push.conversationId]: now } };
    });
    this.scheduleExpiry();
  }

  /** Drops typing notices nobody refreshed in time (a closed tab sends no "stopped"). */
  private scheduleExpiry(): void {
    clearTimeout(this.expiry);
    const all = Object.values(this.core.getState().typing).flatMap((t) => Object.values(t));
    if (all.length === 0) return;
    const next = Math.min(...all);
    this.expiry = setTimeout(
      () => {
        const now = Date.now();
        this.core.set((s) => ({
          typing: Object.fromEntries(
            Object.entries(s.typing).map(([id, who]) => [
              id,
              Object.fromEntries(Object.entries(who).filter(([, until]) => until > now)),
            ]),
          ),
        }));
        this.scheduleExpiry();
      },
      Math.max(50, next - Date.now() + 10),
    );
  }

  /** Call on each keystroke: tells the others at most every few seconds. */
  typing(conversationId: string, typing: boolean): void {
    const client = this.core.client;
    if (!client) return;
    const last = this.typingSent.get(conversationId) ?? 0;
    if (typing && Date.now() - last < TYPING_REPEAT_MS) return;
    if (!typing && last === 0) return;
    this.typingSent.set(conversationId, typing ? Date.now() : 0);
    void client.typing(conversationId, typing);
  }

  async react(m: ChatMessage, emoji: string): Promise<void> {
    const client = this.core.client;
    const me = this.core.getState().me?.id;
    if (!client || !m.msgId || !me) return;
    const add = !(m.reactions?.[emoji] ?? []).includes(me);
    await this.core.act(() => client.react(m.conversationId, m.msgId!, emoji, add));
  }

  async edit(m: ChatMessage, content: string): Promise<boolean> {
    const client = this.core.client;
    if (!client || !m.msgId) return false;
    return this.core.act(() => client.edit(m.conversationId, m.msgId!, content));
  }

  async recall(m: ChatMessage): Promise<void> {
    const client = this.core.client;
    if (!client || !m.msgId) return;
    await this.core.act(() => client.revoke(m.conversationId, m.msgId!));
  }

  /** Removes a message from my view only (my other devices drop it on their next history load). */
  async deleteForMe(m: ChatMessage): Promise<void> {
    const client = this.core.client;
    if (!client || !m.msgId) return;
    const ok = await this.core.act(() => client.deleteForMe(m.conversationId, [m.msgId!]));
    if (!ok) return;
    this.core.set((s) => ({
      messages: {
        ...s.messages,
        [m.conversationId]: (s.messages[m.conversationId] ?? []).filter((x) => x.key !== m.key),
      },
    }));
  }
}
