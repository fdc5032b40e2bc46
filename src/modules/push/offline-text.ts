import type { NotifiedMessage, PushPreview } from './push-decision.js';

/** What the decision needs besides the recipients, read once per message. */
export interface MessageContext {
  /** The stored message; undefined when it is gone. */
  message: NotifiedMessage | undefined;
  senderName: string;
  groupName?: string;
  preview: PushPreview;
}

/**
 * Looks up what the decision needs besides presence and devices: the stored
 * message, the sender's nickname, the group's name, each recipient's total unread
 * and mute.
 * The lookups are functions so the worker wires them from the user, social and IM
 * services without this module depending on them.
 */
export class OfflineTextComposer {
  constructor(
    private readonly deps: {
      preview: PushPreview;
      nickname: (userId: string) => Promise<string | undefined>;
      groupName: (groupId: string) => Promise<string | undefined>;
      /** Each user's total unread over all conversations, many users in one lookup. */
      unreadTotals: (userIds: readonly string[]) => Promise<Map<string, number>>;
      /** unreadTotals, with those who muted the conversation and are not mentioned since `seq`. */
      badgesAndMutes: (
        userIds: readonly string[],
        conversationId: string,
        seq: number,
      ) => Promise<{ badges: Map<string, number>; quiet: Set<string> }>;
      /** The stored message (its content; whether it was recalled since). */
      findMessage: (msgId: string) => Promise<NotifiedMessage | undefined>;
    },
  ) {}

  /** The stored message, the sender's nickname and the group's name. */
  async context(sent: Omit<NotifiedMessage, 'content'>): Promise<MessageContext> {
    const { deps } = this;
    const [message, senderName, groupName] = await Promise.all([
      deps.findMessage(sent.msgId),
      deps.nickname(sent.sendId),
      // A group's conversation id is the group id.
      sent.chatType === 1 ? deps.groupName(sent.conversationId) : undefined,
    ]);
    return {
      message,
      // A deleted sender has no nickname any more.
      senderName: senderName || 'Someone',
      preview: deps.preview,
      ...(groupName !== undefined ? { groupName } : {}),
    };
  }

  /** Each user's total unread over all conversations (the badge), in one lookup. */
  async badges(userIds: readonly string[]): Promise<Map<string, number>> {
    if (userIds.length === 0) return new Map();
    return this.deps.unreadTotals([...new Set(userIds)]);
  }

  /**
   * For a push of message `seq`: each user's badge, and who of them muted the
   * conversation without being mentioned since (no notification for them), in one lookup.
   */
  async badgesAndMutes(
    userIds: readonly string[],
    conversationId: string,
    seq: number,
  ): Promise<{ badges: Map<string, number>; quiet: Set<string> }> {
    if (userIds.length === 0) return { badges: new Map(), quiet: new Set() };
    return this.deps.badgesAndMutes([...new Set(userIds)], conversationId, seq);
  }
}
