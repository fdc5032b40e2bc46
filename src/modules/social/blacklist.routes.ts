import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authenticate, caller } from '../../auth/authenticate.js';
import type { TokenService } from '../../auth/token.service.js';
import { errorResponses, ok } from '../../http/envelope.js';
import { BlacklistResponse, BlockBody, BlockQuery } from './blacklist.schema.js';
import type { BlacklistService } from './blacklist.service.js';
import { SocialErrors } from './social.errors.js';
import { EmptyResponse, security, tags } from './social.schema.js';

/** `/v1/social/blacklist`: thin edges over BlacklistService. */
export function blacklistRoutes(deps: {
  blacklist: BlacklistService;
  tokens: TokenService;
}): FastifyPluginAsyncTypebox {
  const { blacklist } = deps;
  return async (app) => {
    app.addHook('onRequest', authenticate(deps.tokens));

    app.post(
      '/blacklist',
      {
        schema: {
          tags,
          security,
          summary: 'Block a user (they can no longer message, befriend or invite me)',
          operationId: 'block',
          errors: [SocialErrors.cannotBlockSelf, SocialErrors.targetUserNotFound],
          body: BlockBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await blacklist.block(caller(request).userId, request.body.userId);
        return ok({});
      },
    );

    app.delete(
      '/blacklist',
      {
        schema: {
          tags,
          security,
          summary: 'Unblock a user',
          operationId: 'unblock',
          errors: [SocialErrors.notBlocked],
          querystring: BlockQuery,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await blacklist.unblock(caller(request).userId, request.query.userId);
        return ok({});
      },
    );

    app.get(
      '/blacklist',
      {
        schema: {
          tags,
          security,
          summary: 'Users I blocked',
          operationId: 'blacklist',
          response: { 200: BlacklistResponse, ...errorResponses },
        },
      },
      async (request) => ok({ list: await blacklist.list(caller(request).userId) }),
    );
  };
}
