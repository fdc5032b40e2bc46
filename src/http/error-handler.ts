import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isInvalidInput, isStorageUnavailable } from '../adapters/storage/storage-errors.js';
import { isDependencyUnavailable } from '../adapters/unavailable.js';
import { isAppError, type ErrorSpec } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';
import type { RouteMethods } from './method-not-allowed.js';

interface ErrorAnswer {
  status: number;
  code: number;
  msg: string;
}

/** Fastify's own errors that the client caused, by Fastify error code. */
const FASTIFY_CLIENT_ERRORS: Record<string, { spec: ErrorSpec; msg: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    spec: CommonErrors.payloadTooLarge,
    msg: CommonErrors.payloadTooLarge.message,
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    spec: CommonErrors.unsupportedMediaType,
    msg: 'unsupported content type (send application/json)',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    spec: CommonErrors.badRequest,
    msg: 'content-length does not match the body',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    spec: CommonErrors.badRequest,
    msg: 'body is empty but content-type is application/json',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { spec: CommonErrors.badRequest, msg: 'body is not valid JSON' },
};

/**
 * The one mapper from any thrown value to the envelope. Known errors keep their
 * code and message; client mistakes detected by Fastify become 4xx; a dependency
 * that is down becomes 503 (100004 storage, 100011 cache and the like); anything
 * else is 500 / 100001 with a generic message, logged with its cause.
 */
export function toErrorAnswer(err: unknown): ErrorAnswer {
  if (isAppError(err)) return { status: err.status, code: err.code, msg: err.message };
  const fastifyError = err as Partial<FastifyError> & { validation?: unknown };
  if (fastifyError.validation) {
    return {
      status: 400,
      code: CommonErrors.badRequest.code,
      msg: fastifyError.message ?? CommonErrors.badRequest.message,
    };
  }
  const known = fastifyError.code ? FASTIFY_CLIENT_ERRORS[fastifyError.code] : undefined;
  if (known) return { status: known.spec.status, code: known.spec.code, msg: known.msg };
  if (err instanceof SyntaxError && fastifyError.statusCode === 400) {
    return { status: 400, code: CommonErrors.badRequest.code, msg: 'body is not valid JSON' };
  }
  if (isStorageUnavailable(err)) return answerOf(CommonErrors.databaseBusy);
  if (isDependencyUnavailable(err)) return answerOf(CommonErrors.dependencyUnavailable);
  if (isInvalidInput(err)) return answerOf(CommonErrors.badRequest);
  // Other 4xx raised by Fastify or plugins (e.g. a malformed header).
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: CommonErrors.badRequest.code, msg: CommonErrors.badRequest.message };
  }
  return answerOf(CommonErrors.serverError);
}

function answerOf(spec: ErrorSpec): ErrorAnswer {
  return { status: spec.status, code: spec.code, msg: spec.message };
}

export function httpErrorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const answer = toErrorAnswer(err);
  if (answer.status === 503) {
    // An outage answers every request 503: one short line each, not a stack trace.
    request.log.warn({ code: answer.code, reason: reasonOf(err) }, 'request refused: unavailable');
  } else if (answer.status >= 500) {
    request.log.error({ err, code: answer.code }, 'request failed');
  } else {
    // `msg` is the log line's own message ("request rejected"); the error's text goes
    // under errMsg, or the line would carry two msg keys and readers keep only one.
    request.log.info({ code: answer.code, errMsg: answer.msg }, 'request rejected');
  }
  const retryAfterMs = (err as { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof retryAfterMs === 'number') {
    void reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  }
  void reply.status(answer.status).send({ code: answer.code, msg: answer.msg, data: null });
}

/** The root cause's message, for a one-line log of an outage. */
export function reasonOf(err: unknown): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

export function notFoundHandler(
  routes: RouteMethods,
): (request: FastifyRequest, reply: FastifyReply) => void {
  return (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = routes.allowed(path);
    if (allowed.length > 0) {
      void reply
        .status(405)
        .header('allow', allowed.join(', '))
        .send({
          code: CommonErrors.methodNotAllowed.code,
          msg: `${path} answers ${allowed.join(', ')}, not ${request.method}`,
          data: null,
        });
      return;
    }
    void reply.status(404).send({
      code: CommonErrors.notFound.code,
      msg: `route ${request.method} ${path.slice(0, 200)} not found`,
      data: null,
    });
  };
}
