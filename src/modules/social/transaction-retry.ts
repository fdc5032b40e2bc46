import { AppError } from '../../errors/app-error.js';
import { CommonErrors } from '../../errors/common.errors.js';

/**
 * Thrown inside a transaction when a concurrent writer changed what it read (a
 * pending row settled between our read and our conditional write). The
 * transaction rolls back and `retryOnConflict` runs it again from the start.
 */
export class ConcurrentChange extends Error {
  constructor() {
    super('concurrent change; retrying');
    this.name = 'ConcurrentChange';
  }
}

/**
 * Runs `attempt` until it finishes without ConcurrentChange, at most `times` times.
 * Each retry sees the other writer's committed result, so one or two retries
 * settle any race; contention beyond that answers 503 / 100004 (try again).
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, times = 5): Promise<T> {
  for (let i = 1; ; i += 1) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof ConcurrentChange)) throw err;
      if (i >= times) throw new AppError(CommonErrors.databaseBusy, undefined, { cause: err });
    }
  }
}
