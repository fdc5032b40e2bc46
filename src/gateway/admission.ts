import type { FastifyRequest } from 'fastify';
import type { Presence } from '../adapters/presence/presence.js';
import type { AuthContext, TokenService } from '../auth/token.service.js';
import { authenticateUpgrade } from '../auth/upgrade-auth.js';
import { isAppError } from '../errors/app-error.js';
import { newId } from '../shared/ids.js';

/** What the upgrade request settled before the socket exists. */
export interface Admission {
  auth?: AuthContext;
  /** Why the token was refused (the 4001 close reason). */
  refused?: string;
  connectionId: string;
  /** A session took the socket over (and with it the presence entry). */
  claimed: boolean;
}

/**
 * Authenticates an upgrade request and registers its connection in presence.
 * A refused token is not an error here (the socket is closed 4001 after the
 * upgrade); anything else thrown (503) answers the upgrade request itself.
 */
export async function admit(
  request: FastifyRequest,
  deps: { tokens: TokenService; presence: Presence },
): Promise<Admission> {
  const connectionId = newId();
  let auth: AuthContext;
  try {
    auth = await authenticateUpgrade(request, deps.tokens);
  } catch (err) {
    if (isAppError(err) && err.status === 401) {
      return { refused: err.message, connectionId, claimed: false };
    }
    throw err;
  }
  const admission: Admission = { auth, connectionId, claimed: false };
  // The token id tells which push device is online (docs/push.md).
  await deps.presence.connected(auth.userId, connectionId, auth.jti);
  // A client gone before the upgrade completes never gets a session to remove its entry.
  const release = () => {
    if (!admission.claimed) {
      void deps.presence.disconnected(auth.userId, connectionId).catch(() => undefined);
    }
  };
  const raw = request.raw.socket;
  if (raw.destroyed) release();
  else raw.once('close', release);
  return admission;
}
