import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../../errors/app-error.js';
import { CommonErrors } from '../../errors/common.errors.js';
import { authenticateAdmin } from '../../auth/admin-auth.js';
import { errorResponses, ok } from '../../http/envelope.js';
import type { TokenService } from '../../auth/token.service.js';
import type { AuditRepository } from './audit.repository.js';
import { AuditListResponse, AuditQuery } from '../../events/event.schema.js';
import { AdminErrors } from '../../auth/admin.errors.js';

/** `/v1/admin`: the audit log, newest first, with filters and a cursor. */
export function adminRoutes(deps: {
  adminToken: string;
  tokens: TokenService;
  audit: AuditRepository;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/audit',
      {
        onRequest: authenticateAdmin(deps.adminToken, deps.tokens),
        schema: {
          tags: ['admin'],
          security: [{ bearer: [] }],
          summary: 'Audit log: user actions and server errors, newest first',
          operationId: 'listAudit',
          errors: [AdminErrors.adminForbidden, AdminErrors.adminDisabled],
          querystring: AuditQuery,
          response: { 200: AuditListResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { cursor, limit, ...filters } = request.query;
        const after = cursor === undefined ? undefined : decodeCursor(cursor);
        const list = await deps.audit.list({ ...filters, after, limit });
        const last = list.length === limit ? list[list.length - 1] : undefined;
        return ok({ list, nextCursor: last ? encodeCursor(last) : null });
      },
    );
  };
}

function encodeCursor(row: { occurredAt: number; id: string }): string {
  return Buffer.from(`${row.occurredAt}:${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { occurredAt: number; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const occurredAt = Number(at);
  if (!id || !Number.isSafeInteger(occurredAt)) {
    throw new AppError(CommonErrors.badRequest, 'cursor is invalid');
  }
  return { occurredAt, id };
}
