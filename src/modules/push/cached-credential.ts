/** A credential and the moment (ms since the epoch) it stops being used. */
export interface Issued {
  value: string;
  expiresAt: number;
}

/**
 * A bearer credential (an OAuth2 access token, a provider JWT) reused until
 * `marginMs` before it expires. Concurrent callers share one issue in flight, so
 * N sends at start-up make one token request, not N.
 */
export class CachedCredential {
  private current?: Issued;
  private pending?: Promise<string>;

  constructor(
    private readonly issue: () => Promise<Issued>,
    private readonly now: () => number,
    private readonly marginMs: number,
  ) {}

  get(): Promise<string> {
    if (this.current && this.now() < this.current.expiresAt - this.marginMs) {
      return Promise.resolve(this.current.value);
    }
    this.pending ??= this.issue()
      .then((issued) => {
        this.current = issued;
        return issued.value;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /**
   * The provider refused `value` (expired early, revoked): the next `get` issues a
   * new one, unless another caller already replaced it.
   */
  forget(value: string): void {
    if (this.current?.value === value) this.current = undefined;
  }
}
