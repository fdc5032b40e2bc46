import type { Static, TSchema } from 'typebox';
import type { Validator } from 'typebox/compile';
import type { FastifyBaseLogger as Logger } from 'fastify';
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
}

/** Declares a method; the schema is compiled once, with the input rules (docs/api.md). */
export function wsMethod<S extends TSchema>(
  schema: S,
  handle: (ctx: WsContext, data: Static<S>) => Promise<unknown>,
): WsMethod<S> {
  return { schema, validator: compileInput(schema), handle };
}

/** Method name → handler. A plain map: adding a method is adding an entry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry has its own schema type
export type WsMethods = Record<string, WsMethod<any>>;
