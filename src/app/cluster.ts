import type { NodeMailbox } from '../adapters/mailbox/mailbox.js';
import { MemoryMailbox } from '../adapters/mailbox/memory-mailbox.js';
import { NatsMailbox } from '../adapters/mailbox/nats-mailbox.js';
import { RedisMailbox } from '../adapters/mailbox/redis-mailbox.js';
import { MemoryPresence } from '../adapters/presence/memory-presence.js';
import type { Presence } from '../adapters/presence/presence.js';
import { RedisPresence } from '../adapters/presence/redis-presence.js';
import { ALL_ROLES, type Config } from '../config/config.schema.js';
import type { Logger } from '../shared/logger.js';

/** Presence and the per-gateway mailboxes, chosen by `cluster.*`. */
export async function openCluster(
  config: Config,
  logger: Logger,
  hooks: { onPresenceRestored?: () => void } = {},
): Promise<{ presence: Presence; mailbox: NodeMailbox }> {
  const { cluster, cache, bus, nodeId } = config;
  warnIfSplitWithoutSharing(config, logger);
  const presence: Presence =
    cluster.presence === 'redis'
      ? new RedisPresence({
          url: cache.redis.url,
          keyPrefix: cache.redis.keyPrefix,
          nodeId,
          heartbeatMs: cluster.heartbeatMs,
          nodeTimeoutMs: cluster.nodeTimeoutMs,
          onRestored: hooks.onPresenceRestored,
        })
      : new MemoryPresence(nodeId);
  let mailbox: NodeMailbox;
  try {
    mailbox =
      cluster.transport === 'nats'
        ? await NatsMailbox.connect({
            url: bus.nats.url,
            prefix: bus.prefix,
            name: `easy-chat:${nodeId}`,
          })
        : cluster.transport === 'redis'
          ? new RedisMailbox({ url: cache.redis.url, prefix: cache.redis.keyPrefix })
          : new MemoryMailbox(nodeId);
  } catch (err) {
    await presence.close();
    throw err;
  }
  return { presence, mailbox };
}

/**
 * A process that runs only some roles depends on others for the rest; with
 * in-process presence, transport, bus or storage they would never meet. That is
 * legal (a REST-only process, say) but rarely meant, so it is said at start-up.
 */
function warnIfSplitWithoutSharing(config: Config, logger: Logger): void {
  if (ALL_ROLES.every((role) => config.roles.includes(role))) return;
  const local = [
    config.cluster.presence === 'memory' && 'cluster.presence',
    config.cluster.transport === 'memory' && 'cluster.transport',
    config.bus.driver === 'memory' && 'bus.driver',
    config.storage.driver === 'sqlite' && 'storage.driver',
  ].filter(Boolean);
  if (local.length > 0) {
    logger.warn(
      { roles: config.roles, local },
      'this process runs only some roles but keeps these in-process, so other processes cannot share them',
    );
  }
}
