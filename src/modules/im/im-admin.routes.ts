import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authenticateAdmin } from '../../auth/admin-auth.js';
import type { TokenService } from '../../auth/token.service.js';
import { errorResponses, ok } from '../../http/envelope.js';
import { MessageVersionsParams, MessageVersionsResponse } from './im.schema.js';
import type { MessageChangeService } from './message-change.service.js';

/** `/v1/admin/messages`: the audit trail of edited messages (admin token). */
export function imAdminRoutes(deps: {
  adminToken: string;
  tokens: TokenService;
  changes: MessageChangeService;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/messages/:msgId/versions',
      {
        onRequest: authenticateAdmin(deps.adminToken, deps.tokens),
        schema: {
          tags: ['admin'],
          security: [{ bearer: [] }],
          summary: 'The texts a message had before each edit, oldest first',
          operationId: 'messageVersions',
          params: MessageVersionsParams,
          response: { 200: MessageVersionsResponse, ...errorResponses },
        },
      },
      async (request) => ok(await deps.changes.versions(request.params.msgId)),
    );
  };
}
