import { Type, type TSchema } from 'typebox';

/** The success envelope `{code, msg, data}` (docs/api.md). */
export interface Envelope<T> {
  code: typeof OK_CODE;
  msg: string;
  data: T;
}

export const OK_CODE = 200 as const;

export function ok<T>(data: T): Envelope<T> {
  return { code: OK_CODE, msg: 'ok', data };
}

/**
 * Response schema of a successful route. Fastify serializes with it, which also
 * drops any property the schema does not name (a second guard against leaking
 * fields such as password hashes).
 */
export function EnvelopeOf<T extends TSchema>(data: T) {
  return Type.Object({
    code: Type.Literal(OK_CODE),
    msg: Type.String(),
    data,
  });
}

export const ErrorEnvelope = Type.Object(
  {
    code: Type.Integer({ description: 'error code from docs/errors.md' }),
    msg: Type.String(),
    data: Type.Null(),
  },
  { $id: 'ErrorEnvelope' },
);

export const EmptyObject = Type.Object({});

/** Response entries every route declares for its error answers (documented in OpenAPI). */
export const errorResponses = {
  '4xx': { $ref: 'ErrorEnvelope#' },
  '5xx': { $ref: 'ErrorEnvelope#' },
} as const;
