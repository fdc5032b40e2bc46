import { createHash } from 'node:crypto';
import type { PusherItem } from '../../events/pusher.js';
import type { NotifyEventMap } from '../notify/notify.events.js';
import type { SentEvent } from './push-delivery.js';

/** Who gets the notify.push webhook besides their devices (`push.webhook`). */
export type WebhookMode = 'fallback' | 'always' | 'off';

type PushRequest = PusherItem<NotifyEventMap> & { type: 'notify.push' };

/**
 * The signed notify.push webhook (or the console, by `notify.push.driver`) for
 * offline recipients: with `fallback` those with no live registered device, with
 * `always` every offline recipient, with `off` nobody.
 *
 * `off` too while `unseen()` says a push would leave no trace (the console driver at
 * a log level above debug, the default settings): each one cost a read of the message
 * and of the badge, an event, its de-duplication lookup and mark, to write nothing.
 * Asked per message, so a log level lowered at run time shows pushes from then on.
 */
export class WebhookPushes {
  constructor(
    private readonly deps: {
      mode: WebhookMode;
      notify: { sendBatch(items: PushRequest[]): Promise<unknown> };
      unseen?: () => boolean;
    },
  ) {}

  get mode(): WebhookMode {
    return this.deps.unseen?.() === true ? 'off' : this.deps.mode;
  }

  /** Of the users with no live socket, those the webhook is for. */
  users(offlineUsers: readonly string[], withDevice: ReadonlySet<string>): string[] {
    switch (this.mode) {
      case 'off':
        return [];
      case 'always':
        return [...offlineUsers];
      default:
        return offlineUsers.filter((id) => !withDevice.has(id));
    }
  }

  async send(requests: PushRequest[]): Promise<void> {
    await this.deps.notify.sendBatch(requests);
  }
}

/**
 * One notify.push request. Its id is derived from the message event's id and the
 * user, so a redelivered event sends the same request again and the notify
 * consumer (which records the ids it handled) drops the repeat.
 */
export function webhookRequest(
  eventId: string,
  m: Pick<SentEvent, 'conversationId' | 'msgId' | 'seq'>,
  userId: string,
  text: { title: string; body: string },
  badge: number,
): PushRequest {
  return {
    type: 'notify.push',
    id: createHash('sha256').update(`${eventId}\u0000${userId}`).digest('base64url').slice(0, 26),
    payload: {
      userId,
      title: text.title,
      body: text.body,
      data: {
        conversationId: m.conversationId,
        msgId: m.msgId,
        seq: String(m.seq),
        badge: String(badge),
      },
      collapseKey: `chat:${m.conversationId}`,
    },
  };
}
