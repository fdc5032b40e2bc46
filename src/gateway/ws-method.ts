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

/**
 * Told by an overlapping method's handler once its request has taken its place: the
 * work whose order matters (a send's unit of work, queued in its transaction runner)
 * is queued, so a later request of the connection may start without overtaking it.
 */
export type Placed = () => void;

/** One request method: its payload schema (checked before `handle` runs) and handler. */
export interface WsMethod<S extends TSchema = TSchema> {
  /** The payload schema as declared (tests walk it; the validator adds the input rules). */
  readonly schema: S;
  readonly validator: Validator<Record<string, never>, S>;
  /**
   * `placed` is given to overlapping methods only (wsOverlappingMethod); a handler may
   * call it once, or never (then its request counts as placed when it settles).
   */
  handle(ctx: WsContext, data: Static<S>, placed?: Placed): Promise<unknown>;
  /**
   * Requests of this method may overlap on one connection (wsOverlappingMethod): one
   * starts while the connection's earlier requests of such methods are still running,
   * once each of them has taken its place. Otherwise a request starts only when every
   * earlier request of its connection has been answered, and none starts before it is.
   */
  readonly overlaps?: true;
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
  return { ...compiledSchema(schema), handle };
}

/** A method's schema, closed and compiled, and the reason its validator gives. */
function compiledSchema<S extends TSchema>(schema: S): Omit<WsMethod<S>, 'handle'> {
  const validator = compileInput(closeObjects(schema));
  return {
    schema,
    validator,
    invalidReason: (data) => describeSchemaError(validator.Errors(data)[0], 'data'),
  };
}

/**
 * Declares a method whose requests may overlap on one connection (WsMethod.overlaps):
 * its handler calls `placed` once the part of its work whose order matters has taken
 * its place, in the order the requests came (a send: its unit queued where units of
 * one conversation keep their order). The connection's answers still go out in the
 * order its requests came. Why: a client that sends messages back to back had each
 * one wait for the previous one's commit, a commit apiece (docs/websocket.md).
 */
export function wsOverlappingMethod<S extends TSchema>(
  schema: S,
  handle: (ctx: WsContext, data: Static<S>, placed: Placed) => Promise<unknown>,
): WsMethod<S> {
  return { ...compiledSchema(schema), handle, overlaps: true };
}

/** Method name → handler. A plain map: adding a method is adding an entry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry has its own schema type
export type WsMethods = Record<string, WsMethod<any>>;
