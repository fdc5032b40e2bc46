import type { Consumer, Subscription } from '../adapters/bus/bus.js';
import { DomainTopic } from '../events/domain-events.js';
import type { Logger } from '../shared/logger.js';
import { CloseCode } from './close-codes.js';
import type { ConnectionRegistry } from './connection-registry.js';

/**
 * Gateway role: closes the sockets of a disabled or deleted user, of a user whose
 * password changed (those of revoked tokens) or of a token that logged out. Every gateway must see these events (each closes its own sockets), so they
 * come through the broker's live subscription; pushes never do (PushDelivery).
 */
export function closeRevokedSockets(deps: {
  broker: Consumer;
  connections: ConnectionRegistry;
  logger: Logger;
}): Promise<Subscription> {
  const { connections, logger } = deps;
  const types = [
    'user-disabled',
    'user-deleted',
    'user-password_changed',
    'user-sessions_ended',
    'user-logged_out',
  ] as const;
  return DomainTopic.subscribe(deps.broker, types, async (event) => {
    try {
      if (event.type === 'user-disabled') {
        connections.closeUser(event.payload.userId, CloseCode.disabled, 'account disabled');
        return;
      }
      if (event.type === 'user-deleted') {
        connections.closeUser(event.payload.userId, CloseCode.disabled, 'account deleted');
        return;
      }
      if (event.type === 'user-password_changed' || event.type === 'user-sessions_ended') {
        // Sockets of revoked tokens close; one already opened with the token the
        // change answered (issued after the cut-off) stays.
        const { userId, revokedUpTo } = event.payload;
        const reason =
          event.type === 'user-password_changed' ? 'password changed' : 'logged out by admin';
        for (const connection of [...connections.forUser(userId)]) {
          if (connection.tokenIssuedAt <= revokedUpTo) {
            connection.close(CloseCode.unauthorized, reason);
          }
        }
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
