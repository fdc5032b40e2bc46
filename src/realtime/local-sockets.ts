import type { OutboundFrame } from './outbound-frame.js';

/**
 * The sockets of this process (the gateway's connection registry), as delivery
 * sees them: a frame written to every connection of some users.
 */
export interface LocalSockets {
  /**
   * Returns how many sockets the frame was queued on. A function as `frame` is called
   * (once) only when some socket gets it: a push nobody here receives is never encoded.
   * An OutboundFrame is written as it is: one frame handed to every batch of a group's
   * audience is encoded once for all of them.
   */
  deliver(
    userIds: Iterable<string>,
    frame: string | OutboundFrame | (() => string),
    exceptConnectionId?: string,
  ): number;
  /** Whether any of these users has a socket here other than `exceptConnectionId`. */
  reaches(userIds: Iterable<string>, exceptConnectionId?: string): boolean;
  /** Users with at least one socket here. */
  users(): Iterable<string>;
  /** Runs `work`; what it delivers to one socket leaves in one write when it returns. */
  together?<T>(work: () => T): T;
}

/** The text of what `LocalSockets.deliver` was handed, whichever form it came in. */
export function frameText(frame: string | OutboundFrame | (() => string)): string {
  return typeof frame === 'string' ? frame : typeof frame === 'function' ? frame() : frame.text;
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
