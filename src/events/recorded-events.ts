import type { EventMessage } from '../adapters/bus/event-message.js';

/** How many recorded events are kept at most (those of rolled-back transactions age out). */
const DEFAULT_CAPACITY = 4096;
/** How far from where it looked last `take` looks, each way (RecordedEvents.take). */
const SEARCHED = 512;

/**
 * The events this process wrote into the outbox lately, by id, as the very objects
 * their rows' envelopes were encoded from (EventRecorder's onRecorded).
 *
 * The outbox relay still reads every row back before it publishes it: that read is
 * what tells it the row's transaction committed, gives the order by position, and
 * finds rows left by a crash or written by another process. But for a row whose id
 * is here it reads only the id, position and key, and publishes the kept object
 * instead of reading the envelope's text and parsing it (a string of some 600 bytes
 * made, then parsed into a new object, per message: about 2% of a private message's
 * CPU on SQLite; docs/performance-log.md, "The outbox read back without its envelopes").
 * An id missing here (another process's row, a row left by a crash, an event aged
 * out) is read and parsed as before, so keeping or losing entries changes only cost.
 *
 * Events are kept only while this process runs the relay (`keep`): a process that
 * writes but never relays (the api role beside a worker) keeps nothing.
 */
/** A kept event and the text its row's envelope holds (`JSON.stringify(event)`). */
export interface RecordedEvent {
  event: EventMessage;
  text?: string;
}

export class RecordedEvents {
  /**
   * The kept events in the order they were recorded, in a ring: the event recorded
   * `capacity` events after one takes its slot, if it is still there (the oldest goes
   * first). Not a Map by id: every batch of sends added its events to the Map and the
   * relay took them out again, which grew and shrank its hash table each batch, and the
   * tables lived across the batch's commit (docs/performance-log.md, "The batch's sets
   * without per-batch tables"). The relay takes events in about the order they were
   * recorded (by position), so `take` finds each where it looks first, or close by.
   */
  private readonly slots: Array<RecordedEvent | undefined>;
  /** How many events were ever added: the next goes into slot `added % capacity`. */
  private added = 0;
  /** Where take looks first (counted as `added` counts): past the event it last handed out. */
  private next = 0;
  /** How many slots hold an event. */
  private count = 0;
  private keeping = false;
  /** Whether texts are kept beside the events (the relay's publisher reads them). */
  private keepingTexts = true;

  constructor(private readonly capacity = DEFAULT_CAPACITY) {
    this.slots = new Array<RecordedEvent | undefined>(capacity).fill(undefined);
  }

  /**
   * From now on recorded events are kept (the relay started in this process); their
   * texts only with `texts` (its publisher reads them: Publisher.takesText). A text
   * not kept dies with its row's write, instead of surviving a scavenge or two until
   * the relay publishes: the largest thing a message left alive that long.
   */
  keep(texts = true): void {
    this.keeping = true;
    this.keepingTexts = texts;
  }

  /** Stops keeping and forgets what was kept (the relay stopped). */
  forget(): void {
    this.keeping = false;
    this.clear();
  }

  /** Forgets what was kept, still keeping from now on (another process holds the lease). */
  clear(): void {
    if (this.count === 0) return;
    this.slots.fill(undefined);
    this.count = 0;
  }

  /**
   * Keeps an event whose row was just written (its transaction not committed yet).
   * Callers must not change the event afterwards: it is published as it is.
   */
  add(event: EventMessage, text?: string): void {
    if (!this.keeping) return;
    const slot = this.added % this.capacity;
    if (this.slots[slot] === undefined) this.count += 1;
    this.slots[slot] = { event, text: this.keepingTexts ? text : undefined };
    this.added += 1;
  }

  /** The kept event of this id, handed out once (a row published again is read again). */
  take(id: string): RecordedEvent | undefined {
    if (this.count === 0) return undefined;
    // Onwards from where the last one was, then back from there, up to SEARCHED events
    // each way: an event farther off (another batch's, far out of order) is read from its
    // row instead, as is an id not kept (another process's row, a row left by a crash).
    const newest = Math.min(this.added, this.next + SEARCHED);
    for (let i = this.next; i < newest; i += 1) {
      if (this.slots[i % this.capacity]?.event.id === id) return this.handOut(i);
    }
    const oldest = Math.max(this.added - this.capacity, this.next - SEARCHED, 0);
    for (let i = this.next - 1; i >= oldest; i -= 1) {
      if (this.slots[i % this.capacity]?.event.id === id) return this.handOut(i);
    }
    return undefined;
  }

  /** The event added `i`th, taken out of its slot. */
  private handOut(i: number): RecordedEvent {
    const slot = i % this.capacity;
    const kept = this.slots[slot]!;
    this.slots[slot] = undefined;
    this.count -= 1;
    this.next = i + 1;
    return kept;
  }

  /** Whether anything is kept: when not, the relay reads whole rows in one statement. */
  get isEmpty(): boolean {
    return this.count === 0;
  }
}
