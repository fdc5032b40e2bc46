import type { ConsumeSpec, Consumer, Delivery, Subscription } from '../adapters/bus/bus.js';
import type { EventMessage } from '../adapters/bus/event-message.js';

/**
 * One event of the map `M` whose type is one of `K`, its payload typed by its type:
 * a union a handler narrows with `event.type === '…'`.
 */
export type TypedEvent<M, K extends keyof M = keyof M> = {
  [T in K]: Omit<EventMessage, 'type' | 'payload'> & { type: T; payload: M[T] };
}[K];

/** What a handler wrapper answers for an event it does not pass on. */
const SKIPPED: Promise<void> = Promise.resolve();

/** A consumer spec whose types come from the topic's map. */
export type TypedConsumeSpec<K> = Omit<ConsumeSpec, 'topic' | 'types'> & { types: readonly K[] };

/**
 * A topic with the map of its event types to payloads (`DomainEventMap`,
 * `NotifyEventMap`, …): consumers get typed events instead of casting payloads.
 * The broker hands a consumer only the types it asked for; the type is checked
 * again here, so the typing holds even for an event replayed onto the topic.
 */
export class EventTopic<M> {
  constructor(readonly name: string) {}

  /** A durable, at-least-once consumer (Consumer.consume) of some of the topic's types. */
  consume<K extends keyof M & string>(
    consumer: Consumer,
    spec: TypedConsumeSpec<K>,
    handler: (event: TypedEvent<M, K>, delivery: Delivery) => Promise<void>,
  ): Promise<Subscription> {
    const accepts = this.accepts(spec.types);
    // Not an async function: the handler's own promise is the answer (one promise and
    // one async frame less per delivery; the runners await it inside their try).
    return consumer.consume({ ...spec, topic: this.name }, (delivery) =>
      accepts(delivery.event) ? handler(delivery.event, delivery) : SKIPPED,
    );
  }

  /**
   * A live subscription (Consumer.subscribe): every subscribing process gets each
   * event; `onGap` hears when some may have been missed (the broker reconnected).
   */
  subscribe<K extends keyof M & string>(
    consumer: Consumer,
    types: readonly K[],
    handler: (event: TypedEvent<M, K>, delivery: Delivery) => Promise<void>,
    onGap?: () => void,
  ): Promise<Subscription> {
    const accepts = this.accepts(types);
    return consumer.subscribe({ topic: this.name, types, onGap }, async (delivery) => {
      if (accepts(delivery.event)) await handler(delivery.event, delivery);
    });
  }

  private accepts<K extends keyof M & string>(types: readonly K[]) {
    const set = new Set<string>(types);
    return (event: EventMessage): event is EventMessage & TypedEvent<M, K> => set.has(event.type);
  }
}
