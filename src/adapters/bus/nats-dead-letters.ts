import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { ConsumeSpec, DeadLetter } from './bus.js';
import { undecodableEvent, type WireFormats } from './codec.js';
import type { BusLogger } from './delivery-runner.js';

/** Headers easy-chat sets on NATS messages (a Go consumer reads `Ec-Key` and `Content-Type`). */
export const KEY_HEADER = 'Ec-Key';
export const CONTENT_TYPE_HEADER = 'Content-Type';
/** Set by publishers that de-duplicate (the msgID): an id for messages without one. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';
const REASON_HEADER = 'Ec-Dead-Reason';
/** The topic a dead letter came from, so a replay knows where to publish it. */
const TOPIC_HEADER = 'Ec-Topic';
/** The event type of a dead letter (its subject names the queue instead). */
const TYPE_HEADER = 'Ec-Type';
const DAY_MS = 86_400_000;

export interface NatsDeadLetterDeps {
  prefix: string;
  js: JetStreamClient;
  jsm: JetStreamManager;
  formats: WireFormats;
  logger: BusLogger;
  /** Declares a stream once (the broker's cache). */
  ensure(cacheKey: string, name: string, subjects: string[], maxAgeMs: number): Promise<void>;
  /** Publishes bytes on a topic's subject for `type` (declaring the stream). */
  republish(
    topic: string,
    type: string,
    data: Uint8Array,
    h: MsgHdrs,
    msgID: string,
  ): Promise<void>;
}

/**
 * A NatsBroker's dead letters: the stream `<prefix>_dlq`, one subject
 * `<prefix>.dlq.<queue>` per queue, the bytes as they arrived and, in headers, the
 * key, topic, type, content type and the reason. Kept 30 days.
 */
export class NatsDeadLetters {
  constructor(private readonly deps: NatsDeadLetterDeps) {}

  /** Stores a message for `spec`'s queue with why it died. */
  async store(
    spec: ConsumeSpec,
    data: Uint8Array,
    about: { key: string; type: string; contentType?: string; reason: string },
  ): Promise<void> {
    await this.ensureStream();
    const h = headers();
    h.set(KEY_HEADER, about.key);
    h.set(TOPIC_HEADER, spec.topic);
    h.set(TYPE_HEADER, about.type);
    if (about.contentType) h.set(CONTENT_TYPE_HEADER, about.contentType);
    h.set(REASON_HEADER, about.reason.replace(/[\r\n]+/g, ' ').slice(0, 1000));
    await this.deps.js.publish(this.subject(spec.queue), data, { headers: h });
  }

  async take(queue: string, limit: number): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    if (limit <= 0) return out;
    for await (const stored of this.stored(queue)) {
      await this.deps.jsm.streams.deleteMessage(this.streamName(), stored.seq, false);
      out.push(this.deadLetterOf(stored).dead);
      if (out.length >= limit) break;
    }
    return out;
  }

  async replay(queue: string, limit: number): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    if (limit <= 0) return out;
    for await (const stored of this.stored(queue)) {
      const topic = stored.header.get(TOPIC_HEADER);
      const { dead, decoded } = this.deadLetterOf(stored);
      if (!topic || !decoded) {
        // Left in place for `take` and a human: nothing to replay it as.
        this.deps.logger.warn({ queue, seq: stored.seq }, 'dead letter cannot be replayed; left');
        continue;
      }
      const h = headers();
      h.set(KEY_HEADER, dead.key);
      const contentType = stored.header.get(CONTENT_TYPE_HEADER);
      if (contentType) h.set(CONTENT_TYPE_HEADER, contentType);
      // A msgID of its own: the event's id may still be inside the duplicate window
      // (it would be dropped), and a replay repeated after a crash between the
      // publish and the delete below stores it once.
      const msgID = `${dead.event.id}.replay.${stored.seq}`;
      await this.deps.republish(topic, dead.event.type, stored.data, h, msgID);
      await this.deps.jsm.streams.deleteMessage(this.streamName(), stored.seq, false);
      out.push(dead);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** A queue's dead letters, oldest first, read one by one from the dead-letter stream. */
  private async *stored(queue: string) {
    await this.ensureStream();
    const subject = this.subject(queue);
    for (let seq = 1; ;) {
      // STREAM.MSG.GET takes next_by_subj (server 2.9+); the client's type omits it.
      const query = { seq, next_by_subj: subject } as { seq: number };
      const stored = await this.deps.jsm.streams.getMessage(this.streamName(), query);
      if (!stored) return;
      seq = stored.seq + 1;
      yield stored;
    }
  }

  /** A stored dead letter as the admin API shows it; `decoded` false for undecodable bytes. */
  private deadLetterOf(stored: StoredMsg): { dead: DeadLetter; decoded: boolean } {
    const h = stored.header;
    const type = h.get(TYPE_HEADER);
    const contentType = h.get(CONTENT_TYPE_HEADER) || undefined;
    const reason = h.get(REASON_HEADER) || 'dead-lettered';
    const fallbackId = () => h.get(MSG_ID_HEADER) || `${this.streamName()}:${stored.seq}`;
    const timestamp = stored.time.getTime();
    try {
      const event = this.deps.formats.decode(h.get(TOPIC_HEADER), stored.data, {
        type,
        contentType,
        fallbackId,
        fallbackTimestamp: () => timestamp,
      });
      return { dead: { event, key: h.get(KEY_HEADER) || event.id, reason }, decoded: true };
    } catch {
      const event = undecodableEvent(stored.data, {
        type,
        id: fallbackId(),
        timestamp,
        contentType,
      });
      return { dead: { event, key: h.get(KEY_HEADER) || event.id, reason }, decoded: false };
    }
  }

  private ensureStream(): Promise<void> {
    const subjects = [`${this.deps.prefix}.dlq.>`];
    return this.deps.ensure('\0dlq', this.streamName(), subjects, 30 * DAY_MS);
  }

  private streamName(): string {
    return `${this.deps.prefix}_dlq`.replace(/\./g, '_');
  }

  private subject(queue: string): string {
    return `${this.deps.prefix}.dlq.${queue}`;
  }
}
