import type { Presence } from '../../adapters/presence/presence.js';
import type { PushDelivery } from '../../realtime/push-delivery.js';
import type { SocialDirectory } from './social-directory.js';
import type { Logger } from '../../shared/logger.js';

/** The push a user's friends get when the user comes online or goes offline. */
export const PRESENCE_METHOD = 'user.presence' as const;

/**
 * Gateway role: tells a user's friends when the user comes online or goes offline,
 * with `{frameType: 0, id, method: "user.presence", data: {userId, online}}`.
 *
 * The gateway calls `changed` when a user's first connection on it opened or its
 * last one closed, after presence was updated. The frame carries the state read
 * from presence then, not the local event: with devices on several gateways,
 * closing the last one here leaves the user online elsewhere, and friends hear
 * `online: true` again (harmless) rather than a wrong `false`. Announcements of
 * one user run one after another, so friends get them in the order they happened.
 * Users of a gateway that crashed go offline when its heartbeat expires, without
 * an announcement; clients re-read `user.online` on reconnect and now and then.
 */
export class PresenceAnnouncer {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: {
      presence: Presence;
      directory: SocialDirectory;
      delivery: PushDelivery;
      logger: Logger;
    },
  ) {}

  changed(userId: string): void {
    const previous = this.chains.get(userId) ?? Promise.resolve();
    const next = previous
      .then(() => this.announce(userId))
      .catch((err: unknown) => this.deps.logger.warn({ err, userId }, 'presence push failed'));
    this.chains.set(userId, next);
    void next.then(() => {
      if (this.chains.get(userId) === next) this.chains.delete(userId);
    });
  }

  /** Resolves when every announcement started so far has been delivered (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all(this.chains.values());
  }

  private async announce(userId: string): Promise<void> {
    const { presence, directory, delivery } = this.deps;
    const friends = await directory.friendIds(userId);
    if (friends.length === 0) return;
    const online = (await presence.onlineAmong([userId])).has(userId);
    await delivery.toUsers(friends, { method: PRESENCE_METHOD, data: { userId, online } });
  }
}
