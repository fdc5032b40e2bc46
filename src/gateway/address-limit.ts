import type { Socket } from 'node:net';

/**
 * Open WebSocket connections per client address (`gateway.maxConnectionsPerAddress`),
 * so one host cannot hold an unbounded share of a gateway's sockets. A connection is
 * counted from its upgrade request until its TCP socket closes, whether or not it
 * authenticated. The address is Fastify's `request.ip`, which honours
 * `server.trustProxy`.
 */
export class AddressLimit {
  private readonly open = new Map<string, number>();
  private readonly counted = new WeakSet<Socket>();

  /** `max` 0 means no cap. */
  constructor(private readonly max: number) {}

  /** Counts `socket` for `address` until it closes; false when the address is at the cap. */
  admit(address: string, socket: Socket): boolean {
    if (this.max === 0 || this.counted.has(socket)) return true;
    const count = this.open.get(address) ?? 0;
    if (count >= this.max) return false;
    this.open.set(address, count + 1);
    this.counted.add(socket);
    socket.once('close', () => {
      const left = (this.open.get(address) ?? 1) - 1;
      if (left > 0) this.open.set(address, left);
      else this.open.delete(address);
    });
    return true;
  }

  /** Open connections counted for `address` (tests, diagnostics). */
  countFor(address: string): number {
    return this.open.get(address) ?? 0;
  }
}
