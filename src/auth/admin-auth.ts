import { createHash, timingSafeEqual } from 'node:crypto';
import type { onRequestAsyncHookHandler } from 'fastify';
import { AppError } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';
import { AdminErrors } from './admin.errors.js';
import { bearerToken } from './authenticate.js';
import type { TokenService } from './token.service.js';

/**
 * Admin credential check: the bearer must equal `admin.token`. A missing or
 * unrecognisable credential is 401; a valid user token is 403 (authenticated,
 * not an admin); an empty `admin.token` turns the admin API off (404).
 */
export function authenticateAdmin(
  adminToken: string,
  tokens: TokenService,
): onRequestAsyncHookHandler {
  const expected = digest(adminToken);
  return async (request) => {
    if (adminToken === '') throw new AppError(AdminErrors.adminDisabled);
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new AppError(CommonErrors.unauthorized, 'admin credential missing');
    if (timingSafeEqual(digest(token), expected)) return;
    const asUser = await tokens.verify(token).catch(() => undefined);
    if (asUser) throw new AppError(AdminErrors.adminForbidden);
    throw new AppError(CommonErrors.unauthorized, 'admin credential invalid');
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
