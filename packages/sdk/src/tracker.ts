import type { Message } from './types.js';

interface Cursor {
  /** Every message up to this seq has been delivered. */
  contiguous: number;
  /** Messages received past a gap, held until the gap is filled. */
  held: Map<number, Message>;
}

/**
 * What the client has delivered, per conversation: de-duplication by
 * (conversationId, seq) and in-order delivery. A message past a gap is held until
 * the gap is repaired by a sync (or given up on with `release`).
 */
export class SeqTracker {
  private readonly cursors = new Map<string, Cursor>();

  has(conversationId: string): boolean {
    return this.cursors.has(conversationId);
  }

  ids(): string[] {
    return [...this.cursors.keys()];
  }

  /** The seq up to which every message was delivered; sync from here. */
  contiguous(conversationId: string): number {
    return this.cursors.get(conversationId)?.contiguous ?? 0;
  }

  /** Starts tracking a conversation at `seq` (earlier messages count as history). */
  start(conversationId: string, seq: number): void {
    if (!this.cursors.has(conversationId)) {
      this.cursors.set(conversationId, { contiguous: seq, held: new Map() });
    }
  }

  forget(conversationId: string): void {
    this.cursors.delete(conversationId);
  }

  /** Whether messages are held behind a gap. */
  hasGap(conversationId: string): boolean {
    return (this.cursors.get(conversationId)?.held.size ?? 0) > 0;
  }

  /**
   * Takes a received message; returns the messages now deliverable, in seq order
   * (none for a duplicate or a message held behind a gap). A conversation not yet
   * tracked starts just before this message.
   */
  accept(message: Message): Message[] {
    let cursor = this.cursors.get(message.conversationId);
    if (!cursor) {
      cursor = { contiguous: message.seq - 1, held: new Map() };
      this.cursors.set(message.conversationId, cursor);
    }
    if (message.seq <= cursor.contiguous) return [];
    if (cursor.held.has(message.seq)) {
      this.update(message);
      return [];
    }
    cursor.held.set(message.seq, message);
    const out: Message[] = [];
    for (;;) {
      const next = cursor.held.get(cursor.contiguous + 1);
      if (!next) break;
      cursor.held.delete(next.seq);
      cursor.contiguous = next.seq;
      out.push(next);
    }
    return out;
  }

  /** A newer state of a message held behind a gap replaces the held one. */
  update(message: Message): void {
    const held = this.cursors.get(message.conversationId)?.held;
    const current = held?.get(message.seq);
    if (held && current && (message.modSeq ?? 0) > (current.modSeq ?? 0)) {
      held.set(message.seq, message);
    }
  }

  /**
   * Gives up on a gap a sync could not fill: delivers what is held, in order, and
   * moves past the missing seqs.
   */
  release(conversationId: string): Message[] {
    const cursor = this.cursors.get(conversationId);
    if (!cursor || cursor.held.size === 0) return [];
    const out = [...cursor.held.values()].sort((a, b) => a.seq - b.seq);
    cursor.held.clear();
    cursor.contiguous = out[out.length - 1]!.seq;
    return out;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.cursors].map(([id, c]) => [id, c.contiguous]));
  }
}
