import type { NodeMailbox } from '../adapters/mailbox/mailbox.js';
import { MemoryMailbox } from '../adapters/mailbox/memory-mailbox.js';
import { MemoryPresence } from '../adapters/presence/memory-presence.js';
import type { Presence } from '../adapters/presence/presence.js';
import { ALL_ROLES, type Config } from '../config/config.schema.js';
import type { Logger } from '../shared/logger.js';

/**
 * Presence and the per-gateway mailboxes, chosen by `cluster.*`. Redis's and NATS's
 * clients are loaded only when chosen (as in src/shared/load-when-used.ts).
 */
export async function openCluster(
  config: Config,
  logger: Logger,
  hooks: { onPresenceRestored?: () => void } = {},
): Promise<{ presence: Presence; mailbox: NodeMailbox }> {
  warnIfSplitWithoutSharing(config, logger);
  const presence = await openPresence(config, hooks);
  let mailbox: NodeMailbox;
  try {
    mailbox = await openMailbox(config);
  } catch (err) {
    await presence.close();
    throw err;
  }
  return { presence, mailbox };
}

async function openPresence(
  config: Config,
  hooks: { onPresenceRestored?: () => void },
): Promise<Presence> {
  const { cluster, cache, nodeId } = config;
  if (cluster.presence !== 'redis') return new MemoryPresence(nodeId);
  const { RedisPresence } = await import('../adapters/presence/redis-presence.js');
  return new RedisPresence({
    url: cache.redis.url,
    keyPrefix: cache.redis.keyPrefix,
    nodeId,
    heartbeatMs: cluster.heartbeatMs,
    nodeTimeoutMs: cluster.nodeTimeoutMs,
    onRestored: hooks.onPresenceRestored,
  });
}

async function openMailbox(config: Config): Promise<NodeMailbox> {
  const { cluster, cache, bus, nodeId } = config;
  if (cluster.transport === 'nats') {
    const { NatsMailbox } = await import('../adapters/mailbox/nats-mailbox.js');
    return NatsMailbox.connect({
      url: bus.nats.url,
      prefix: bus.prefix,
      name: `easy-chat:${nodeId}`,
    });
  }
  if (cluster.transport === 'redis') {
    const { RedisMailbox } = await import('../adapters/mailbox/redis-mailbox.js');
    return new RedisMailbox({ url: cache.redis.url, prefix: cache.redis.keyPrefix });
  }
  return new MemoryMailbox(nodeId);
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
