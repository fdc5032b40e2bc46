import { Redis } from 'ioredis';
import { isUsable, redisCall } from '../redis.js';
import type { Presence } from './presence.js';

export interface RedisPresenceOptions {
  url: string;
  keyPrefix: string;
  nodeId: string;
  /** How often this node renews its heartbeat (and checks its entries are still there). */
  heartbeatMs: number;
  /** A node silent for longer is dead: its users count as offline. */
  nodeTimeoutMs: number;
  now?: () => number;
  /**
   * Called after this node's entries were written again because Redis had lost them
   * (it restarted empty, or was unreachable). Other processes could not route to
   * this node's sockets meanwhile, so those sockets may have missed pushes.
   */
  onRestored?: () => void;
}

/**
 * Keys: one hash per user (connection → node id), one set per node (its "user|connection"
 * entries), one sorted set of nodes by last heartbeat. A connection's field is its id,
 * followed by `/` and the access token's jti when it has one (which device is online,
 * for push); readers of the node ids (routes) never look at the field.
 */
const userKey = (userId: string) => `presence:user:${userId}`;
const fieldOf = (connectionId: string, tokenId?: string) =>
  tokenId ? `${connectionId}/${tokenId}` : connectionId;
const tokenOf = (field: string) => {
  const slash = field.indexOf('/');
  return slash < 0 ? undefined : field.slice(slash + 1);
};
const nodeKey = (nodeId: string) => `presence:node:${nodeId}`;
const NODES = 'presence:nodes';
/** Entries written per round trip when re-registering a node. */
const RESTORE_BATCH = 1_000;

/** Removes a node's entries and the node itself, atomically. */
const DROP_NODE = `
local entries = redis.call('SMEMBERS', KEYS[1])
for _, entry in ipairs(entries) do
  local sep = string.find(entry, '|', 1, true)
  redis.call('HDEL', ARGV[2] .. string.sub(entry, 1, sep - 1), string.sub(entry, sep + 1))
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return #entries
`;

/**
 * Presence shared by every process through Redis. A user is online when one of
 * their connections is registered by a node whose heartbeat is recent; a node
 * that stops (crash, SIGKILL) drops out of every answer once its heartbeat is
 * older than `nodeTimeoutMs`, and any live node then clears its leftovers.
 *
 * Redis is not the source of truth for this node's own connections: they are kept
 * here too, and written to Redis again whenever Redis may have lost them (the
 * connection dropped and came back, or the heartbeat finds fewer entries than this
 * node holds). While Redis is unreachable, connecting and disconnecting still work
 * locally and lookups fail with DependencyUnavailableError.
 */
