/** An error answer of the API: the envelope's `code` and `msg` (docs/errors.md). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** The error code (100003 token, 2xxxxx user, 3xxxxx social, 4xxxxx im …). */
    readonly code: number,
    message: string,
    /** The HTTP status, or 0 for an error frame over the WebSocket. */
    readonly status = 0,
  ) {
    super(message);
  }

  /** Token missing, invalid, expired or revoked: log in again. */
  get isUnauthorized(): boolean {
    return this.code === ErrorCode.unauthorized;
  }
}

/** Codes the SDK reacts to. */
export const ErrorCode = {
  serverError: 100001,
  badRequest: 100002,
  unauthorized: 100003,
  databaseBusy: 100004,
  tooManyRequests: 100007,
  shuttingDown: 100010,
  dependencyUnavailable: 100011,
} as const;

/** Errors worth retrying with the same request (and, for sends, the same clientMsgId). */
export function isTransient(err: unknown): boolean {
  if (err instanceof ApiError) {
    return (
      err.code === ErrorCode.serverError ||
      err.code === ErrorCode.databaseBusy ||
      err.code === ErrorCode.tooManyRequests ||
      err.code === ErrorCode.shuttingDown ||
      err.code === ErrorCode.dependencyUnavailable
    );
  }
  return err instanceof TimeoutError || err instanceof DisconnectedError;
}

/** No answer within the request timeout. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** The socket closed (or was not open) before the answer came. */
export class DisconnectedError extends Error {
  override readonly name = 'DisconnectedError';
}
