/**
 * Closed input schemas. Every HTTP body, query and WebSocket `data` object is
 * checked against a schema in which each object lists the only keys it may have
 * (`additionalProperties: false`), so an unknown key is refused with 400 / 100002
 * naming it and never reaches a service or SQL. Closing happens here, once, for
 * every input schema, so a route or method added later is closed without anyone
 * remembering to write it.
 */

type Node = Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Schema keywords whose value is one sub-schema. */
const SUB_SCHEMA = ['items', 'additionalProperties', 'not', 'if', 'then', 'else'] as const;
/** Keywords holding a map of name → sub-schema. */
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions'] as const;
/** Alternatives: each branch is a whole schema of its own, so each is closed. */
const ALTERNATIVES = ['anyOf', 'oneOf'] as const;

/**
 * A copy of `schema` in which every object schema that does not say which extra
 * keys it accepts gets `additionalProperties: false`. Objects that do say
 * (`additionalProperties` given, e.g. a record, or `patternProperties`) keep
 * their rule. The branches of an `allOf` are left open (each sees the keys of the
 * others); none of our input schemas uses one. Non-enumerable TypeBox markers are
 * kept, so the copy compiles like the original.
 */
export function closeObjects<T>(schema: T): T {
  return close(schema, true) as T;
}

function close(schema: unknown, closeHere: boolean): unknown {
  if (!isNode(schema)) return schema;
  const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(schema)) as Node;
  for (const key of SUB_SCHEMA) {
    if (isNode(copy[key])) copy[key] = close(copy[key], true);
  }
  for (const key of SCHEMA_MAPS) {
    const map = copy[key];
    if (isNode(map)) {
      copy[key] = Object.fromEntries(Object.entries(map).map(([k, v]) => [k, close(v, true)]));
    }
  }
  for (const key of ALTERNATIVES) {
    const list = copy[key];
    if (Array.isArray(list)) copy[key] = list.map((branch) => close(branch, true));
  }
  if (Array.isArray(copy.allOf)) copy.allOf = copy.allOf.map((branch) => close(branch, false));
  const isObject = copy.type === 'object' || (copy.type === undefined && isNode(copy.properties));
  if (
    closeHere &&
    isObject &&
    copy.additionalProperties === undefined &&
    copy.patternProperties === undefined
  ) {
    copy.additionalProperties = false;
  }
  return copy;
}

/** One validation error as TypeBox reports it. */
export interface SchemaError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

/**
 * A client-readable line for a TypeBox validation error, with `root` naming the
 * checked value (`data`, `payload`): `data has unknown key "zzz"`,
 * `data.msg.content must not be shorter than 1 characters`.
 */
export function describeSchemaError(error: SchemaError | undefined, root: string): string {
  if (!error) return `${root} is invalid`;
  const path = (pointer: string) => `${root}${pointer.replaceAll('/', '.')}`;
  // An unknown key is reported as "schema is false" at the key's own path.
  if (error.keyword === 'boolean' && error.schemaPath.endsWith('/additionalProperties')) {
    const at = error.instancePath.lastIndexOf('/');
    return unknownKey(path(error.instancePath.slice(0, at)), error.instancePath.slice(at + 1));
  }
  if (error.keyword === 'additionalProperties') {
    const keys = error.params.additionalProperties;
    const key = Array.isArray(keys) ? String(keys[0]) : '?';
    return unknownKey(path(error.instancePath), key);
  }
  return `${path(error.instancePath)} ${error.message}`;
}

export function unknownKey(where: string, key: string): string {
  return `${where} has unknown key "${key.replaceAll('~1', '/').replaceAll('~0', '~')}"`;
}
