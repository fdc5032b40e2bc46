import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { AppError } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';
import type { AuthContext, TokenService } from './token.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authenticate hook on routes that require a token. */
    auth: AuthContext | null;
  }
}

/** The bearer token of a request, or undefined when absent or not a Bearer header. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * onRequest hook for protected routes: it runs before the body is read, so an
 * anonymous client cannot make the server parse a large body.
 */
export function authenticate(tokens: TokenService): onRequestAsyncHookHandler {
  return async (request) => {
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new AppError(CommonErrors.unauthorized, 'token missing');
    request.auth = await tokens.verify(token);
  };
}

/** The caller of an authenticated route (the hook guarantees it is set). */
export function caller(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new AppError(CommonErrors.unauthorized, 'token missing');
  return request.auth;
}
