import { CloseCode } from './close-codes.js';
import type { Connection } from './connection.js';
import { OutboundFrame } from '../realtime/outbound-frame.js';

/**
 * The live connections of this gateway process, by user. Delivery to a user is a
 * lookup here; presence across processes is the Presence port's job.
 */
export class ConnectionRegistry {
  private readonly byUser = new Map<string, Connection[]>();
  /** The same connections by id: a push's `exceptConnectionId` is looked up once, not compared per socket. */
  private readonly byId = new Map<string, Connection>();
  private count = 0;
  /** The connections corked by the `together` running now (undefined outside one). */
  private held: Connection[] | undefined;

  constructor(private readonly maxPerUser: number) {}

  get size(): number {
    return this.count;
  }

  /**
   * Adds a connection. Past the per-user maximum the oldest connection is closed
   * (the newest device wins; a stale socket must not lock a user out).
   */
  add(connection: Connection): void {
    const list = this.byUser.get(connection.userId) ?? [];
    list.push(connection);
    this.byUser.set(connection.userId, list);
    this.byId.set(connection.id, connection);
    this.count += 1;
    while (list.length > this.maxPerUser) {
      const oldest = list[0]!;
      this.remove(oldest);
      oldest.close(CloseCode.replaced, 'too many connections; closed the oldest');
    }
  }

  /** Removes a connection; returns whether it was still registered. */
  remove(connection: Connection): boolean {
    const list = this.byUser.get(connection.userId);
    const index = list?.indexOf(connection) ?? -1;
    if (!list || index < 0) return false;
    list.splice(index, 1);
    if (list.length === 0) this.byUser.delete(connection.userId);
    if (this.byId.get(connection.id) === connection) this.byId.delete(connection.id);
    this.count -= 1;
    return true;
  }

  forUser(userId: string): readonly Connection[] {
    return this.byUser.get(userId) ?? [];
  }

  users(): IterableIterator<string> {
    return this.byUser.keys();
  }

  /**
   * Sends one serialized frame to every connection of these users, except
   * `exceptConnectionId`. Returns how many sockets it was queued on. `text` may be a
   * function making the frame: called only if some socket gets it; or a frame already
   * on its way to other batches of recipients, whose bytes are then made only once.
   */
  deliver(
    userIds: Iterable<string>,
    text: string | OutboundFrame | (() => string),
    exceptConnectionId?: string,
  ): number {
    let sent = 0;
    // Encoded once, for the first socket it goes to: every socket gets the same bytes.
    let frame: OutboundFrame | undefined;
    // Left out by identity: comparing every recipient's id string with it read one more
    // object per socket: a third of this loop's own time in a group of 1,000's profile.
    const except = exceptConnectionId === undefined ? undefined : this.byId.get(exceptConnectionId);
    const held = this.held;
    for (const userId of userIds) {
      const connections = this.byUser.get(userId);
      if (connections === undefined) continue;
      for (const connection of connections) {
        if (connection === except) continue;
        frame ??=
          text instanceof OutboundFrame
            ? text
            : new OutboundFrame(typeof text === 'string' ? text : text());
        if (held !== undefined && connection.hold()) held.push(connection);
        if (connection.sendFrame(frame)) sent += 1;
      }
    }
    return sent;
  }

  /**
   * Runs `work`, and what it delivers to a socket leaves in one write when it returns:
   * a reply's push and its read receipt go to the same devices one after the other,
   * and each frame written alone is a system call (on PostgreSQL at 800 questions/s
   * about a fifth of the server's CPU profile was these writes). Nothing waits: the
   * frames are written before this returns, in the order delivered.
   */
  together<T>(work: () => T): T {
    if (this.held !== undefined) return work();
    const held: Connection[] = [];
    this.held = held;
    try {
      return work();
    } finally {
      this.held = undefined;
      for (const connection of held) connection.release();
    }
  }

  /** Whether any of these users has a connection here other than `exceptConnectionId`. */
  reaches(userIds: Iterable<string>, exceptConnectionId?: string): boolean {
    for (const userId of userIds) {
      for (const connection of this.byUser.get(userId) ?? []) {
        if (connection.id !== exceptConnectionId) return true;
      }
    }
    return false;
  }

  /** Closes every connection of a user, e.g. when the account is disabled. */
  closeUser(userId: string, code: number, reason: string): number {
    const list = [...this.forUser(userId)];
    for (const connection of list) connection.close(code, reason);
    return list.length;
  }

  closeAll(code: number, reason: string): void {
    for (const list of this.byUser.values()) {
      for (const connection of [...list]) connection.close(code, reason);
    }
  }
}
