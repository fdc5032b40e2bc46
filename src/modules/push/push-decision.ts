import type { PushPlatform } from './push.entity.js';

/** How much of a message a notification shows (`push.preview`). */
export type PushPreview = 'full' | 'sender' | 'none';

/** The message as the decision reads it (a structural subset of the IM message). */
export interface NotifiedMessage {
  msgId: string;
  conversationId: string;
  /** 1 group, 2 single. */
  chatType: number;
  sendId: string;
  seq: number;
  mType: number;
  content: string;
  revoked?: unknown;
  atUserIds?: readonly string[];
  atAll?: true;
}

/** One recipient and what the decision needs to know about them. */
export interface Recipient {
  userId: string;
  /** Has a live socket: the message reached them live, no push. */
  online: boolean;
  /** Muted this conversation: notified only when mentioned. */
  muted: boolean;
  /** Total unread over all their conversations, this message included (the badge). */
  unread: number;
  devices: ReadonlyArray<{ deviceId: string; platform: PushPlatform; locale: string | null }>;
}

/** One notification for one device. Providers map it to their own fields. */
export interface DeviceNotification {
  userId: string;
  deviceId: string;
  platform: PushPlatform;
  title: string;
  body: string;
  badge: number;
  data: { conversationId: string; seq: string; msgId: string };
  /** Newer notifications of a conversation replace older ones on the device. */
  collapseKey: string;
  /** De-duplication key: one notification per (device, message), whatever is redelivered. */
  dedupKey: string;
  /**
   * This one replaces an earlier notification (same collapse key) because its
   * message was recalled: it says so and shows nothing of the message.
   */
  recalled?: true;
}

export interface DecisionInput {
  message: NotifiedMessage;
  /** The sender's nickname (title of a private chat, prefix in a group). */
  senderName: string;
  /** The group's name, for group messages. */
  groupName?: string;
  preview: PushPreview;
  recipients: readonly Recipient[];
}

const PREVIEW_CHARS = 100;
const NOTICE = 10;
const GROUP = 1;

/** Placeholder text of a non-text message; the file name shows for files. */
export function messagePreview(mType: number, content: string): string {
  switch (mType) {
    case 0:
      return truncate(content.replace(/\s+/g, ' ').trim());
    case 1:
      return '[Image]';
    case 2: {
      const name = fileName(content);
      return name ? `[File] ${truncate(name)}` : '[File]';
    }
    case 4:
      return '[Voice]';
    case 5:
      return '[Video]';
    default:
      return '[Message]';
  }
}

function fileName(content: string): string | undefined {
  try {
    const parsed = JSON.parse(content) as { name?: unknown };
    return typeof parsed.name === 'string' && parsed.name !== '' ? parsed.name : undefined;
  } catch {
    return undefined;
  }
}

function truncate(text: string): string {
  const chars = [...text];
  return chars.length <= PREVIEW_CHARS ? text : `${chars.slice(0, PREVIEW_CHARS - 1).join('')}…`;
}

function mentions(message: NotifiedMessage, userId: string): boolean {
  return message.atAll === true || (message.atUserIds ?? []).includes(userId);
}

/**
 * Who gets a notification for a new message, and what it says. Pure: the caller
 * reads presence, mute state, unread counts and devices, this decides.
 *
 * - never the sender, never someone online, never for a notice (mType 10) or a
 *   message already recalled;
 * - a muted conversation notifies only those it mentions (`atUserIds`, `atAll`);
 * - title: the sender's nickname, or the group's name (the body then starts with
 *   the nickname); body by `preview`: `full` the text ("[Image]", "[File] a.pdf" for
 *   files), `sender` only who wrote, `none` neither (title "New message");
 * - badge: the recipient's total unread; data `{conversationId, seq, msgId}`;
 *   collapse key per conversation; one notification per (device, msgId).
 */
export function decideNotifications(input: DecisionInput): DeviceNotification[] {
  const { message } = input;
  if (message.mType === NOTICE || message.revoked) return [];
  const text = notificationText(input);
  const seen = new Set<string>();
  const out: DeviceNotification[] = [];
  for (const r of input.recipients) {
    if (r.userId === message.sendId || r.online) continue;
    if (r.muted && !mentions(message, r.userId)) continue;
    for (const device of r.devices) {
      const dedupKey = `${r.userId}\u0000${device.deviceId}\u0000${message.msgId}`;
      if (seen.has(dedupKey)) continue;
      seen.add(dedupKey);
      out.push({
        userId: r.userId,
        deviceId: device.deviceId,
        platform: device.platform,
        ...text,
        badge: Math.max(0, r.unread),
        data: {
          conversationId: message.conversationId,
          seq: String(message.seq),
          msgId: message.msgId,
        },
        collapseKey: message.conversationId,
        dedupKey,
      });
    }
  }
  return out;
}

/**
 * What replaces a recalled message's notification (same collapse key, so the
 * device shows this instead): who recalled nothing of the content.
 */
export function recallText(
  input: Pick<DecisionInput, 'message' | 'senderName' | 'groupName' | 'preview'>,
): { title: string; body: string } {
  const { message, preview, senderName } = input;
  if (preview === 'none') return { title: 'New message', body: 'A message was recalled' };
  const group = message.chatType === GROUP;
  const title = group ? (input.groupName ?? senderName) : senderName;
  return { title, body: group ? `${senderName} recalled a message` : 'recalled a message' };
}

/** Title and body of a message's notification (see decideNotifications). */
export function notificationText(
  input: Pick<DecisionInput, 'message' | 'senderName' | 'groupName' | 'preview'>,
): { title: string; body: string } {
  const { message, preview, senderName } = input;
  const group = message.chatType === GROUP;
  if (preview === 'none') return { title: 'New message', body: 'You have a new message' };
  const title = group ? (input.groupName ?? senderName) : senderName;
  if (preview === 'sender') {
    return { title, body: group ? `${senderName} sent a message` : 'sent you a message' };
  }
  const shown = messagePreview(message.mType, message.content);
  return { title, body: group ? `${senderName}: ${shown}` : shown };
}
