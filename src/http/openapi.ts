import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { ErrorSpec } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';

declare module 'fastify' {
  interface FastifySchema {
    /**
     * The domain errors this route answers with (documentation only): each becomes
     * a response of its status in the OpenAPI document, its code and message listed.
     */
    errors?: readonly ErrorSpec[];
  }
}

/** Statuses the document keeps as `4XX`/`5XX` placeholders in route schemas (envelope.ts). */
const PLACEHOLDERS = ['4xx', '5xx'];

/** Answers any route can give whatever it does: a backing service is down, or the server stops. */
const ALWAYS: readonly ErrorSpec[] = [
  CommonErrors.serverError,
  CommonErrors.databaseBusy,
  CommonErrors.dependencyUnavailable,
  CommonErrors.shuttingDown,
];

/**
 * Options for @fastify/swagger: the document served at /docs/json. Shared schemas
 * (ErrorEnvelope) become components named by their `$id`; each operation gets an
 * operationId (its own, or one derived from method and path), `security: []` when
 * it needs no bearer token, and one response per error status it can answer.
 */
export function openApiOptions(): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'easy-chat',
        version: '1',
        description:
          'Every response is the envelope {code, msg, data}; codes are listed in docs/errors.md. ' +
          'The WebSocket protocol is described at /docs/asyncapi.json.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // Relative: the document is right for whichever host and port serve it.
      servers: [{ url: '/', description: 'the server that serves this document' }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'the token from /v1/user/login or /v1/user/register',
          },
          eventSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'x-easychat-signature',
            description: 'sha256=<hex HMAC-SHA256 of the raw body with the source secret>',
          },
        },
      },
    },
    refResolver: {
      // Shared schemas keep their names (ErrorEnvelope) instead of def-0.
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    transform: ({ schema, url, route }) => {
      if (!schema || schema.hide) return { schema, url };
      const method = (Array.isArray(route.method) ? route.method[0] : route.method) as string;
      return {
        url,
        schema: {
          ...schema,
          operationId: schema.operationId ?? operationIdOf(method, url),
          security: schema.security ?? [],
          response: responsesOf(schema),
        },
      };
    },
  };
}

/** `GET /v1/social/group/users` → `getSocialGroupUsers`: unique while routes are. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/v\d+\//, '/')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

type RouteSchema = Parameters<NonNullable<FastifyDynamicSwaggerOptions['transform']>>[0]['schema'];

/**
 * The route's success answers as declared, and one envelope answer per error status:
 * 400 when it takes input, 401 when it needs a token, 413/415 when it takes a body,
 * the route's own domain errors, and the 5xx every route can give.
 */
function responsesOf(schema: NonNullable<RouteSchema>): Record<string, unknown> | undefined {
  const declared = schema.response as Record<string, unknown> | undefined;
  if (!declared) return declared;
  const answers: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(declared)) {
    if (!PLACEHOLDERS.includes(status.toLowerCase())) answers[status] = answer;
  }
  // A route without error placeholders (health checks) documents only its successes.
  if (!Object.keys(declared).some((s) => PLACEHOLDERS.includes(s.toLowerCase()))) return answers;

  const specs: ErrorSpec[] = [];
  if (schema.body || schema.querystring || schema.params) specs.push(CommonErrors.badRequest);
  if (schema.security?.some((s) => 'bearer' in s)) specs.push(CommonErrors.unauthorized);
  if (schema.body) specs.push(CommonErrors.payloadTooLarge, CommonErrors.unsupportedMediaType);
  specs.push(...(schema.errors ?? []), ...ALWAYS);

  const byStatus = new Map<number, ErrorSpec[]>();
  for (const spec of specs) {
    const list = byStatus.get(spec.status) ?? [];
    if (!list.some((s) => s.code === spec.code)) list.push(spec);
    byStatus.set(spec.status, list);
  }
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    answers[String(status)] = {
      $ref: 'ErrorEnvelope#',
      description: list.map((s) => `${s.code} ${s.message}`).join('; '),
    };
  }
  return answers;
}
