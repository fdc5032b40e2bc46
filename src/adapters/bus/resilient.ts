import { backoffDelay, BrokerClosedError, type BackoffOptions } from './bus.js';
import type { BusLogger, BusObserver } from './delivery-runner.js';

/**
 * Runs `attempt` until it succeeds, sleeping with exponential backoff between
 * failures; gives up only when `signal` aborts (the broker is closing), with
 * BrokerClosedError. Shared by the server-backed brokers' resilientPublish.
 */
export async function retryUntilClosed(
  attempt: () => Promise<void>,
  context: {
    topic: string;
    signal: AbortSignal;
    retry: BackoffOptions;
    logger: BusLogger;
    observer?: BusObserver;
    /** Called after a failure, before the next try (reset cached server state). */
    onFailure?: () => void;
  },
): Promise<void> {
  for (let n = 1; ; n += 1) {
    if (context.signal.aborted) throw new BrokerClosedError();
    try {
      await attempt();
      return;
    } catch (err) {
      if (context.signal.aborted || err instanceof BrokerClosedError) throw new BrokerClosedError();
      context.observer?.publishFailed?.(context.topic, err);
      context.logger.warn({ err, topic: context.topic, attempt: n }, 'publish failed; retrying');
      context.onFailure?.();
      await abortableSleep(backoffDelay(n, context.retry), context.signal);
    }
  }
}

/** Sleeps `ms`, waking early (without error) when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
