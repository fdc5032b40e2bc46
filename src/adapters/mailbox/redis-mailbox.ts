import { Redis } from 'ioredis';
import type { NodeMailbox } from './mailbox.js';

/** Mailboxes as Redis pub/sub channels `<prefix>deliver:<nodeId>` (at most once). */
export class RedisMailbox implements NodeMailbox {
  private readonly publisher: Redis;
  private subscriber: Redis | undefined;

  constructor(private readonly options: { url: string; prefix: string }) {
    this.publisher = new Redis(options.url, { maxRetriesPerRequest: 2 });
  }

  async send(nodeId: string, message: string): Promise<void> {
    await this.publisher.publish(this.channel(nodeId), message);
  }

  async listen(nodeId: string, handler: (message: string) => void): Promise<void> {
    // A subscribed connection can do nothing else, so it is a connection of its own.
    this.subscriber ??= new Redis(this.options.url);
    const channel = this.channel(nodeId);
    this.subscriber.on('message', (from: string, message: string) => {
      if (from === channel) handler(message);
    });
    await this.subscriber.subscribe(channel);
  }

  async close(): Promise<void> {
    const clients = [this.publisher, ...(this.subscriber ? [this.subscriber] : [])];
    await Promise.all(clients.map((r) => r.quit().catch(() => r.disconnect())));
  }

  private channel(nodeId: string): string {
    return `${this.options.prefix}deliver:${nodeId}`;
  }
}
