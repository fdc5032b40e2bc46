/**
 * Finds a system's capacity in one round by bracketing: the highest offered rate it kept
 * and the lowest it broke at close in on each other until they are within `resolution`.
 * The first round climbs from a low start (doubling) and halves down if that already
 * breaks; later rounds start at the earlier rounds' capacity and step by a quarter, so a
 * round costs a handful of steps instead of a climb through every rate.
 */
export interface SearchOptions {
  /** First rate offered. */
  start: number;
  /** Factor to climb by while nothing broke (2 in the first round). */
  up: number;
  /** Factor to step down by while everything broke (0.5 in the first round). */
  down: number;
  /** Stop once broke ÷ kept ≤ 1 + resolution. */
  resolution: number;
  /** Never offered above this; a system that keeps it has capacity ≥ max. */
  max: number;
  /** Never offered below this; a system that breaks at it has capacity 0. */
  min: number;
}

/** A rate rounded to 2 significant figures (620, 1300), so steps read well. */
export function roundRate(rate: number): number {
  if (rate < 10) return Math.max(1, Math.round(rate));
  const unit = 10 ** (Math.floor(Math.log10(rate)) - 1);
  return Math.round(rate / unit) * unit;
}

export class CapacitySearch {
  /** Highest rate kept so far (0: none yet). */
  kept = 0;
  /** Lowest rate broken at so far. */
  broke = Number.POSITIVE_INFINITY;

  constructor(private readonly options: SearchOptions) {}

  /** The next rate to offer, or undefined when the bracket is closed. */
  next(): number | undefined {
    const { start, up, down, resolution, max, min } = this.options;
    const { kept, broke } = this;
    if (kept === 0 && broke === Number.POSITIVE_INFINITY) return roundRate(start);
    if (broke === Number.POSITIVE_INFINITY)
      return kept >= max ? undefined : Math.min(max, Math.max(kept + 1, roundRate(kept * up)));
    if (kept === 0) {
      if (broke <= min) return undefined;
      return Math.max(min, Math.min(broke - 1, roundRate(broke * down)));
    }
    if (broke / kept <= 1 + resolution) return undefined;
    const middle = roundRate(Math.sqrt(kept * broke));
    return middle > kept && middle < broke ? middle : undefined;
  }

  record(rate: number, broken: boolean): void {
    if (broken) this.broke = Math.min(this.broke, rate);
    else this.kept = Math.max(this.kept, rate);
  }

  /** The capacity found: the highest rate kept. */
  get capacity(): number {
    return this.kept;
  }
}
