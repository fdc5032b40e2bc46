import type { Consumer, Subscription } from '../../adapters/bus/bus.js';
import type { Presence } from '../../adapters/presence/presence.js';
import { DomainTopic } from '../../events/domain-events.js';
import type { ConversationAudience } from '../../realtime/local-sockets.js';
import type { Logger } from '../../shared/logger.js';
import { ChatType, SYSTEM_SENDER } from '../im/index.js';
import type { MessageContext } from './offline-text.js';
import type { PushDevice } from './push.entity.js';
import { decideNotifications, notificationText, type Recipient } from './push-decision.js';
import type { NotificationSender, SentMessage } from './notification-sender.js';
import { webhookRequest, type WebhookPushes } from './webhook-pushes.js';

/** The durable queue of push delivery (message-sent, message-revoked). */
export const PUSH_DELIVERY_QUEUE = 'push.delivery';
const AUDIENCE_BATCH = 1000;
const NOTICE = 10;

/** The message-sent payload as delivery reads it. */
export interface SentEvent extends SentMessage {
  chatType: number;
  sendId: string;
  recvId: string;
  mType: number;
  sendTime: number;
}

/** A conversation's members, page by page. */
export type RecipientDirectory = ConversationAudience;

export interface PushDeliveryDeps {
  broker: Consumer;
  audience: RecipientDirectory;
  presence: Pick<Presence, 'onlineTokens' | 'onlineAmong' | 'isOnlineNow'>;
  devices: {
    /**
     * True when the user is known, from memory, to have no device: no lookup needed
     * (DeviceService.knownDeviceless). Optional; without it every message is looked up.
     */
    knownDeviceless?(userId: string): boolean;
    /** Every registered device of these users, live or not (one query). */
    registeredOf(userIds: readonly string[]): Promise<PushDevice[]>;
    /** Those whose registration still works (the others are deleted). */
    keepLive(devices: PushDevice[]): Promise<PushDevice[]>;
  };
  /** The stored message and the names of a notification; each user's badge and mute. */
  text: {
    context(sent: SentEvent): Promise<MessageContext>;
    badgesAndMutes(
      userIds: readonly string[],
      conversationId: string,
      seq: number,
    ): Promise<{ badges: Map<string, number>; quiet: Set<string> }>;
  };
  /** Whether the message was recalled (read again after notifications went out). */
  recalled(msgId: string): Promise<boolean>;
  sender: NotificationSender;
  webhook: WebhookPushes;
  /** Events handled at once. */
  concurrency: number;
  logger: Logger;
}

/**
 * Worker role: offline push. For each stored chat message every device of every
 * recipient that has no live socket on that device (no connection authenticated
 * with the token the device registered with) gets one notification; muted
 * conversations notify only those mentioned; never the sender, never for notices or
 * a message recalled before the push went out. Presence is read when the event is
 * handled, so someone who came online meanwhile got the message live.
 *
 * Nothing is written for a message whose recipients were online: the de-duplication
 * rows (push_sent) exist only for notifications actually sent. A recall
 * (message-revoked) replaces the notifications that went out.
 */
export function startPushDelivery(deps: PushDeliveryDeps): Promise<Subscription> {
  return DomainTopic.consume(
    deps.broker,
    {
      queue: PUSH_DELIVERY_QUEUE,
      types: ['message-sent', 'message-revoked'],
      concurrency: deps.concurrency,
    },
    async (event) => {
      if (event.type === 'message-revoked') {
        await deps.sender.withdraw(event.payload);
        return;
      }
      const m = event.payload;
      if (notifiesNobody(deps, m)) return;
      const sent = await deliverMessage(deps, event.id, m);
      // A recall handled while these were on their way found nothing to withdraw yet.
      if (sent > 0 && (await deps.recalled(m.msgId))) {
        await deps.sender.withdraw({ ...m, revokedAt: Date.now() });
      }
    },
  );
}

/**
 * Whether a message certainly notifies nobody, told from memory and at once: a group
 * notice, or a single chat whose recipient has no device (remembered) and, unless
 * the webhook is off, is online now (the webhook is for offline recipients only).
 * The usual single chat between users without devices then costs no lookup, no
 * async steps and no arrays (a sixteenth of what a private message allocated went
 * into finding that out; docs/performance-log.md). Decided when the event is handled,
 * as before: a device registered meanwhile has cleared the memory.
 */
