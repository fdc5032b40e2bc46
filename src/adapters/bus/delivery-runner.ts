import type { EventMessage } from './event-message.js';
import {
  backoffDelay,
  type BackoffOptions,
  type Delivery,
  type DeliveryHandler,
  type Subscription,
} from './bus.js';

/** What an adapter must do with a delivery once the handler has answered. */
export interface InboundDelivery extends Delivery {
  ack(): Promise<void> | void;
  /** Give the event back for redelivery after `delayMs` (attempt + 1). */
  retry(delayMs: number): Promise<void> | void;
  /** Move the event to the queue's dead-letter queue and drop it from this queue. */
  deadLetter(reason: string): Promise<void> | void;
  /**
   * Tell the broker the handler is still at work, so it does not hand the event to
   * another consumer while this one runs (brokers with an ack deadline).
   */
  inProgress?(): Promise<void> | void;
}

/** Hooks for metrics; all optional. */
export interface BusObserver {
  handled?(queue: string, outcome: 'ack' | 'retry' | 'dead' | 'skipped'): void;
  publishFailed?(topic: string, err: unknown): void;
}

/** The logging the bus needs (a pino logger fits). */
export interface BusLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: BusLogger = { warn() {}, error() {} };

export interface RunnerOptions {
  queue: string;
  types: readonly string[];
  handler: DeliveryHandler;
  concurrency: number;
  maxAttempts: number;
  retry: BackoffOptions;
  logger: BusLogger;
  observer?: BusObserver;
  /** See BrokerOptions.isTransient: such failures never count towards dead-lettering. */
  isTransient?: (err: unknown) => boolean;
  /** ConsumeSpec.accept: events of the types that are skipped like events of other types. */
  accept?: (event: EventMessage) => boolean;
  /** Called whenever a handler slot frees up (adapters that push refill then). */
  onCapacity?: () => void;
  /**
   * While a handler runs, call the delivery's `inProgress` this often (adapters whose
   * broker redelivers unacknowledged events after a deadline set it below that).
   */
  progressEveryMs?: number;
}

/**
 * The consume loop every adapter shares: runs at most `concurrency` handlers,
 * started in delivery order; acks on success; on failure retries with backoff or,
 * at the last attempt, dead-letters (unless the failure is transient: an outage of a
 * dependency is waited out, it is not the event's fault). Events of types the queue did not ask for
 * (a broker that can only filter coarsely) are acknowledged without running.
 */
export class DeliveryRunner implements Subscription {
  private readonly waiting: InboundDelivery[] = [];
  private readonly types: Set<string>;
  private running = 0;
  private stopped = false;
  private idle: Array<() => void> = [];

  constructor(private readonly options: RunnerOptions) {
    this.types = new Set(options.types);
  }

  /** Whether another delivery can start now (adapters use it for flow control). */
  get hasCapacity(): boolean {
    return !this.stopped && this.running + this.waiting.length < this.options.concurrency;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  push(delivery: InboundDelivery): void {
    const { accept } = this.options;
    if (!this.types.has(delivery.event.type) || (accept && !accept(delivery.event))) {
      this.options.observer?.handled?.(this.options.queue, 'skipped');
      void this.settle(() => delivery.ack(), 'ack');
      return;
    }
    this.waiting.push(delivery);
    this.pump();
  }

  /** Hands back deliveries that have not started (for adapters that can requeue them). */
  drainWaiting(): InboundDelivery[] {
    return this.waiting.splice(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.running === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (!this.stopped && this.running < this.options.concurrency && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      this.running += 1;
      void this.run(next).then(this.ran, this.ran);
    }
  }

  /** A handler slot freed up (one function for every delivery, not a closure each). */
  private readonly ran = (): void => {
    this.running -= 1;
    if (this.running === 0 && this.stopped) for (const resolve of this.idle.splice(0)) resolve();
    this.pump();
    if (!this.stopped) this.options.onCapacity?.();
  };

  private async run(delivery: InboundDelivery): Promise<void> {
    const { queue, handler, maxAttempts, retry, logger, observer, progressEveryMs, isTransient } =
      this.options;
    const heartbeat =
      delivery.inProgress && progressEveryMs
        ? setInterval(
            () => void this.settle(() => delivery.inProgress!(), 'progress'),
            progressEveryMs,
          )
        : undefined;
    try {
      // The delivery is the handler's Delivery as it is (its settling methods are not
      // in that type): no copy per event.
      await handler(delivery);
    } catch (err) {
      const meta = { err, queue, eventId: delivery.event.id, attempt: delivery.attempt };
      if (delivery.attempt >= maxAttempts && !isTransient?.(err)) {
        logger.error(meta, 'event handler failed for the last time; dead-lettering');
        observer?.handled?.(queue, 'dead');
        await this.settle(() => delivery.deadLetter(describe(err)), 'dead-letter');
      } else {
        logger.warn(meta, 'event handler failed; will retry');
        observer?.handled?.(queue, 'retry');
        await this.settle(() => delivery.retry(backoffDelay(delivery.attempt, retry)), 'retry');
      }
      return;
    } finally {
      clearInterval(heartbeat);
    }
    observer?.handled?.(queue, 'ack');
    // As settle() does, without its closure and async step per event: an adapter whose
    // ack is synchronous (in process) is not awaited.
    try {
      const acked = delivery.ack();
      if (acked !== undefined) await acked;
    } catch (err) {
      logger.warn({ err, queue }, 'bus ack failed');
    }
  }

  private async settle(action: () => Promise<void> | void, what: string): Promise<void> {
    try {
      await action();
    } catch (err) {
      // The broker redelivers what it did not hear about; log and go on.
      this.options.logger.warn({ err, queue: this.options.queue }, `bus ${what} failed`);
    }
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
