import { Redis } from 'ioredis';
import { redisCall } from '../redis.js';
import type { NodeMailbox } from './mailbox.js';

/** Mailboxes as Redis pub/sub channels `<prefix>deliver:<nodeId>` (at most once). */
export class RedisMailbox implements NodeMailbox {
  private readonly publisher: Redis;
  private subscriber: Redis | undefined;

  constructor(private readonly options: { url: string; prefix: string }) {
    this.publisher = new Redis(options.url, { maxRetriesPerRequest: 2 });
    this.publisher.on('error', () => undefined);
  }

  async send(nodeId: string, message: string): Promise<void> {
    await redisCall(this.publisher, 'push transport', () =>
      this.publisher.publish(this.channel(nodeId), message),
    );
  }

  async listen(
    nodeId: string,
    handler: (message: string) => void,
    onGap?: () => void,
  ): Promise<void> {
    // A subscribed connection can do nothing else, so it is a connection of its own.
    const subscriber = (this.subscriber ??= new Redis(this.options.url));
    subscriber.on('error', () => undefined);
    const channel = this.channel(nodeId);
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) handler(message);
    });
    await subscriber.subscribe(channel);
    // ioredis subscribes again after reconnecting; what was published meanwhile is gone.
    let dropped = false;
    subscriber.on('close', () => (dropped = true));
    subscriber.on('ready', () => {
      if (!dropped) return;
      dropped = false;
      onGap?.();
    });
  }

  async close(): Promise<void> {
    const clients = [this.publisher, ...(this.subscriber ? [this.subscriber] : [])];
    await Promise.all(clients.map((r) => r.quit().catch(() => r.disconnect())));
  }

  private channel(nodeId: string): string {
    return `${this.options.prefix}deliver:${nodeId}`;
  }
}
