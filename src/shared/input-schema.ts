import type { TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';

/**
 * Rules every input schema gets, whoever wrote it (docs/api.md "Input rules"):
 *
 * - No string may contain U+0000. PostgreSQL text cannot store it (22021), SQLite
 *   would store it and hand it to clients that cut strings there, so it is refused
 *   at the edge, on both engines alike. Object keys (record maps) follow the same rule.
 * - Every number is finite and within ±(2^53 − 1): above that a JSON number is no
 *   longer the integer the client wrote, and PostgreSQL's BIGINT ends at 2^63.
 *
 * The rules are added when a schema is compiled (HTTP bodies, query strings, params
 * and headers through Ajv; WebSocket data and ingested payloads through TypeBox), so
 * a new route or method has them without its author thinking of it. The OpenAPI
 * document shows the schemas as declared.
 */
export const NO_NUL_PATTERN = '^[^\\u0000]*$';
export const MAX_INPUT_NUMBER = Number.MAX_SAFE_INTEGER;

type Schema = Record<string, unknown>;

/** Keywords whose value is one subschema. */
const ONE = [
  'items',
  'additionalItems',
  'additionalProperties',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'propertyNames',
] as const;
/** Keywords whose value is a list of subschemas. */
const LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const;
/** Keywords whose value maps names to subschemas. */
const MAP = [
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
] as const;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasType(schema: Schema, type: string): boolean {
  const declared = schema.type;
  return declared === type || (Array.isArray(declared) && declared.includes(type));
}

/** A copy that keeps TypeBox's hidden (non-enumerable) markers. */
function copy(schema: Schema): Schema {
  return Object.defineProperties({}, Object.getOwnPropertyDescriptors(schema));
}

function refuseNul(schema: Schema): void {
  if (schema.pattern === undefined) {
    schema.pattern = NO_NUL_PATTERN;
  } else if (schema.pattern !== NO_NUL_PATTERN) {
    // One schema has one pattern; the rule joins through allOf.
    const allOf: unknown[] = Array.isArray(schema.allOf) ? schema.allOf : [];
    schema.allOf = [...allOf, { pattern: NO_NUL_PATTERN }];
  }
}

function bound(schema: Schema): void {
  const { minimum, maximum } = schema;
  if (typeof minimum !== 'number' || minimum < -MAX_INPUT_NUMBER)
    schema.minimum = -MAX_INPUT_NUMBER;
  if (typeof maximum !== 'number' || maximum > MAX_INPUT_NUMBER) schema.maximum = MAX_INPUT_NUMBER;
}

/**
 * A copy of `schema` with the input rules added at every level. Never mutates the
 * input. `numberKeywords` are added to every number schema too (the HTTP validator's
 * own `finite` keyword, see src/http/validation.ts).
 */
export function hardenInputSchema<S>(schema: S, numberKeywords: Schema = {}): S {
  if (!isSchema(schema)) return schema;
  const harden = (s: unknown) => hardenInputSchema(s, numberKeywords);
  const out = copy(schema);
  for (const key of ONE) {
    if (isSchema(out[key])) out[key] = harden(out[key]);
  }
  for (const key of LIST) {
    const list = out[key];
    if (Array.isArray(list)) out[key] = list.map(harden);
  }
  for (const key of MAP) {
    const map = out[key];
    if (isSchema(map)) {
      out[key] = Object.fromEntries(Object.entries(map).map(([name, s]) => [name, harden(s)]));
    }
  }
  if (hasType(out, 'string')) refuseNul(out);
  if (hasType(out, 'integer') || hasType(out, 'number')) {
    bound(out);
    Object.assign(out, numberKeywords);
  }
  if (hasType(out, 'object') && out.propertyNames === undefined) {
    out.propertyNames = { pattern: NO_NUL_PATTERN };
  }
  return out as S;
}

/**
 * TypeBox's compiler with the input rules: the one way to compile a schema that
 * checks what a client sent (WebSocket data, ingested payloads).
 */
export function compileInput<S extends TSchema>(schema: S): Validator<Record<string, never>, S> {
  return Compile<S, Validator<Record<string, never>, S>>(hardenInputSchema(schema));
}
