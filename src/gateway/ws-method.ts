import type { Static, TSchema } from 'typebox';
import type { Validator } from 'typebox/compile';
import type { FastifyBaseLogger as Logger } from 'fastify';
import { closeObjects, describeSchemaError } from '../shared/closed-schema.js';
import { compileInput } from '../shared/input-schema.js';
import type { Connection } from './connection.js';

/** What a WebSocket method handler knows about its caller. */
export interface WsContext {
  userId: string;
  connection: Connection;
  log: Logger;
}

/** One request method: its payload schema (checked before `handle` runs) and handler. */
export interface WsMethod<S extends TSchema = TSchema> {
  /** The payload schema as declared (tests walk it; the validator adds the input rules). */
  readonly schema: S;
  readonly validator: Validator<Record<string, never>, S>;
  handle(ctx: WsContext, data: Static<S>): Promise<unknown>;
  /** Why `data` does not fit the schema, for the error frame (`data has unknown key "x"`). */
  invalidReason(data: unknown): string;
}

/**
 * Declares a method; the schema is closed (an unknown key in `data` is refused,
 * see closed-schema.ts) and compiled once, with the input rules (docs/api.md).
 */
export function wsMethod<S extends TSchema>(
  schema: S,
  handle: (ctx: WsContext, data: Static<S>) => Promise<unknown>,
): WsMethod<S> {
  const validator = compileInput(closeObjects(schema));
  return {
    schema,
    validator,
    handle,
    invalidReason: (data) => describeSchemaError(validator.Errors(data)[0], 'data'),
  };
}

/** Method name → handler. A plain map: adding a method is adding an entry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry has its own schema type
export type WsMethods = Record<string, WsMethod<any>>;
