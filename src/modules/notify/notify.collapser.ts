import type { NotifyEventMap } from './notify.events.js';
import type { PushMessage } from './notify.senders.js';

type PushRequest = NotifyEventMap['notify.push'];

interface Settle {
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Window {
  last: PushRequest;
  /** Event id of `last`: the event the window holds, and the delivery id of its push. */
  deliveryId: string;
  count: number;
  timer: NodeJS.Timeout;
  /** Settles the held event's handler (the broker acknowledges it, or delivers it again). */
  held: Settle;
}

/**
 * Collapses pushes per user and `collapseKey` (a conversation, for offline chat
 * messages): the first request opens a window of `windowMs`; every request in that
 * window joins it, and when it closes one push goes out with the latest title/body and
 * the count.
 *
 * A window holds one event unacknowledged, its latest: each request that joins takes
 * the window over, and the one before it is acknowledged then (the push that covers it
 * is the later one's). The held event is acknowledged once the push was delivered, and
 * delivered again by the broker if it fails or the process dies first: the push still
 * goes out, with the latest text, its count then 1. Holding every event of a window
 * instead bounded the consumer by its concurrency: 256 events a window of 3 s, 85 a
 * second for all users together, behind which every other push waited and the queue
 * grew without end (docs/performance-log.md, "Sends to an offline recipient").
 *
 * At most `maxOpen` windows are open: the request that would open one more closes the
 * oldest first, so a fan-out to more users than that (a group message to many offline
 * members) is pushed as it comes, not a window later.
 *
 * The window is per worker process: with N workers a conversation gets at most N pushes
 * per window (the provider's collapse key merges them on the device).
 */
export class PushCollapser {
  /** Open windows in the order they opened (a Map iterates in insertion order). */
  private readonly open = new Map<string, Window>();

  constructor(
    private readonly windowMs: number,
    private readonly maxOpen: number,
    private readonly deliver: (push: PushMessage, deliveryId: string) => Promise<void>,
  ) {}

  submit(request: PushRequest, eventId: string): Promise<void> {
    if (!request.collapseKey || this.windowMs === 0) {
      return this.deliver({ ...request, count: 1 }, eventId);
    }
    const key = `${request.userId}\u0000${request.collapseKey}`;
    return new Promise((resolve, reject) => {
      const joined = this.open.get(key);
      if (joined) {
        joined.held.resolve();
        joined.held = { resolve, reject };
        joined.last = request;
        joined.deliveryId = eventId;
        joined.count += 1;
        return;
      }
      if (this.open.size >= this.maxOpen) {
        const [oldest] = this.open.keys();
        void this.flush(oldest!);
      }
      this.open.set(key, {
        last: request,
        deliveryId: eventId,
        count: 1,
        timer: setTimeout(() => void this.flush(key), this.windowMs),
        held: { resolve, reject },
      });
    });
  }

  /** Sends every open window now (shutdown). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((key) => this.flush(key)));
  }

  private async flush(key: string): Promise<void> {
    const window = this.open.get(key);
    if (!window) return;
    this.open.delete(key);
    clearTimeout(window.timer);
    const { last, count, held } = window;
    const push: PushMessage = {
      ...last,
      count,
      data: { ...last.data, collapsedCount: String(count) },
    };
    try {
      await this.deliver(push, window.deliveryId);
      held.resolve();
    } catch (err) {
      held.reject(err);
    }
  }
}
