import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import type { Config } from '../config/config.schema.js';
import { AppError } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';
import { newId } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';
import { handleClientError } from './client-errors.js';
import { ErrorEnvelope } from './envelope.js';
import { httpErrorHandler, notFoundHandler, toErrorAnswer } from './error-handler.js';
import type { Metrics } from './metrics.js';
import { RouteMethods } from './method-not-allowed.js';
import { openApiOptions } from './openapi.js';
import { closeRouteSchemas, formatSchemaErrors, validatorCompiler } from './validation.js';

export type HttpServer = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface HttpServerDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Set when shutdown starts; new requests then get 503 in the envelope. */
  isDraining: () => boolean;
  /** Told about every 5xx answer, after it was sent (the audit log); must not throw. */
  onServerError?: (report: ServerErrorInfo) => void;
}

export interface ServerErrorInfo {
  request: FastifyRequest;
  status: number;
  code: number;
  err: unknown;
}

/**
 * The Fastify instance with everything every route relies on: envelope errors,
 * strict validation, request ids, metrics and the OpenAPI document at /docs.
 * Routes are registered on it by the composition root.
 */
export async function buildHttpServer(deps: HttpServerDeps): Promise<HttpServer> {
  const { config } = deps;
  const { headersTimeoutMs, requestTimeoutMs } = config.server;
  const app = Fastify<Server, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: deps.logger,
    bodyLimit: config.server.bodyLimitBytes,
    // Only the listed proxies' X-Forwarded-For counts (config/trusted-proxies.ts).
    trustProxy: config.server.trustProxy.length > 0 ? config.server.trustProxy : false,
    requestIdHeader: 'x-request-id',
    genReqId: () => newId(),
    // Our own draining check answers in the envelope instead.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    schemaErrorFormatter: formatSchemaErrors,
    // Slow clients may not hold sockets: the head and the whole request have deadlines
    // (408), checked often enough that the deadline is what a client gets.
    requestTimeout: requestTimeoutMs,
    http: {
      // Node refuses a head deadline later than the whole request's.
      headersTimeout: Math.min(headersTimeoutMs, requestTimeoutMs),
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: checkingInterval(headersTimeoutMs),
    },
    // Requests the parser refuses (431, 408, 400) are answered in the envelope too.
    clientErrorHandler: handleClientError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // The API speaks JSON only; any other body type is answered with 415.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  // Before any route exists, so every route (and the OpenAPI document) gets closed schemas.
  app.addHook('onRoute', closeRouteSchemas);
  const routeMethods = new RouteMethods();
  app.addHook('onRoute', routeMethods.record);
  app.setErrorHandler((err, request, reply) => {
    httpErrorHandler(err, request, reply);
    if (reply.statusCode >= 500 && deps.onServerError) {
      deps.onServerError({ request, status: reply.statusCode, code: toErrorAnswer(err).code, err });
    }
  });
  app.setNotFoundHandler(notFoundHandler(routeMethods));
  app.decorateRequest('auth', null);
  app.addSchema(ErrorEnvelope);

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (deps.isDraining()) throw new AppError(CommonErrors.shuttingDown);
  });
  deps.metrics.instrument(app);

  await app.register(swagger, openApiOptions());
  await app.register(swaggerUi, { routePrefix: '/docs' });
  return app;
}

/** How often Node looks for requests past their deadline: a quarter of it, 100 ms to 1 s. */
function checkingInterval(headersTimeoutMs: number): number {
  return Math.min(1_000, Math.max(100, Math.floor(headersTimeoutMs / 4)));
}
