import type { NotifyEventMap } from './notify.events.js';
import type { PushMessage } from './notify.senders.js';

type PushRequest = NotifyEventMap['notify.push'];

interface Pending {
  last: PushRequest;
  /** Event id of the first request: the delivery id of the collapsed push. */
  deliveryId: string;
  count: number;
  timer: NodeJS.Timeout;
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

/**
 * Collapses pushes per user and `collapseKey` (a conversation, for offline chat
 * messages): the first request opens a window of `windowMs`; every request in
 * that window joins it, and when it closes one push goes out with the latest
 * title/body and the count. Each request's promise settles with that push, so
 * the broker acknowledges the events only once the push was delivered. The
 * window is per worker process: with N workers a conversation gets at most N
 * pushes per window (the provider's collapse key merges them on the device).
 */
export class PushCollapser {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly windowMs: number,
    private readonly deliver: (push: PushMessage, deliveryId: string) => Promise<void>,
  ) {}

  submit(request: PushRequest, eventId: string): Promise<void> {
    if (!request.collapseKey || this.windowMs === 0) {
      return this.deliver({ ...request, count: 1 }, eventId);
    }
    const key = `${request.userId}\u0000${request.collapseKey}`;
    let entry = this.pending.get(key);
    if (!entry) {
      entry = {
        last: request,
        deliveryId: eventId,
        count: 0,
        waiters: [],
        timer: setTimeout(() => void this.flush(key), this.windowMs),
      };
      this.pending.set(key, entry);
    }
    entry.last = request;
    entry.count += 1;
    const joined = entry;
    return new Promise((resolve, reject) => joined.waiters.push({ resolve, reject }));
  }

  /** Sends every open window now (shutdown). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((key) => this.flush(key)));
  }

  private async flush(key: string): Promise<void> {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.pending.delete(key);
    clearTimeout(entry.timer);
    const { last, count } = entry;
    const push: PushMessage = {
      ...last,
      count,
      data: { ...last.data, collapsedCount: String(count) },
    };
    try {
      await this.deliver(push, entry.deliveryId);
      for (const w of entry.waiters) w.resolve();
    } catch (err) {
      for (const w of entry.waiters) w.reject(err);
    }
  }
}
