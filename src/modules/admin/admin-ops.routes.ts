import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../../errors/app-error.js';
import { AdminErrors } from '../../auth/admin.errors.js';
import { authenticateAdmin } from '../../auth/admin-auth.js';
import type { TokenService } from '../../auth/token.service.js';
import { errorResponses, ok } from '../../http/envelope.js';
import { newId } from '../../shared/ids.js';
import { ImErrors } from '../im/im.errors.js';
import type { SystemNotices } from '../im/system-notices.js';
import type { AdminStats } from './admin-stats.js';
import { ADMIN_SOURCE } from './admin-users.routes.js';
import { AdminNoticeBody, AdminNoticeResponse, AdminStatsResponse } from './admin.schema.js';

/** `/v1/admin/notices` and `/v1/admin/stats`. */
export function adminOpsRoutes(deps: {
  adminToken: string;
  tokens: TokenService;
  notices: SystemNotices;
  stats: AdminStats;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    const onRequest = authenticateAdmin(deps.adminToken, deps.tokens);
    const adminErrors = [AdminErrors.adminForbidden, AdminErrors.adminDisabled];

    app.post(
      '/notices',
      {
        onRequest,
        schema: {
          tags: ['admin'],
          security: [{ bearer: [] }],
          summary: 'Send a system notice to users (each in its system conversation) or a group',
          operationId: 'adminSendNotice',
          errors: [...adminErrors, AdminErrors.noticeTargetInvalid, ImErrors.groupNotFound],
          body: AdminNoticeBody,
          response: { 200: AdminNoticeResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { userIds, groupId, content } = request.body;
        if ((userIds === undefined) === (groupId === undefined)) {
          throw new AppError(AdminErrors.noticeTargetInvalid);
        }
        // The same system-notice message the ingested `system_notice-created` posts.
        const notice = { noticeId: newId(), title: '', content, source: ADMIN_SOURCE };
        const delivered =
          groupId !== undefined
            ? await deps.notices.postToGroup(groupId, notice)
            : await deps.notices.postToUsers([...new Set(userIds)], notice);
        return ok({ delivered });
      },
    );

    app.get(
      '/stats',
      {
        onRequest,
        schema: {
          tags: ['admin'],
          security: [{ bearer: [] }],
          summary: 'Users, users online now and messages per UTC day for the last 7 days',
          operationId: 'adminStats',
          errors: adminErrors,
          response: { 200: AdminStatsResponse, ...errorResponses },
        },
      },
      async () => ok(await deps.stats.read()),
    );
  };
}
