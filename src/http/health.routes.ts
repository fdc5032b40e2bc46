import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';
import { EnvelopeOf, errorResponses, ok } from './envelope.js';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

const StatusResponse = EnvelopeOf(
  Type.Object({ status: Type.String(), node: Type.String(), roles: Type.Array(Type.String()) }),
);

/** Liveness and readiness (every dependency answers); metrics are in metrics-access.ts. */
export function healthRoutes(deps: {
  checks: ReadinessCheck[];
  nodeId: string;
  roles: string[];
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['ops'];
    const status = (s: string) => ok({ status: s, node: deps.nodeId, roles: deps.roles });

    app.get(
      '/healthz',
      {
        schema: {
          tags,
          summary: 'The process is alive',
          operationId: 'health',
          response: { 200: StatusResponse, ...errorResponses },
        },
      },
      async () => status('ok'),
    );

    app.get(
      '/readyz',
      {
        schema: {
          tags,
          summary: 'Storage and cache answer; 503 otherwise',
          operationId: 'ready',
          response: { 200: StatusResponse, ...errorResponses },
        },
      },
      async (request) => {
        for (const { name, check } of deps.checks) {
          try {
            await check();
          } catch (err) {
            request.log.warn({ err, dependency: name }, 'readiness check failed');
            throw new AppError(
              name === 'storage' ? CommonErrors.databaseBusy : CommonErrors.dependencyUnavailable,
              `${name} is not reachable`,
            );
          }
        }
        return status('ready');
      },
    );
  };
}
