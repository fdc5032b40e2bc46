/**
 * One shape for every error a client can see: a numeric `code` (the registry in
 * docs/errors.md), the HTTP `status` it maps to, a stable `key` for logs and tests,
 * and a default client-facing message.
 */
export interface ErrorSpec {
  readonly code: number;
  readonly key: string;
  readonly status: number;
  readonly message: string;
}

type SpecInput = Omit<ErrorSpec, 'key'>;

/** Declares a module's errors; the object key becomes the error's `key`. */
export function defineErrors<const T extends Record<string, SpecInput>>(
  specs: T,
): { readonly [K in keyof T]: ErrorSpec & { readonly key: K & string } } {
  const out: Record<string, ErrorSpec> = {};
  for (const [key, spec] of Object.entries(specs)) out[key] = Object.freeze({ ...spec, key });
  return out as { readonly [K in keyof T]: ErrorSpec & { readonly key: K & string } };
}

/**
 * Thrown by services for expected failures. Edges (HTTP, WebSocket) turn it into
 * the envelope; services never know about HTTP.
 */
export class AppError extends Error {
  readonly code: number;
  readonly key: string;
  readonly status: number;

  constructor(spec: ErrorSpec, message: string = spec.message, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = spec.code;
    this.key = spec.key;
    this.status = spec.status;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
