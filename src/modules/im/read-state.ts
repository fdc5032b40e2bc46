import type { Clock } from '../../shared/clock.js';
import type { MemberRow } from './conversation.repository.js';
import { ChatType, type ConversationState } from './im.entity.js';
import type { MessageFanout } from './message-fanout.js';
import type { ReceiptMerger } from './receipt-merger.js';

/** A user's read position in one conversation, after it moved. */
export interface ReadMove {
  conversationId: string;
  chatType: ChatType;
  userId: string;
  /** The peer (single chat) or the group id. */
  targetId: string;
  readSeq: number;
  isShow: boolean;
}

/**
 * Tells who needs to know that a user's read position moved, whether by reading
 * (markRead) or by sending (a sender has read up to its own message): the user's
 * other devices get `conversation.updated`, the others in the conversation a read
 * receipt (at once in a single chat, merged per window in a group).
 */
export class ReadState {
  constructor(
    private readonly deps: { fanout: MessageFanout; receipts: ReceiptMerger; clock: Clock },
  ) {}

  /** `conversation.updated` to the user's devices other than `exceptConnectionId`. */
  changed(userId: string, state: ConversationState, except?: string) {
    void this.deps.fanout.conversationUpdated(userId, state, except);
  }

  /** A read receipt for the others in the conversation. */
  receipt(move: ReadMove, except?: string): void {
    if (move.chatType === ChatType.group) {
      this.deps.receipts.add(move.conversationId, move.userId, move.readSeq);
      return;
    }
    void this.deps.fanout.receipt(
      {
        conversationId: move.conversationId,
        chatType: ChatType.single,
        sendId: move.userId,
        recvId: move.targetId,
        readSeq: move.readSeq,
        sendTime: this.deps.clock(),
      },
      except,
    );
  }
}

/** A member row as the `conversation.updated` push shows it, with what just changed. */
export function conversationState(
  member: Pick<
    MemberRow,
    'conversationId' | 'pinned' | 'muted' | 'isShow' | 'readSeq' | 'clearSeq'
  >,
  changes: Partial<ConversationState> = {},
): ConversationState {
  return {
    conversationId: member.conversationId,
    pinned: member.pinned === 1,
    muted: member.muted === 1,
    isShow: member.isShow === 1,
    readSeq: member.readSeq,
    clearSeq: member.clearSeq,
    ...changes,
  };
}
