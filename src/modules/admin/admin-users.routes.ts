import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AdminErrors } from '../../auth/admin.errors.js';
import { authenticateAdmin } from '../../auth/admin-auth.js';
import type { TokenService } from '../../auth/token.service.js';
import { errorResponses, ok } from '../../http/envelope.js';
import { UserStatus, type User } from '../user/user.entity.js';
import { UserErrors } from '../user/user.errors.js';
import type { UserRepository } from '../user/user.repository.js';
import type { UserService } from '../user/user.service.js';
import {
  AdminUserParams,
  AdminUsersQuery,
  AdminUsersResponse,
  EmptyResponse,
  SetUserStatusBody,
} from './admin.schema.js';

/** What every action of the admin API records as its `source`. */
export const ADMIN_SOURCE = 'admin';

const STATUS_NAMES = {
  [UserStatus.active]: 'active',
  [UserStatus.disabled]: 'disabled',
  [UserStatus.deleted]: 'deleted',
} as const;

/** `/v1/admin/users`: search accounts, disable or enable them, end their sessions. */
export function adminUserRoutes(deps: {
  adminToken: string;
  tokens: TokenService;
  users: UserService;
  userRepository: UserRepository;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    const onRequest = authenticateAdmin(deps.adminToken, deps.tokens);
    const adminErrors = [AdminErrors.adminForbidden, AdminErrors.adminDisabled];

    app.get(
      '/users',
      {
        onRequest,
        schema: {
          tags: ['admin'],
          security: [{ bearer: [] }],
          summary: 'Search users by exact id, phone prefix or nickname substring',
          operationId: 'adminSearchUsers',
          errors: adminErrors,
          querystring: AdminUsersQuery,
          response: { 200: AdminUsersResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { query, limit, cursor } = request.query;
        const found = await deps.userRepository.adminSearch({ query, after: cursor, limit });
        const last = found.length === limit ? found[found.length - 1] : undefined;
        return ok({ list: found.map(toAdminUser), ...(last ? { cursor: last.id } : {}) });
      },
    );

    app.put(
      '/users/:id',
      {
        onRequest,
        schema: {
          tags: ['admin'],
          security: [{ bearer: [] }],
          summary: 'Disable an account (sockets close, tokens stop working) or enable it again',
          operationId: 'adminSetUserStatus',
          errors: [...adminErrors, UserErrors.userNotFound],
          params: AdminUserParams,
          body: SetUserStatusBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { id } = request.params;
        if (request.body.status === 'disabled') {
          await deps.users.disable(id, { reason: 'disabled by admin', source: ADMIN_SOURCE });
        } else {
          await deps.users.enable(id, { source: ADMIN_SOURCE });
        }
        return ok({});
      },
    );

    app.post(
      '/users/:id/logout',
      {
        onRequest,
        schema: {
          tags: ['admin'],
          security: [{ bearer: [] }],
          summary: 'Force logout: revoke every token of the user and close its sockets',
          operationId: 'adminLogoutUser',
          errors: [...adminErrors, UserErrors.userNotFound],
          params: AdminUserParams,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await deps.users.endAllSessions(request.params.id, { source: ADMIN_SOURCE });
        return ok({});
      },
    );
  };
}

function toAdminUser(user: User) {
  const { id, phone, nickname, createdAt } = user;
  return { id, phone, nickname, status: STATUS_NAMES[user.status], createdAt };
}
