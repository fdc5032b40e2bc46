/**
 * Runs tasks one after another per key, and different keys concurrently. Used so
 * that the pushes of one conversation leave this process in the order their
 * messages were stored. A failing task is reported and does not stop the queue.
 */
export class KeyedSerialQueue {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly onError: (err: unknown, key: string) => void) {}

  get activeKeys(): number {
    return this.tails.size;
  }

  run(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    // One reaction both reports a failure and lets the key go once it is the last
    // task queued (a catch and a finally would be two promises more per task).
    const next: Promise<void> = previous.then(task).then(
      () => this.settled(key, next),
      (err: unknown) => {
        this.onError(err, key);
        this.settled(key, next);
      },
    );
    this.tails.set(key, next);
    return next;
  }

  private settled(key: string, tail: Promise<void>): void {
    if (this.tails.get(key) === tail) this.tails.delete(key);
  }

  /** Resolves when every queued task has finished (used at shutdown). */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }
}