function notifiesNobody(deps: PushDeliveryDeps, m: SentEvent): boolean {
  // Group notices are news about the group, not messages to alert anyone of.
  if (m.mType === NOTICE) return true;
  if (m.chatType !== ChatType.single) return false;
  const to = m.recvId;
  if (to === m.sendId || to === SYSTEM_SENDER) return true;
  if (deps.devices.knownDeviceless?.(to) !== true) return false;
  return deps.webhook.mode === 'off' || deps.presence.isOnlineNow?.(to) === true;
}

/** Answers how many device notifications went out (notifiesNobody said no first). */
async function deliverMessage(
  deps: PushDeliveryDeps,
  eventId: string,
  m: SentEvent,
): Promise<number> {
  let context: Promise<MessageContext> | undefined;
  const batch = (ids: string[]) =>
    notifyBatch(deps, eventId, m, ids, () => (context ??= deps.text.context(m)));
  if (m.chatType === ChatType.single) return batch([m.recvId]);
  let sent = 0;
  let after: string | undefined;
  for (;;) {
    const ids = await deps.audience.audience(m.conversationId, m.seq, after, AUDIENCE_BATCH);
    sent += await batch(ids);
    if (ids.length < AUDIENCE_BATCH) break;
    after = ids[ids.length - 1];
  }
  return sent;
}

/** One page of recipients: reads only (presence, device rows) unless someone is offline. */
async function notifyBatch(
  deps: PushDeliveryDeps,
  eventId: string,
  m: SentEvent,
  userIds: string[],
  context: () => Promise<MessageContext>,
): Promise<number> {
  const candidates = userIds.filter((id) => id !== m.sendId && id !== SYSTEM_SENDER);
  if (candidates.length === 0) return 0;
  const hooks = deps.webhook.mode !== 'off';
  const registered = await deps.devices.registeredOf(candidates);
  // Presence matters only for users with a device (or a webhook to call): in a large
  // group most members often have neither, and were handled by the query above.
  if (registered.length === 0 && !hooks) return 0;
  // Tokens only for the users with a device; the webhook needs only who is online.
  // (Every member's token sets, rebuilt for every message to a group of 10,000 all
  // online, were a twentieth of the server's time.)
  const owners = [...new Set(registered.map((d) => d.userId))];
  const [online, connected] = await Promise.all([
    owners.length > 0 ? deps.presence.onlineTokens(owners) : new Map<string, Set<string>>(),
    hooks ? deps.presence.onlineAmong(candidates) : new Set<string>(),
  ]);
  // A device is online when a live socket authenticated with the token it registered with.
  const offline = registered.filter((d) => !online.get(d.userId)?.has(d.tokenJti));
  const offlineUsers = hooks ? candidates.filter((id) => !connected.has(id)) : [];
  if (offline.length === 0 && offlineUsers.length === 0) return 0;

  const devices = await deps.devices.keepLive(offline);
  const withDevice = new Set(devices.map((d) => d.userId));
  const hooked = deps.webhook.users(offlineUsers, withDevice);
  const notifiable = [...new Set([...withDevice, ...hooked])];
  if (notifiable.length === 0) return 0;
  // The message and the recipients' badges and mutes, read side by side.
  const [ctx, { badges, quiet }] = await Promise.all([
    context(),
    deps.text.badgesAndMutes(notifiable, m.conversationId, m.seq),
  ]);
  // Recalled (or gone) before its push went out: nothing to say.
  if (!ctx.message || ctx.message.revoked) return 0;
  const loud = new Set(notifiable.filter((id) => !quiet.has(id)));
  if (loud.size === 0) return 0;

  const recipients: Recipient[] = [...withDevice]
    .filter((id) => loud.has(id))
    .map((userId) => ({
      userId,
      online: false,
      muted: false,
      unread: badges.get(userId)!,
      devices: devices.filter((d) => d.userId === userId),
    }));
  const notifications = decideNotifications({ ...ctx, message: ctx.message, recipients });
  const hookedLoud = hooked.filter((id) => loud.has(id));
  const text = notificationText({ ...ctx, message: ctx.message });
  const [sent] = await Promise.all([
    deps.sender.deliver(m, devices, notifications, m.sendTime),
    hookedLoud.length > 0
      ? deps.webhook.send(
          hookedLoud.map((id) => webhookRequest(eventId, m, id, text, badges.get(id)!)),
        )
      : undefined,
  ]);
  return sent;
}
