/** The push providers of this module. */
export type ProviderName = 'fcm' | 'apns';

/**
 * A provider's refusal (or a failed connection) that is not a verdict on the
 * device: the status, the provider's reason, whether trying again may help and
 * how long the provider asked us to wait.
 */
export class ProviderError extends Error {
  override name = 'ProviderError';

  constructor(
    readonly provider: ProviderName,
    /** HTTP status; 0 when the connection failed before an answer. */
    readonly statusCode: number,
    /** The provider's reason (`TooManyRequests`, `UNAVAILABLE`, …), or ''. */
    readonly reason: string,
    readonly retryable: boolean,
    /** From Retry-After, when the provider sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(
      statusCode === 0
        ? `${provider}: ${reason}`
        : `${provider} answered ${statusCode}${reason ? ` ${reason}` : ''}`,
    );
  }
}

/** 429 and 5xx: the provider is busy or failing, not refusing this notification. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** How a sender retries (config `push.<provider>`), and how it waits (tests record). */
export interface RetrySettings {
  /** Attempts in all (the first included); nothing is retried beyond. */
  maxAttempts: number;
  /** First backoff when the provider gives no Retry-After; doubles each time. */
  retryBaseMs: number;
  /** A longer wait is not made: the delivery fails and the broker redelivers later. */
  maxRetryAfterMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export type RetryPolicy = Required<RetrySettings>;

export function retryPolicy(settings: RetrySettings): RetryPolicy {
  return {
    maxAttempts: settings.maxAttempts,
    retryBaseMs: settings.retryBaseMs,
    maxRetryAfterMs: settings.maxRetryAfterMs,
    sleep: settings.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms))),
  };
}

/**
 * Runs `attempt` until it returns. A retryable ProviderError is tried again after
 * its Retry-After, or an exponential backoff, at most `maxAttempts` times in all;
 * anything else (and the last failure) is thrown to the caller.
 */
export async function withRetries<T>(policy: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n += 1) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof ProviderError) || !err.retryable || n >= policy.maxAttempts) throw err;
      const wait = err.retryAfterMs ?? policy.retryBaseMs * 2 ** (n - 1);
      if (wait > policy.maxRetryAfterMs) throw err;
      await policy.sleep(wait);
    }
  }
}
