/** Two ids, in the order the question asks them (e.g. owner first). */
export type Pair = readonly [string, string];

/** At most this many pairs go into one statement (two parameters each, well under every engine's limit). */
const MAX_PAIRS_PER_STATEMENT = 200;

interface Waiter {
  resolve(value: boolean): void;
  reject(error: unknown): void;
}

/**
 * One yes/no question about pairs of ids (are these users friends, has one blocked the
 * other, has this consumer handled this event), asked by many callers and answered by
 * the database in one statement per turn of the event loop instead of one each.
 *
 * Why: after a quiet spell longer than the access cache's TTL every held answer
 * has expired, and a burst of sends from many pairs makes each pair's first send
 * read its own answers; with 100 pairs that was ~200 statements queued on a pool
 * of 10 connections, the slowest sends of the burst waiting behind all of them.
 * Questions asked until the event loop's check phase (`setImmediate`: every socket
 * read of the current poll phase, not just one microtask batch, since each pair's
 * sends come from a connection of its own) go out together; a lone question pays
 * only the wait for that phase, and runs the single-pair statement as before.
 *
 * Each caller gets its own answer; a failed statement (a storage outage) rejects
 * every caller of the batch with the same error, as each would have failed alone.
 */
export class PairBatch {
  /** Questions of the batch being gathered, by pair; one entry per distinct pair. */
  private gathering = new Map<string, { pair: Pair; waiters: Waiter[] }>();

  constructor(
    private readonly answer: {
      /** The answer for one pair (the usual case: a statement prepared once). */
      one(pair: Pair): Promise<boolean>;
      /** The pairs among `pairs` for which the answer is yes, in one statement. */
      many(pairs: Pair[]): Promise<Pair[]>;
    },
  ) {}

  ask(a: string, b: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (this.gathering.size === 0) setImmediate(() => this.flush());
      const key = pairKeyOf(a, b);
      const entry = this.gathering.get(key);
      if (entry) entry.waiters.push({ resolve, reject });
      else this.gathering.set(key, { pair: [a, b], waiters: [{ resolve, reject }] });
    });
  }

  private flush(): void {
    const batch = [...this.gathering.values()];
    this.gathering = new Map();
    for (let i = 0; i < batch.length; i += MAX_PAIRS_PER_STATEMENT) {
      void this.settle(batch.slice(i, i + MAX_PAIRS_PER_STATEMENT));
    }
  }

  private async settle(entries: { pair: Pair; waiters: Waiter[] }[]): Promise<void> {
    try {
      let yes: Set<string>;
      if (entries.length === 1) {
        const only = entries[0]!.pair;
        yes = (await this.answer.one(only)) ? new Set([pairKeyOf(...only)]) : new Set();
      } else {
        const found = await this.answer.many(entries.map((e) => e.pair));
        yes = new Set(found.map((pair) => pairKeyOf(...pair)));
      }
      for (const { pair, waiters } of entries) {
        const value = yes.has(pairKeyOf(...pair));
        for (const waiter of waiters) waiter.resolve(value);
      }
    } catch (error) {
      for (const { waiters } of entries) for (const waiter of waiters) waiter.reject(error);
    }
  }
}

// Ids never hold a newline, so joined ids cannot collide.
const pairKeyOf = (a: string, b: string) => `${a}\n${b}`;
