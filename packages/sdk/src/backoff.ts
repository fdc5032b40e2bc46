export interface BackoffOptions {
  /** Delay before the first reconnect attempt; default 500 ms. */
  initialDelayMs?: number;
  /** Largest delay; default 30 s. */
  maxDelayMs?: number;
  /** Growth per failed attempt; default 2. */
  factor?: number;
  /**
   * Share of each delay that is random, 0–1; default 0.5: the delay is drawn from
   * [d·(1 − jitter), d], so clients cut off together do not come back together.
   */
  jitter?: number;
}

/** Exponential backoff with jitter: attempt 0 waits about initialDelayMs. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const ceiling = Math.min(max, initial * factor ** Math.max(0, attempt));
  return Math.round(ceiling * (1 - jitter * random()));
}
