import type { Clock } from '../../shared/clock.js';
import { ChatType } from './im.entity.js';
import type { MessageFanout } from './message-fanout.js';

interface Pending {
  reads: Record<string, number>;
  count: number;
  lastReader: string;
  timer: NodeJS.Timeout;
}

/**
 * Merges the read receipts of a group conversation: one push per window (or per
 * `maxBatch` receipts, whichever comes first) carries every reader's new readSeq,
 * so a busy group sends a handful of receipt pushes instead of one per read.
 */
export class ReceiptMerger {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly deps: {
      fanout: MessageFanout;
      windowMs: number;
      maxBatch: number;
      clock: Clock;
    },
  ) {}

  add(groupId: string, userId: string, readSeq: number): void {
    let entry = this.pending.get(groupId);
    if (!entry) {
      const timer = setTimeout(() => this.flush(groupId), this.deps.windowMs);
      timer.unref();
      entry = { reads: {}, count: 0, lastReader: userId, timer };
      this.pending.set(groupId, entry);
    }
    entry.reads[userId] = Math.max(entry.reads[userId] ?? 0, readSeq);
    entry.lastReader = userId;
    entry.count += 1;
    if (entry.count >= this.deps.maxBatch) this.flush(groupId);
  }

  /** Sends what is pending for a group now. */
  flush(groupId: string): void {
    const entry = this.pending.get(groupId);
    if (!entry) return;
    this.pending.delete(groupId);
    clearTimeout(entry.timer);
    void this.deps.fanout.receipt({
      conversationId: groupId,
      chatType: ChatType.group,
      sendId: entry.lastReader,
      recvId: groupId,
      readSeq: entry.reads[entry.lastReader] ?? 0,
      reads: entry.reads,
      sendTime: this.deps.clock(),
    });
  }

  /** Flushes everything (shutdown). */
  flushAll(): void {
    for (const groupId of [...this.pending.keys()]) this.flush(groupId);
  }
}
