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

  /** Whether a task of this key is queued or running (a task given now would wait). */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  /**
   * Runs `task` after the key's earlier tasks; at once (before `run` returns) when the
   * key has none pending, the usual case of a conversation's push: no promise and no
   * turn of the microtask queue just to wait for nothing.
   */
  run(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(key);
    // One reaction both reports a failure and lets the key go once it is the last
    // task queued (a catch and a finally would be two promises more per task).
    const next: Promise<void> = (previous ? previous.then(task) : started(task)).then(
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

/** `task()`, a synchronous throw turned into a rejection (as `then(task)` would). */
function started(task: () => Promise<void>): Promise<void> {
  try {
    return task();
  } catch (err) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the task's own throw, whatever it is, as `then(task)` would reject with it
    return Promise.reject(err);
  }
}
