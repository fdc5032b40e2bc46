import type { Consumer, Subscription } from '../../adapters/bus/bus.js';
import { DomainTopic, type DomainEventMap } from '../../events/domain-events.js';
import type { TypedEvent } from '../../events/typed-events.js';
import { AnswerCache } from '../../shared/answer-cache.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';

/** Names held (senders' nicknames and groups' names together). */
const NAMES_HELD = 10_000;
/** Longest a name is used: the bound on a stale title when the bus lost the change's event. */
const NAME_TTL_MS = 60_000;

/** The domain events after which a held name may be wrong. */
export const NAME_EVENT_TYPES = [
  'user-updated',
  'user-deleted',
  'group-updated',
  'group-dismissed',
] as const satisfies ReadonlyArray<keyof DomainEventMap>;

type NameEvent = TypedEvent<DomainEventMap, (typeof NAME_EVENT_TYPES)[number]>;

const userKey = (userId: string) => `u\n${userId}`;
const groupKey = (groupId: string) => `g\n${groupId}`;

/**
 * The names a notification shows — the sender's nickname, the group's name — held in
 * memory, so an offline push reads them from the database once a minute at most
 * rather than once a message (the nickname was one of five reads of every push to an
 * offline recipient; docs/performance-log.md, "The reads of a push").
 *
 * A name is dropped by the committed event of its change (user-updated naming the
 * nickname, group-updated naming the name, an account deleted, a group dismissed),
 * heard through the bus's live subscription (followNameChanges), so a title is stale
 * for at most the outbox relay's delay. A read in flight while a name was dropped is
 * used but not kept. After the bus reconnected (events may have been missed) every
 * name is forgotten; a name silently missed goes stale for at most NAME_TTL_MS.
 */
export class NotificationNames {
  private readonly names: AnswerCache<string | undefined>;
  /** Moves on every drop: a read that began before one is not kept. */
  private generation = 0;

  constructor(
    private readonly source: {
      nickname(userId: string): Promise<string | undefined>;
      groupName(groupId: string): Promise<string | undefined>;
    },
    options: { clock: Clock; maxEntries?: number; ttlMs?: number },
  ) {
    this.names = new AnswerCache({
      maxEntries: options.maxEntries ?? NAMES_HELD,
      ttlMs: options.ttlMs ?? NAME_TTL_MS,
      clock: options.clock,
    });
  }

  /** A user's nickname; undefined for a deleted or unknown user. */
  nickname(userId: string): Promise<string | undefined> {
    return this.read(userKey(userId), () => this.source.nickname(userId));
  }

  /** An active group's name; undefined for a dismissed or unknown group. */
  groupName(groupId: string): Promise<string | undefined> {
    return this.read(groupKey(groupId), () => this.source.groupName(groupId));
  }

  /** A committed event from the bus: drops the name it changed. */
  changed(event: NameEvent): void {
    const key = keyChangedBy(event);
    if (key === undefined) return;
    this.names.delete(key);
    this.generation += 1;
  }

  /** Forgets every name (the bus reconnected: changes may have been missed). */
  clear(): void {
    this.names.clear();
    this.generation += 1;
  }

  private async read(key: string, load: () => Promise<string | undefined>) {
    const held = this.names.lookup(key);
    if (held !== undefined) return held.value;
    const generation = this.generation;
    const name = await load();
    if (generation === this.generation) this.names.set(key, name);
    return name;
  }
}

/** The name an event changes, if any (a profile update may change only the avatar). */
function keyChangedBy(event: NameEvent): string | undefined {
  switch (event.type) {
    case 'user-updated':
      return event.payload.fields.includes('nickname') ? userKey(event.payload.userId) : undefined;
    case 'user-deleted':
      return userKey(event.payload.userId);
    case 'group-updated':
      return event.payload.changes.name !== undefined ? groupKey(event.payload.groupId) : undefined;
    case 'group-dismissed':
      return groupKey(event.payload.groupId);
  }
}

/**
 * Keeps a process's notification names current from the bus; everything is
 * forgotten after the broker connection came back.
 */
export function followNameChanges(deps: {
  broker: Consumer;
  names: NotificationNames;
  logger: Logger;
}): Promise<Subscription> {
  const { names, logger } = deps;
  return DomainTopic.subscribe(
    deps.broker,
    NAME_EVENT_TYPES,
    async (event) => names.changed(event),
    () => {
      logger.info('bus reconnected: notification names cleared');
      names.clear();
    },
  );
}
