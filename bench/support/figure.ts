/** A median over rounds, with the range and every round's value. */
export interface Figure {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

/** The figure of the rounds' values (the upper median of an even count). */
export function figureOf(values: number[]): Figure {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: sorted.length ? sorted[Math.floor(sorted.length / 2)]! : Number.NaN,
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    rounds: values,
  };
}
