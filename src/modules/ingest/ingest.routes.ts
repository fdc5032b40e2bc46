import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { errorResponses, ok } from '../../http/envelope.js';
import { EventErrors } from '../../events/event.errors.js';
import { IngestBody, IngestResponse } from '../../events/event.schema.js';
import type { IngestService } from './ingest.service.js';
import { SIGNATURE_HEADER } from './ingest.signature.js';

interface SignedRequest {
  rawBody?: string;
  ingestSource?: string;
}

/**
 * `POST /v1/events`: signed events from other systems. The signature covers the
 * raw body, so this plugin keeps it (its own JSON parser, scoped to this route);
 * the signature is checked before the body is validated, so an unsigned caller
 * learns nothing about the schema.
 */
export function ingestRoutes(deps: { ingest: IngestService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      const text = body as string;
      (request as FastifyRequest & SignedRequest).rawBody = text;
      if (text === '') {
        return done(
          Object.assign(new Error('empty body'), {
            code: 'FST_ERR_CTP_EMPTY_JSON_BODY',
            statusCode: 400,
          }),
        );
      }
      try {
        done(null, JSON.parse(text));
      } catch (err) {
        done(Object.assign(err as Error, { statusCode: 400 }));
      }
    });

    // '' rather than '/': the route is exactly /v1/events (also in OpenAPI).
    app.post(
      '',
      {
        schema: {
          tags: ['events'],
          summary: 'Ingest a signed event (HMAC-SHA256 of the body in x-easychat-signature)',
          operationId: 'ingestEvent',
          security: [{ eventSignature: [] }],
          errors: [
            EventErrors.signatureInvalid,
            EventErrors.timestampOutOfWindow,
            EventErrors.eventReplayed,
            EventErrors.unknownEventType,
            EventErrors.payloadInvalid,
            EventErrors.typeNotAllowed,
            EventErrors.eventRejected,
            EventErrors.handlerUnavailable,
          ],
          body: IngestBody,
          headers: {
            type: 'object',
            properties: { [SIGNATURE_HEADER]: { type: 'string', description: 'sha256=<hex>' } },
          },
          response: { 200: IngestResponse, ...errorResponses },
        },
        preValidation: async (request) => {
          const signed = request as FastifyRequest & SignedRequest;
          const header = request.headers[SIGNATURE_HEADER];
          signed.ingestSource = deps.ingest.authenticate(
            signed.rawBody ?? '',
            request.body,
            typeof header === 'string' ? header : undefined,
          );
        },
      },
      async (request) => {
        const signed = request as FastifyRequest & SignedRequest;
        const result = await deps.ingest.ingest(
          request.body,
          signed.ingestSource!,
          signed.rawBody!,
          {
            requestId: request.id,
            log: request.log,
          },
        );
        return ok(result);
      },
    );
  };
}
