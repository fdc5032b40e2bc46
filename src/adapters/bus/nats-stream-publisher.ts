import {
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { BrokerClosedError } from './bus.js';

/** One message for a JetStream stream; `headers` carry its `Nats-Msg-Id`. */
export interface StreamMessage {
  subject: string;
  body: Uint8Array;
  headers: MsgHdrs;
}

/** What `js.publish` waits for an ack by default (the client's JetStream timeout). */
export const STREAM_ACK_TIMEOUT_MS = 5_000;

interface Batch {
  /** The token of its first message; its messages hold `first … first + size - 1`. */
  first: number;
  size: number;
  /** Messages not yet acknowledged. */
  left: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Publishes batches of messages to JetStream streams and waits for every message's
 * ack, the way the Go and Java clients' async publish does: each message names a
 * reply subject under one inbox this connection subscribes to once, and an ack finds
 * its batch by the reply subject's last token. `js.publish` makes a request of each
 * message instead, and a request costs three Error objects with their stack traces
 * (its context, its timeout's, and one built on every settle), a timer and two
 * promises: two thirds of the relay's client CPU on NATS. Here a batch costs one
 * timer and one promise.
 *
 * Nothing is weaker than a request each: the messages go out on the one connection in
 * call order (the stream stores them so), a batch resolves only when every message
 * has a positive ack (stored, or a duplicate of a stored one), and it fails on the
 * first refusal, on no stream answering, or when the acks do not all come within the
 * timeout (all sent at once, so one deadline for the batch is each message's).
 */
export class StreamPublisher {
  private readonly inbox = `${createInbox()}.`;
  private readonly pending = new Map<number, Batch>();
  private subscription: Subscription | undefined;
  private nextToken = 0;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = STREAM_ACK_TIMEOUT_MS,
  ) {}

  publish(messages: readonly StreamMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerClosedError());
    if (messages.length === 0) return Promise.resolve();
    this.subscription ??= this.nc.subscribe(`${this.inbox}*`, {
      callback: (err, msg) => this.onAck(err, msg),
    });
    return new Promise<void>((resolve, reject) => {
      const batch: Batch = {
        first: this.nextToken,
        size: messages.length,
        left: messages.length,
        timer: undefined,
        resolve,
        reject,
      };
      this.nextToken += messages.length;
      try {
        for (let i = 0; i < messages.length; i += 1) {
          const m = messages[i]!;
          this.pending.set(batch.first + i, batch);
          this.nc.publish(m.subject, m.body, {
            reply: `${this.inbox}${batch.first + i}`,
            headers: m.headers,
          });
        }
      } catch (err) {
        // Closed, draining, or a subject the client refuses: what went out is not waited for.
        this.fail(batch, err);
        return;
      }
      batch.timer = setTimeout(
        () =>
          this.fail(
            batch,
            new Error(
              `${batch.left} of ${batch.size} JetStream acks not received in ${this.timeoutMs} ms`,
            ),
          ),
        this.timeoutMs,
      );
    });
  }

  /** Fails every batch still waiting (the connection is closed); publishes no more. */
  close(): void {
    this.closed = true;
    for (const batch of new Set(this.pending.values())) this.fail(batch, new BrokerClosedError());
  }

  private onAck(err: Error | null, msg: Msg): void {
    if (err) {
      // The inbox's subscription itself failed (a permission, say): no ack will come.
      this.subscription = undefined;
      for (const batch of new Set(this.pending.values())) this.fail(batch, err);
      return;
    }
    const token = Number(msg.subject.slice(this.inbox.length));
    const batch = this.pending.get(token);
    // Its batch failed or timed out already: the relay publishes it again.
    if (!batch) return;
    this.pending.delete(token);
    const refusal = ackRefusal(msg);
    if (refusal) {
      this.fail(batch, refusal);
    } else if (--batch.left === 0) {
      clearTimeout(batch.timer);
      batch.resolve();
    }
  }

  private fail(batch: Batch, err: unknown): void {
    clearTimeout(batch.timer);
    for (let t = batch.first; t < batch.first + batch.size; t += 1) this.pending.delete(t);
    batch.reject(err);
  }
}

interface PubAck {
  stream?: string;
  error?: { code?: number; err_code?: number; description?: string };
}

/** Why an answer to a publish is not a stored message's ack (undefined when it is). */
export function ackRefusal(msg: Pick<Msg, 'data' | 'headers' | 'json'>): Error | undefined {
  // The server answers 503 when no stream takes the subject (deleted, or not yet made).
  if (msg.data.length === 0 && msg.headers?.code === 503) {
    return new Error('no JetStream stream answered the publish (503 no responders)');
  }
  let ack: PubAck;
  try {
    ack = msg.json<PubAck>();
  } catch {
    return new Error('JetStream answered a publish with something other than JSON');
  }
  if (ack.error) {
    return new Error(
      `JetStream refused the publish: ${ack.error.description ?? 'unknown'} (${ack.error.err_code ?? ack.error.code})`,
    );
  }
  if (!ack.stream) return new Error('JetStream answered a publish with an invalid ack');
  return undefined;
}
