import type { FastifyPluginAsync } from 'fastify';

/**
 * Serves the WebSocket protocol's AsyncAPI document (built by the app from the
 * methods and pushes it runs) beside the OpenAPI one at /docs/json. Like that
 * one it is public and not itself an operation of the OpenAPI document.
 */
export function asyncApiRoute(document: Record<string, unknown>): FastifyPluginAsync {
  const body = JSON.stringify(document);
  return async (app) => {
    app.get('/docs/asyncapi.json', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('application/json; charset=utf-8').send(body),
    );
  };
}