export class RedisPresence implements Presence {
  private readonly redis: Redis;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  /** This node's connections: connection id → user id and hash field. */
  private readonly mine = new Map<string, { userId: string; field: string }>();
  /** Started by the first connection: clears a previous run's entries, joins the node set. */
  private registered: Promise<void> | undefined;
  /** Registration finished (whether or not Redis answered). */
  private joined = false;
  /** Redis may be missing some of this node's entries: write them all again. */
  private stale = false;
  private restoring: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: RedisPresenceOptions) {
    this.now = options.now ?? Date.now;
    this.redis = new Redis(options.url, { keyPrefix: options.keyPrefix, maxRetriesPerRequest: 2 });
    this.redis.defineCommand('ecDropNode', { numberOfKeys: 2, lua: DROP_NODE });
    this.redis.on('error', () => undefined);
    // A dropped connection may mean a Redis that restarted empty: restore on return.
    this.redis.on('close', () => {
      if (this.joined) this.stale = true;
    });
    this.redis.on('ready', () => {
      if (this.stale) void this.restore().catch(() => undefined);
    });
    this.timer = setInterval(() => void this.beat().catch(() => undefined), options.heartbeatMs);
    this.timer.unref();
  }

  /** How many connections this node holds (tests, metrics). */
  get localCount(): number {
    return this.mine.size;
  }

  /**
   * Renews this node's heartbeat, checks that Redis still holds all of its entries
   * (restoring them if not), and clears nodes that missed their heartbeat.
   */
  async beat(): Promise<void> {
    if (this.joined && !this.restoring) {
      if (this.stale) {
        await this.restore();
      } else {
        // Everything this node wrote so far was sent before this check, in order, so
        // the count Redis answers must equal the count held now.
        const expected = this.mine.size;
        const replies = await this.call(() =>
          this.redis
            .multi()
            .zadd(NODES, this.now(), this.options.nodeId)
            .scard(nodeKey(this.options.nodeId))
            .exec(),
        );
        const count = Number(replies?.[1]?.[1] ?? 0);
        if (count !== expected && !this.stale) {
          this.stale = true;
          await this.restore();
        }
      }
    }
    const dead = await this.call(() =>
      this.redis.zrangebyscore(NODES, 0, this.now() - this.options.nodeTimeoutMs),
    );
    for (const node of dead) await this.call(() => this.dropNode(node));
  }

  async connected(userId: string, connectionId: string, tokenId?: string): Promise<void> {
    const field = fieldOf(connectionId, tokenId);
    this.mine.set(connectionId, { userId, field });
    // A node restarting under the same id first clears what its previous run left.
    this.registered ??= this.register();
    await this.registered;
    await this.write(() =>
      this.redis
        .multi()
        .hset(userKey(userId), field, this.options.nodeId)
        .sadd(nodeKey(this.options.nodeId), `${userId}|${field}`)
        .exec(),
    );
  }

  async disconnected(userId: string, connectionId: string): Promise<void> {
    const entry = this.mine.get(connectionId);
    if (!entry) return;
    this.mine.delete(connectionId);
    await this.write(() =>
      this.redis
        .multi()
        .hdel(userKey(userId), entry.field)
        .srem(nodeKey(this.options.nodeId), `${userId}|${entry.field}`)
        .exec(),
    );
  }

  async onlineTokens(userIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    if (userIds.length === 0) return out;
    const [results, alive] = await this.call(() => {
      const pipeline = this.redis.pipeline();
      for (const id of userIds) pipeline.hgetall(userKey(id));
      return Promise.all([pipeline.exec(), this.aliveNodes()]);
    });
    userIds.forEach((userId, i) => {
      const fields = (results?.[i]?.[1] as Record<string, string> | undefined) ?? {};
      for (const [field, node] of Object.entries(fields)) {
        if (!alive.has(node)) continue;
        let tokens = out.get(userId);
        if (!tokens) out.set(userId, (tokens = new Set()));
        const token = tokenOf(field);
        if (token !== undefined) tokens.add(token);
      }
    });
    return out;
  }

  async onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    const routes = await this.routes(userIds);
    return new Set([...routes.values()].flat());
  }

  async routes(userIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (userIds.length === 0) return out;
    const [results, alive] = await this.call(() => {
      const pipeline = this.redis.pipeline();
      for (const id of userIds) pipeline.hvals(userKey(id));
      return Promise.all([pipeline.exec(), this.aliveNodes()]);
    });
    userIds.forEach((userId, i) => {
      const nodes = new Set((results?.[i]?.[1] as string[] | undefined) ?? []);
      for (const node of nodes) {
        if (!alive.has(node)) continue;
        let list = out.get(node);
        if (!list) out.set(node, (list = []));
        list.push(userId);
      }
    });
    return out;
  }

  /**
   * Distinct users over the connection sets of live nodes: reads every live
   * connection, which is fine for an operator's statistics, not for a hot path.
   */
  async onlineCount(): Promise<number> {
    return this.call(async () => {
      const users = new Set<string>();
      for (const node of await this.aliveNodes()) {
        for (const member of await this.redis.smembers(nodeKey(node))) {
          users.add(member.slice(0, member.indexOf('|')));
        }
      }
      return users.size;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.mine.clear();
    await this.dropNode(this.options.nodeId).catch(() => undefined);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async register(): Promise<void> {
    try {
      await this.call(() => this.dropNode(this.options.nodeId));
      await this.call(() => this.redis.zadd(NODES, this.now(), this.options.nodeId));
    } catch {
      // Unreachable now: the entries are held here and written once Redis answers.
      this.stale = true;
    }
    this.joined = true;
  }

  /**
   * Sends one change to Redis. If Redis cannot take it now, the change is not lost:
   * this node's entries are written again, all of them, once Redis answers.
   */
  private async write(change: () => Promise<unknown>): Promise<void> {
    if (this.stale || !isUsable(this.redis)) {
      this.stale = true;
      return;
    }
    try {
      await this.call(change);
    } catch {
      this.stale = true;
    }
  }

  /** Writes every connection of this node again, from scratch. One at a time. */
  private restore(): Promise<void> {
    this.restoring ??= (async () => {
      try {
        if (this.closed) return;
        this.stale = false;
        const { nodeId } = this.options;
        await this.call(() => this.dropNode(nodeId));
        // Taken after the drop: changes made since go out after the batches, in order.
        const entries = [...this.mine];
        for (let i = 0; i < entries.length; i += RESTORE_BATCH) {
          const batch = this.redis.multi();
          for (const [, { userId, field }] of entries.slice(i, i + RESTORE_BATCH)) {
            batch.hset(userKey(userId), field, nodeId);
            batch.sadd(nodeKey(nodeId), `${userId}|${field}`);
          }
          await this.call(() => batch.exec());
        }
        await this.call(() => this.redis.zadd(NODES, this.now(), nodeId));
        this.options.onRestored?.();
      } catch (err) {
        this.stale = true;
        throw err;
      } finally {
        this.restoring = undefined;
      }
    })();
    return this.restoring;
  }

  private call<T>(call: () => Promise<T>): Promise<T> {
    return redisCall(this.redis, 'presence', call);
  }

  private async aliveNodes(): Promise<Set<string>> {
    const nodes = await this.redis.zrangebyscore(
      NODES,
      this.now() - this.options.nodeTimeoutMs,
      '+inf',
    );
    return new Set(nodes);
  }

  private async dropNode(nodeId: string): Promise<void> {
    const redis = this.redis as unknown as {
      ecDropNode(node: string, nodes: string, id: string, userPrefix: string): Promise<number>;
    };
    // Keys inside the script are not prefixed by ioredis: pass the full user key prefix.
    await redis.ecDropNode(
      nodeKey(nodeId),
      NODES,
      nodeId,
      `${this.options.keyPrefix}presence:user:`,
    );
  }
}
