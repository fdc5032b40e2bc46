import { Ajv, _, type KeywordCxt, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler, FastifySchemaValidationError, RouteOptions } from 'fastify';
import { closeObjects, unknownKey } from '../shared/closed-schema.js';
import { hardenInputSchema } from '../shared/input-schema.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const shared: Options = {
  useDefaults: true,
  // Unknown keys are refused (closed schemas below), never silently dropped: a
  // client that misspells a field learns it, and nothing unlisted reaches a service.
  removeAdditional: false,
  allErrors: false,
  // TypeBox adds annotations (e.g. $id, description) that strict mode would flag.
  strict: false,
  // ...but `strict: false` would also let NaN and Infinity pass as numbers.
  strictNumbers: true,
};

/**
 * `finite: true` refuses ±Infinity. Needed for query strings: Ajv coerces the text
 * "Infinity" to a number and then skips its minimum/maximum checks for non-finite
 * values, so the bounds alone would let it through.
 */
function withFinite(ajv: Ajv): Ajv {
  return ajv.addKeyword({
    keyword: 'finite',
    schemaType: 'boolean',
    error: { message: 'must be a finite number' },
    code(cxt: KeywordCxt) {
      if (cxt.schema) cxt.fail(_`typeof ${cxt.data} == "number" && !isFinite(${cxt.data})`);
    },
  });
}

/**
 * JSON bodies are checked as sent: `{"phone": 123}` is a wrong type and gets 400,
 * never silently turned into "123". Query strings and path parameters arrive as
 * text, so only they are coerced to the declared number/boolean types.
 */
const bodyAjv = withFinite(addFormats(new Ajv({ ...shared, coerceTypes: false })));
const textAjv = withFinite(addFormats(new Ajv({ ...shared, coerceTypes: 'array' })));

/** Every part of every request (body, query, params, headers) gets the input rules. */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(
    hardenInputSchema(schema as object, { finite: true }),
  ) as ReturnType<FastifySchemaCompiler<unknown>>;

/** The request parts whose schemas are closed (headers always carry extra keys). */
const CLOSED_PARTS = ['body', 'querystring', 'params'] as const;

/**
 * onRoute hook: closes every object of a route's body, query and params schemas
 * (`additionalProperties: false`), before the route is compiled and before the
 * OpenAPI document reads it, so the document shows the same closed schema.
 */
export function closeRouteSchemas(route: RouteOptions): void {
  const schema = route.schema;
  if (!schema) return;
  const closed = { ...schema };
  for (const part of CLOSED_PARTS) {
    if (schema[part] !== undefined) closed[part] = closeObjects(schema[part]);
  }
  route.schema = closed;
}

/**
 * Fastify's schemaErrorFormatter: one line naming what is wrong. An unknown key is
 * named (`body has unknown key "zzz"`); anything else reads like Fastify's own
 * message (`body/phone must match pattern ...`).
 */
export function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const lines = errors.map((e) =>
    e.keyword === 'additionalProperties'
      ? unknownKey(`${dataVar}${e.instancePath}`, String(e.params.additionalProperty))
      : `${dataVar}${e.instancePath} ${e.message ?? 'is invalid'}`,
  );
  return new Error(lines.join(', '));
}
