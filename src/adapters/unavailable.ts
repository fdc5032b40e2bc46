import { isStorageUnavailable } from './storage/storage-errors.js';

/**
 * A backing service (cache, presence, push transport) cannot be reached right
 * now. Requests that need it answer 503 / 100011 and may be retried; consumers
 * wait the outage out instead of dead-lettering. Storage has its own classifier
 * (storage/storage-errors.ts, 503 / 100004).
 */
export class DependencyUnavailableError extends Error {
  override name = 'DependencyUnavailableError';

  constructor(
    readonly dependency: string,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} is unavailable`, options);
  }
}

export function isDependencyUnavailable(err: unknown): err is DependencyUnavailableError {
  return err instanceof DependencyUnavailableError;
}

/**
 * Whether `err` means a dependency is down (storage or another backing service):
 * worth retrying later, never the fault of the request or event that met it.
 */
export function isOutage(err: unknown): boolean {
  return isDependencyUnavailable(err) || isStorageUnavailable(err);
}
