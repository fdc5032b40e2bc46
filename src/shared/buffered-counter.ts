import { Counter, type CounterConfiguration, type LabelValues } from 'prom-client';

/**
 * A Prometheus counter for a hot path (every frame, every delivery of every
 * message): an increment adds to a plain number, and the numbers go into the
 * counter when it is read (a scrape, `get()`). prom-client's own `inc` checks the
 * labels and hashes them into a key on every call, a few hundred nanoseconds that
 * a message paid several times over (issue 14). At most two labels, given as
 * values in the order of `labelNames`.
 */
export class BufferedCounter<L extends string = never> {
  readonly counter: Counter<L>;
  /** First label's value → second label's value ('' when none) → count not yet added. */
  private readonly pending = new Map<string, Map<string, number>>();
  private readonly names: readonly L[];

  constructor(config: Omit<CounterConfiguration<L>, 'collect'>) {
    this.names = config.labelNames ?? [];
    if (this.names.length > 2) throw new Error(`${config.name}: at most two labels`);
    const flush = () => this.flush();
    this.counter = new Counter<L>({
      ...config,
      collect() {
        flush();
      },
    });
  }

  /** Counts `by` (1) for the label values given, in the order of `labelNames`. */
  inc(first = '', second = '', by = 1): void {
    let counts = this.pending.get(first);
    if (!counts) this.pending.set(first, (counts = new Map<string, number>()));
    counts.set(second, (counts.get(second) ?? 0) + by);
  }

  /** Counts `by` on a counter without labels. */
  add(by: number): void {
    this.inc('', '', by);
  }

  /** Adds what was counted since the last read to the counter. */
  private flush(): void {
    const [a, b] = this.names;
    for (const [first, counts] of this.pending) {
      for (const [second, n] of counts) {
        if (n === 0) continue;
        counts.set(second, 0);
        const labels: Record<string, string> = {};
        if (a !== undefined) labels[a] = first;
        if (b !== undefined) labels[b] = second;
        this.counter.inc(labels as LabelValues<L>, n);
      }
    }
  }
}
