import type { Consumer, Subscription } from '../adapters/bus/bus.js';
import { DomainTopic } from '../events/domain-events.js';
import type { Logger } from '../shared/logger.js';
import { CloseCode } from './close-codes.js';
import type { ConnectionRegistry } from './connection-registry.js';

/**
 * Gateway role: closes the sockets of a disabled user or of a token that logged
 * out. Every gateway must see these events (each closes its own sockets), so they
 * come through the broker's live subscription; pushes never do (PushDelivery).
 */
export function closeRevokedSockets(deps: {
  broker: Consumer;
  connections: ConnectionRegistry;
  logger: Logger;
}): Promise<Subscription> {
  const { connections, logger } = deps;
  return DomainTopic.subscribe(deps.broker, ['user-disabled', 'user-logged_out'], async (event) => {
    try {
      if (event.type === 'user-disabled') {
        connections.closeUser(event.payload.userId, CloseCode.disabled, 'account disabled');
        return;
      }
      const { userId, tokenId } = event.payload;
      for (const connection of [...connections.forUser(userId)]) {
        if (connection.tokenId === tokenId) {
          connection.close(CloseCode.unauthorized, 'token revoked');
        }
      }
    } catch (err) {
      logger.warn({ err, type: event.type }, 'closing revoked sockets failed');
    }
  });
}
