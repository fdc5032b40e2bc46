import type { NodeMailbox } from './mailbox.js';

/** Mailboxes within one process (one node, or tests with several in-process nodes). */
export class MemoryMailbox implements NodeMailbox {
  private static readonly handlers = new Map<string, (message: string) => void>();
  private readonly mine = new Set<string>();

  /** A shared space: instances created with the same space reach each other. */
  constructor(private readonly space = 'default') {}

  async send(nodeId: string, message: string): Promise<void> {
    const handler = MemoryMailbox.handlers.get(`${this.space}:${nodeId}`);
    if (handler) queueMicrotask(() => handler(message));
  }

  async listen(nodeId: string, handler: (message: string) => void): Promise<void> {
    const key = `${this.space}:${nodeId}`;
    MemoryMailbox.handlers.set(key, handler);
    this.mine.add(key);
  }

  async close(): Promise<void> {
    for (const key of this.mine) MemoryMailbox.handlers.delete(key);
    this.mine.clear();
  }
}
