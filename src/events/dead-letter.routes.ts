import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Broker, DeadLetter } from '../adapters/bus/bus.js';
import { AppError } from '../errors/app-error.js';
import { errorResponses, ok } from '../http/envelope.js';
import type { TokenService } from '../auth/token.service.js';
import { authenticateAdmin } from '../auth/admin-auth.js';
import { AdminErrors } from '../auth/admin.errors.js';
import { EventErrors } from './event.errors.js';
import { DeadLetterBody, DeadLetterListResponse } from './event.schema.js';

/**
 * `/v1/admin/deadLetters`: what an operator does with events a consumer gave up on.
 * `replay` moves them back to their queue once the cause is fixed; `discard` removes
 * them and answers them whole, so nothing disappears unseen. Only the queues this
 * deployment consumes are accepted (a typo must not declare a new queue).
 */
export function deadLetterRoutes(deps: {
  adminToken: string;
  tokens: TokenService;
  broker: Broker;
  queues: readonly string[];
}): FastifyPluginAsyncTypebox {
  const known = new Set(deps.queues);
  const actions: Array<{
    path: string;
    operationId: string;
    summary: string;
    run: (queue: string, limit: number) => Promise<DeadLetter[]>;
  }> = [
    {
      path: '/deadLetters/replay',
      operationId: 'replayDeadLetters',
      summary: 'Move dead-lettered events back to their queue for a fresh set of attempts',
      run: (queue, limit) => deps.broker.replayDeadLetters(queue, limit),
    },
    {
      path: '/deadLetters/discard',
      operationId: 'discardDeadLetters',
      summary: 'Remove dead-lettered events, answering them whole',
      run: (queue, limit) => deps.broker.takeDeadLetters(queue, limit),
    },
  ];
  return async (app) => {
    for (const { path, operationId, summary, run } of actions) {
      app.post(
        path,
        {
          onRequest: authenticateAdmin(deps.adminToken, deps.tokens),
          schema: {
            tags: ['admin'],
            security: [{ bearer: [] }],
            summary,
            operationId,
            errors: [
              AdminErrors.adminForbidden,
              AdminErrors.adminDisabled,
              EventErrors.queueUnknown,
            ],
            body: DeadLetterBody,
            response: { 200: DeadLetterListResponse, ...errorResponses },
          },
        },
        async (request) => {
          const { queue, limit = 100 } = request.body;
          if (!known.has(queue)) {
            throw new AppError(
              EventErrors.queueUnknown,
              `no queue "${queue}"; queues: ${[...known].join(', ')}`,
            );
          }
          const list = (await run(queue, limit)).map((d) => ({
            id: d.event.id,
            type: d.event.type,
            key: d.key,
            reason: d.reason,
            event: d.event,
          }));
          return ok({ list });
        },
      );
    }
  };
}
