import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';
import { bearerToken } from '../auth/authenticate.js';
import { errorResponses } from './envelope.js';
import type { Metrics } from './metrics.js';

/**
 * Where Prometheus metrics are served. They are not for the public: they name
 * routes, error counts, process internals. So the public port answers
 * `GET /metrics` only with `Authorization: Bearer <metrics.token>` (and not at all
 * when no token is set), and a separate listener (`metrics.listener`, meant for an
 * internal interface) serves them without a token.
 */

const digest = (value: string) => createHash('sha256').update(value).digest();

/** `GET /metrics` on the public port, behind the bearer token. Registered only when one is set. */
export function metricsRoute(deps: { metrics: Metrics; token: string }): FastifyPluginAsyncTypebox {
  const expected = digest(deps.token);
  return async (app) => {
    app.get(
      '/metrics',
      {
        schema: {
          tags: ['ops'],
          summary: 'Prometheus metrics (Authorization: Bearer <metrics.token>)',
          security: [{ bearer: [] }],
          operationId: 'metrics',
          response: {
            200: {
              description: 'Prometheus text format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            ...errorResponses,
          },
        },
        onRequest: async (request) => {
          const token = bearerToken(request.headers.authorization);
          if (!token || !timingSafeEqual(digest(token), expected)) {
            throw new AppError(CommonErrors.unauthorized, 'metrics token missing or invalid');
          }
        },
      },
      // Prometheus text format, the one route outside the JSON envelope.
      async (_request, reply) => {
        void reply.header('content-type', deps.metrics.registry.contentType);
        return deps.metrics.registry.metrics();
      },
    );
  };
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/** A plain HTTP listener answering only `GET /metrics` (everything else 404). */
export async function startMetricsListener(
  metrics: Metrics,
  options: { host: string; port: number },
): Promise<MetricsListener> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
