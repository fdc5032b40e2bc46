import { notificationText, type NotifiedMessage, type PushPreview } from './push-decision.js';

/** What a notification of a message says to one recipient. */
export interface OfflineText {
  title: string;
  body: string;
  /** The recipient's total unread, this message included. */
  badge: number;
}

/**
 * Looks up what the decision needs (sender nickname, group name, each recipient's
 * total unread) and composes the text of an offline push per recipient. The
 * lookups are functions so the worker wires them from the user, social and IM
 * services without this module depending on them.
 */
export class OfflineTextComposer {
  constructor(
    private readonly deps: {
      preview: PushPreview;
      nickname: (userId: string) => Promise<string | undefined>;
      groupName: (groupId: string) => Promise<string | undefined>;
      totalUnread: (userId: string) => Promise<number>;
      /** The stored message (its content; whether it was recalled since). */
      findMessage: (msgId: string) => Promise<NotifiedMessage | undefined>;
    },
  ) {}

  async compose(
    sent: Omit<NotifiedMessage, 'content'>,
    recipientIds: readonly string[],
  ): Promise<Map<string, OfflineText>> {
    const { deps } = this;
    const [stored, senderName, groupName] = await Promise.all([
      deps.findMessage(sent.msgId),
      deps.nickname(sent.sendId),
      // A group's conversation id is the group id.
      sent.chatType === 1 ? deps.groupName(sent.conversationId) : undefined,
    ]);
    const message: NotifiedMessage = stored ?? { ...sent, content: '' };
    // A message recalled before its push went out is never shown: who wrote only.
    const shown = stored !== undefined && !stored.revoked;
    const text = notificationText({
      message,
      // A deleted sender has no nickname any more.
      senderName: senderName || 'Someone',
      preview: shown || deps.preview === 'none' ? deps.preview : 'sender',
      ...(groupName !== undefined ? { groupName } : {}),
    });
    const out = new Map<string, OfflineText>();
    for (const userId of recipientIds) {
      const badge = await deps.totalUnread(userId);
      out.set(userId, { title: text.title, body: text.body, badge });
    }
    return out;
  }
}
