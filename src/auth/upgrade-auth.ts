import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';
import { bearerToken } from './authenticate.js';
import type { AuthContext, TokenService } from './token.service.js';

/**
 * Who a WebSocket upgrade request speaks for. The token may come as a Bearer
 * header, a `token` query parameter (browsers cannot set headers on a WebSocket)
 * or the last subprotocol.
 */
export async function authenticateUpgrade(
  request: FastifyRequest,
  tokens: TokenService,
): Promise<AuthContext> {
  const token =
    bearerToken(request.headers.authorization) ??
    (request.query as Record<string, unknown>).token ??
    lastProtocol(request.headers['sec-websocket-protocol']);
  if (typeof token !== 'string' || token === '') {
    throw new AppError(CommonErrors.unauthorized, 'token missing');
  }
  return tokens.verify(token);
}

/** `Sec-WebSocket-Protocol: <token>` or `bearer, <token>`: the token is the last entry. */
function lastProtocol(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  return value
    ?.split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .pop();
}
