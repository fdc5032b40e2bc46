import { Redis } from 'ioredis';
import type { Presence } from './presence.js';

export interface RedisPresenceOptions {
  url: string;
  keyPrefix: string;
  nodeId: string;
  /** How often this node renews its heartbeat. */
  heartbeatMs: number;
  /** A node silent for longer is dead: its users count as offline. */
  nodeTimeoutMs: number;
  now?: () => number;
}

/** Keys: one hash per user (connection id → node id), one set per node (its "user|connection" entries), one sorted set of nodes by last heartbeat. */
const userKey = (userId: string) => `presence:user:${userId}`;
const nodeKey = (nodeId: string) => `presence:node:${nodeId}`;
const NODES = 'presence:nodes';

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
 */
export class RedisPresence implements Presence {
  private readonly redis: Redis;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private registration: Promise<void> | undefined;

  constructor(private readonly options: RedisPresenceOptions) {
    this.now = options.now ?? Date.now;
    this.redis = new Redis(options.url, { keyPrefix: options.keyPrefix, maxRetriesPerRequest: 2 });
    this.redis.defineCommand('ecDropNode', { numberOfKeys: 2, lua: DROP_NODE });
    this.timer = setInterval(() => void this.beat().catch(() => undefined), options.heartbeatMs);
    this.timer.unref();
  }

  /** Renews this node's heartbeat and clears nodes that missed theirs. */
  async beat(): Promise<void> {
    if (this.registration) await this.redis.zadd(NODES, this.now(), this.options.nodeId);
    const dead = await this.redis.zrangebyscore(NODES, 0, this.now() - this.options.nodeTimeoutMs);
    for (const node of dead) await this.dropNode(node);
  }

  async connected(userId: string, connectionId: string): Promise<void> {
    const { nodeId } = this.options;
    // A node restarting under the same id first clears what its previous run left.
    this.registration ??= this.dropNode(nodeId).then(async () => {
      await this.redis.zadd(NODES, this.now(), nodeId);
    });
    await this.registration;
    await this.redis
      .multi()
      .hset(userKey(userId), connectionId, nodeId)
      .sadd(nodeKey(nodeId), `${userId}|${connectionId}`)
      .exec();
  }

  async disconnected(userId: string, connectionId: string): Promise<void> {
    await this.redis
      .multi()
      .hdel(userKey(userId), connectionId)
      .srem(nodeKey(this.options.nodeId), `${userId}|${connectionId}`)
      .exec();
  }

  async onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    const routes = await this.routes(userIds);
    return new Set([...routes.values()].flat());
  }

  async routes(userIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (userIds.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const id of userIds) pipeline.hvals(userKey(id));
    const [results, alive] = await Promise.all([pipeline.exec(), this.aliveNodes()]);
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

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.dropNode(this.options.nodeId).catch(() => undefined);
    await this.redis.quit().catch(() => this.redis.disconnect());
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
