/**
 * The sockets of this process (the gateway's connection registry), as delivery
 * sees them: a frame written to every connection of some users.
 */
export interface LocalSockets {
  /** Returns how many sockets the frame was queued on. */
  deliver(userIds: Iterable<string>, frame: string, exceptConnectionId?: string): number;
  /** Users with at least one socket here. */
  users(): Iterable<string>;
}

/** Who may see a conversation's message: the IM module answers it (delivery only reads it). */
export interface ConversationAudience {
  /**
   * Participants of the conversation who joined before `seq`, in id order after
   * `after`, at most `limit` of them.
   */
  audience(
    conversationId: string,
    seq: number,
    after: string | undefined,
    limit: number,
  ): Promise<string[]>;
}
