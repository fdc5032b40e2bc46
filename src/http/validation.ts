import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const shared: Options = {
  useDefaults: true,
  removeAdditional: true,
  allErrors: false,
  // TypeBox adds annotations (e.g. $id, description) that strict mode would flag.
  strict: false,
};

/**
 * JSON bodies are checked as sent: `{"phone": 123}` is a wrong type and gets 400,
 * never silently turned into "123". Query strings and path parameters arrive as
 * text, so only they are coerced to the declared number/boolean types.
 */
const bodyAjv = addFormats(new Ajv({ ...shared, coerceTypes: false }));
const textAjv = addFormats(new Ajv({ ...shared, coerceTypes: 'array' }));

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object) as ReturnType<
    FastifySchemaCompiler<unknown>
  >;
