import { ChatType, type Message } from '@easy-chat/sdk';
import type { State } from './state.js';

/** Whether this browser can show desktop notifications at all. */
export function notificationsSupported(): boolean {
  return typeof Notification !== 'undefined';
}

/** Asks for permission (call from a click: browsers refuse otherwise). */
export async function enableNotifications(): Promise<NotificationPermission> {
  if (!notificationsSupported()) return 'denied';
  return Notification.requestPermission();
}

/**
 * A desktop notification for a message that arrives while the tab is hidden (and
 * the conversation is not muted, unless I am mentioned). One per conversation at a
 * time: the `tag` replaces the previous one.
 */
export function notifyHidden(state: State, message: Message, onClick: () => void): void {
  if (!notificationsSupported() || Notification.permission !== 'granted') return;
  if (document.visibilityState !== 'hidden') return;
  const conversation = state.conversations[message.conversationId];
  const mentioned =
    message.atAll === true || (state.me !== null && message.atUserIds?.includes(state.me.id));
  if (conversation?.muted && !mentioned) return;
  const sender = state.users[message.sendId]?.nickname ?? 'Someone';
  const group =
    message.chatType === ChatType.group
      ? state.groups.find((g) => g.id === message.conversationId)?.name
      : undefined;
  const body = message.mType === 0 || message.mType === undefined ? message.content : 'Attachment';
  try {
    const note = new Notification(group ? `${sender} in ${group}` : sender, {
      body: body.slice(0, 200),
      tag: message.conversationId,
    });
    note.onclick = () => {
      note.close();
      onClick();
    };
  } catch {
    // Some browsers only allow notifications from a service worker; the badge still counts.
  }
}
