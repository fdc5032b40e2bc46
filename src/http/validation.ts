import { Ajv, _, type KeywordCxt, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { hardenInputSchema } from '../shared/input-schema.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const shared: Options = {
  useDefaults: true,
  removeAdditional: true,
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
