import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy a test puts between the app and a server (PostgreSQL, Redis) to
 * inject network faults without touching the shared server: `cut()` drops every
 * open connection, `block()` also resets every new one until `restore()`,
 * `freeze()` stops forwarding without closing anything (a host that hangs, a
 * network that drops packets) until `restore()`.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  /** Each direction of each connection: bytes read from `from` are written to `to`. */
  private readonly flows = new Set<{ from: Socket; to: Socket }>();
  private blocked = false;
  private frozen = false;
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

  /** Stops forwarding in both directions; connections stay open, new ones are accepted. */
  freeze(): void {
    this.frozen = true;
    for (const { from, to } of this.flows) {
      from.unpipe(to);
      from.pause();
    }
  }

  /** Ends block() and freeze(): what was held back is forwarded. */
  restore(): void {
    this.blocked = false;
    if (!this.frozen) return;
    this.frozen = false;
    for (const { from, to } of this.flows) from.pipe(to);
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
      const flow = { from: a, to: b };
      this.sockets.add(a);
      this.flows.add(flow);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        this.flows.delete(flow);
        b.destroy();
      });
      if (this.frozen) a.pause();
      else a.pipe(b);
    }
  }
}

/** Host and port of a URL (postgres://, redis://), with the scheme's default port. */
export function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || defaultPort) };
}
