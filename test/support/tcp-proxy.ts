import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy a test puts between the app and a server (PostgreSQL, Redis) to
 * inject network faults without touching the shared server: `cut()` drops every
 * open connection, `block()` also resets every new one until `restore()`.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private blocked = false;
  /** Connections accepted since start (a client that reconnects shows up here). */
  accepted = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port and forwards to `target` (host:port). */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => proxy.accept(client, target));
    return proxy;
  }

  /** Rewrites a URL's host and port to go through this proxy. */
  url(original: string): string {
    const url = new URL(original);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  /** Destroys every open connection (both directions), like a network cut. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Cuts every connection and resets new ones until restore(). */
  block(): void {
    this.blocked = true;
    this.cut();
  }

  restore(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    this.accepted += 1;
    if (this.blocked) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  }
}

/** Host and port of a URL (postgres://, redis://), with the scheme's default port. */
export function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || defaultPort) };
}
