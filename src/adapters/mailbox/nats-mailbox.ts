import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { NodeMailbox } from './mailbox.js';

/** Mailboxes as NATS core subjects `<prefix>.deliver.<nodeId>` (no JetStream: at most once, low latency). */
export class NatsMailbox implements NodeMailbox {
  private readonly subscriptions: Subscription[] = [];
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
  ) {}

  static async connect(options: {
    url: string;
    prefix: string;
    name: string;
  }): Promise<NatsMailbox> {
    const nc = await connect({
      servers: options.url,
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    return new NatsMailbox(nc, options.prefix);
  }

  async send(nodeId: string, message: string): Promise<void> {
    this.nc.publish(this.subject(nodeId), this.encoder.encode(message));
  }

  async listen(
    nodeId: string,
    handler: (message: string) => void,
    onGap?: () => void,
  ): Promise<void> {
    if (onGap) void this.watchReconnects(onGap);
    this.subscriptions.push(
      this.nc.subscribe(this.subject(nodeId), {
        callback: (err, msg) => {
          if (!err) handler(this.decoder.decode(msg.data));
        },
      }),
    );
    // The subscription is registered on the server before listen() resolves.
    await this.nc.flush();
  }

  async close(): Promise<void> {
    for (const sub of this.subscriptions.splice(0)) sub.unsubscribe();
    await this.nc.drain().catch(() => this.nc.close());
  }

  /** NATS resubscribes after a reconnect; core messages published meanwhile are gone. */
  private async watchReconnects(onGap: () => void): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'reconnect') onGap();
    }
  }

  private subject(nodeId: string): string {
    return `${this.prefix}.deliver.${nodeId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  }
}
