/**
 * Schema-driven bad input for fuzz-style tests: builds a plausible request from a
 * JSON schema (the OpenAPI document's, or a WebSocket method's), then every way to
 * put one bad value into one field, so a test can walk every route and method.
 */
type Json = Record<string, any>;
type Path = Array<string | number>;

/**
 * One bad value: its JSON text (bodies, WS data) and its query-string text. `odd`
 * values are legal JSON numbers/strings a field may accept (-0, 0.5, a lone
 * surrogate); every other one must be refused with 400.
 */
export interface BadValue {
  label: string;
  json?: string;
  query?: string;
  odd?: true;
}

export const BAD_STRINGS: BadValue[] = [
  { label: 'NUL inside', json: '"a\\u0000b"', query: 'a\u0000b' },
  { label: 'only NUL', json: '"\\u0000"', query: '\u0000' },
  { label: 'lone surrogate', json: '"x\\ud800"', odd: true },
];

export const BAD_NUMBERS: BadValue[] = [
  { label: '1e300', json: '1e300', query: '1e300' },
  { label: '-1e300', json: '-1e300', query: '-1e300' },
  { label: '2^63', json: '9223372036854775808', query: '9223372036854775808' },
  { label: '-2^63-1', json: '-9223372036854775809', query: '-9223372036854775809' },
  { label: '2^64', json: '18446744073709551616', query: '18446744073709551616' },
  { label: '2^53+1', json: '9007199254740993', query: '9007199254740993' },
  { label: 'Infinity', json: '1e400', query: 'Infinity' },
  { label: '-Infinity', json: '-1e400', query: '-Infinity' },
  { label: 'NaN', query: 'NaN' },
  { label: '-0', json: '-0', query: '-0', odd: true },
  { label: '1e-300', json: '1e-300', query: '1e-300', odd: true },
  { label: '0.5', json: '0.5', query: '0.5', odd: true },
  { label: 'NUL in a number', json: '"1\\u0000"', query: '1\u0000' },
];

/** What a sample value is for a field name (ids of real rows, a valid phone...). */
export interface SampleContext {
  /** Field name → value; `undefined` leaves an optional field out of the base. */
  values: Record<string, unknown>;
  /** Key used for record maps (e.g. a conversation id). */
  recordKey: string;
}

/** A field of a request where one bad value goes. */
export interface Slot {
  path: Path;
  kind: 'string' | 'number' | 'key';
  /** Parents to create first when the base leaves an optional parent out. */
  parents: Array<[Path, unknown]>;
}

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function types(schema: Json): string[] {
  return Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
}

/** The schema of record values (OpenAPI writes them as additionalProperties). */
function recordValue(schema: Json): Json | undefined {
  if (isObject(schema.additionalProperties)) return schema.additionalProperties;
  const patterns = schema.patternProperties as Json | undefined;
  return patterns ? (Object.values(patterns)[0] as Json) : undefined;
}

const isObjectSchema = (s: Json) =>
  types(s).includes('object') || isObject(s.properties) || recordValue(s) !== undefined;

/** A plausible value for `schema` (valid where the context knows the field). */
export function sample(schema: Json, name: string, ctx: SampleContext): unknown {
  if (Object.hasOwn(ctx.values, name)) return ctx.values[name];
  if (Array.isArray(schema.anyOf)) {
    return sample((schema.anyOf as Json[]).find(isObjectSchema) ?? schema.anyOf[0], name, ctx);
  }
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const type = types(schema)[0];
  if (type === 'object' || isObjectSchema(schema)) {
    const out: Json = {};
    for (const [key, child] of Object.entries((schema.properties ?? {}) as Json)) {
      const value = sample(child as Json, key, ctx);
      if (value !== undefined) out[key] = value;
    }
    const values = recordValue(schema);
    if (values) out[ctx.recordKey] = sample(values, '', ctx);
    return out;
  }
  if (type === 'array') return [sample((schema.items ?? {}) as Json, name, ctx)];
  if (type === 'string') return 'x'.repeat(Math.max(1, Number(schema.minLength ?? 1)));
  if (type === 'integer' || type === 'number') return Math.max(0, Number(schema.minimum ?? 0));
  if (type === 'boolean') return true;
  return {};
}

/** Every field of `schema` (optional ones too) where a bad value can go, given `base`. */
export function slots(schema: Json, base: unknown, ctx: SampleContext): Slot[] {
  const out: Slot[] = [];
  walk(schema, base, [], [], '', ctx, out);
  return out;
}

function walk(
  schema: Json,
  value: unknown,
  path: Path,
  parents: Array<[Path, unknown]>,
  name: string,
  ctx: SampleContext,
  out: Slot[],
): void {
  const branches: Json[] = Array.isArray(schema.anyOf) ? schema.anyOf : [schema];
  const kinds = new Set(branches.flatMap(types));
  if (kinds.has('string')) out.push({ path, kind: 'string', parents });
  if (kinds.has('integer') || kinds.has('number')) out.push({ path, kind: 'number', parents });
  const objectBranch = branches.find(isObjectSchema);
  if (objectBranch) {
    let obj = isObject(value) ? value : undefined;
    let here = parents;
    if (!obj) {
      obj = sample(objectBranch, name, { ...ctx, values: {} }) as Json;
      here = [...parents, [path, obj]];
    }
    for (const [key, child] of Object.entries((objectBranch.properties ?? {}) as Json)) {
      walk(child as Json, obj[key], [...path, key], here, key, ctx, out);
    }
    const values = recordValue(objectBranch);
    if (values) {
      out.push({ path, kind: 'key', parents: here });
      const key = Object.keys(obj)[0] ?? ctx.recordKey;
      walk(values, obj[key], [...path, key], here, '', ctx, out);
    }
    return;
  }
  const arrayBranch = branches.find((b) => types(b).includes('array'));
  if (arrayBranch) {
    const list = Array.isArray(value) ? value : undefined;
    const here: Array<[Path, unknown]> = list
      ? parents
      : [...parents, [path, sample(arrayBranch, name, ctx)]];
    walk((arrayBranch.items ?? {}) as Json, list?.[0], [...path, 0], here, name, ctx, out);
  }
}

const MARK = '\u2603bad\u2603';

function setAt(root: Json, path: Path, value: unknown): Json {
  if (path.length === 0) return value as Json;
  let node: any = root;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]!] = value;
  return root;
}

/** The JSON text of `base` with `bad` put into the slot. */
export function injectJson(base: unknown, slot: Slot, bad: BadValue): string {
  let root = structuredClone(base) as Json;
  for (const [path, value] of slot.parents) root = setAt(root, path, structuredClone(value));
  if (slot.kind === 'key') {
    // The record gets one entry whose key is the bad string.
    let node: any = root;
    for (const key of slot.path) node = node[key];
    const first = Object.values(node as Json)[0];
    root = setAt(root, slot.path, { [MARK]: first });
  } else {
    root = setAt(root, slot.path, MARK);
  }
  return JSON.stringify(root).replace(JSON.stringify(MARK), bad.json ?? 'null');
}

export function badValuesFor(kind: Slot['kind']): BadValue[] {
  return kind === 'number' ? BAD_NUMBERS : BAD_STRINGS;
}

/** The top-level alternatives of a union of objects, else the schema itself. */
export function roots(schema: Json): Json[] {
  const objects = Array.isArray(schema.anyOf)
    ? (schema.anyOf as Json[]).filter(isObjectSchema)
    : [];
  return objects.length > 1 ? objects : [schema];
}
