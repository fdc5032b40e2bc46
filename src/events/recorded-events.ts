import type { EventMessage } from '../adapters/bus/event-message.js';

/** How many recorded events are kept at most (those of rolled-back transactions age out). */
const DEFAULT_CAPACITY = 4096;

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
 * CPU on SQLite; docs/performance.md, "The outbox read back without its envelopes").
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
  private readonly byId = new Map<string, RecordedEvent>();
  private keeping = false;
  /** Whether texts are kept beside the events (the relay's publisher reads them). */
  private keepingTexts = true;

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

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
    this.byId.clear();
  }

  /** Forgets what was kept, still keeping from now on (another process holds the lease). */
  clear(): void {
    this.byId.clear();
  }

  /**
   * Keeps an event whose row was just written (its transaction not committed yet).
   * Callers must not change the event afterwards: it is published as it is.
   */
  add(event: EventMessage, text?: string): void {
    if (!this.keeping) return;
    this.byId.set(event.id, { event, text: this.keepingTexts ? text : undefined });
    // The oldest goes first: a Map iterates in insertion order.
    if (this.byId.size > this.capacity) this.byId.delete(this.byId.keys().next().value!);
  }

  /** The kept event of this id, handed out once (a row published again is read again). */
  take(id: string): RecordedEvent | undefined {
    const kept = this.byId.get(id);
    if (kept) this.byId.delete(id);
    return kept;
  }

  /** Whether anything is kept: when not, the relay reads whole rows in one statement. */
  get isEmpty(): boolean {
    return this.byId.size === 0;
  }
}
