import type { ChatClient } from './client.js';
import type { Message } from './types.js';

/**
 * The messages a client holds, per conversation, built only from what the client
 * receives: `message` events add, `messageChanged` events replace (the state with
 * the higher modSeq wins, so a late or repeated change never undoes a newer one),
 * and clearing drops what is at or below the floor. Opt-in: an app that keeps its
 * own state listens to the same events instead.
 */
export class MessageStore {
  private readonly conversations = new Map<string, Map<number, Message>>();

  /** Follows a client's events; returns a function that stops following. */
  attach(client: ChatClient): () => void {
    const offs = [
      client.on('message', ({ message }) => this.add(message)),
      client.on('messageChanged', ({ message }) => this.change(message)),
      client.on('conversationUpdated', (state) => {
        if (state.clearSeq > 0) this.clear(state.conversationId, state.clearSeq);
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  /** A delivered message (or a page of history); an older copy is replaced. */
  add(message: Message): void {
    const messages = this.of(message.conversationId, true)!;
    const held = messages.get(message.seq);
    if (!held || message.modSeq > held.modSeq) messages.set(message.seq, message);
  }

  /** A changed message; ignored unless held (history not loaded stays unloaded). */
  change(message: Message): void {
    const messages = this.of(message.conversationId);
    const held = messages?.get(message.seq);
    if (messages && held && message.modSeq > held.modSeq) messages.set(message.seq, message);
  }

  /** Messages deleted for me. */
  remove(conversationId: string, msgIds: readonly string[]): void {
    const messages = this.of(conversationId);
    if (!messages) return;
    const ids = new Set(msgIds);
    for (const [seq, m] of messages) if (ids.has(m.msgId)) messages.delete(seq);
  }

  /** Drops everything at or below a clear floor. */
  clear(conversationId: string, clearSeq: number): void {
    const messages = this.of(conversationId);
    if (!messages) return;
    for (const seq of [...messages.keys()]) if (seq <= clearSeq) messages.delete(seq);
  }

  get(conversationId: string, seq: number): Message | undefined {
    return this.of(conversationId)?.get(seq);
  }

  /** A conversation's messages in seq order. */
  list(conversationId: string): Message[] {
    return [...(this.of(conversationId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }

  conversationIds(): string[] {
    return [...this.conversations.keys()];
  }

  private of(conversationId: string, create = false): Map<number, Message> | undefined {
    let messages = this.conversations.get(conversationId);
    if (!messages && create) {
      messages = new Map();
      this.conversations.set(conversationId, messages);
    }
    return messages;
  }
}
