/** chatType on the wire (docs/websocket.md, `conversation.chat`): 1 group, 2 single. */
export const ChatType = { group: 1, single: 2 } as const;
export type ChatType = (typeof ChatType)[keyof typeof ChatType];

/**
 * mType: 0 text, 1 image, 2 file, 3 custom, 4 voice, 5 video (1, 2, 4, 5 carry a
 * file), 10 a group notice (written by the server only; never unread).
 */
export const MessageType = {
  text: 0,
  image: 1,
  file: 2,
  custom: 3,
  voice: 4,
  video: 5,
  notice: 10,
} as const;

/** contentType of a push: 0 a chat message, 1 a read receipt, 2 a changed message. */
export const ContentType = { chat: 0, readReceipt: 1, change: 2 } as const;

/**
 * The sender id of system messages (notices ingested from other systems). Real
 * user ids are ULIDs, so this can never be a user; nobody can reply to it.
 */
export const SYSTEM_SENDER = 'system';

/** A stored chat message, as clients see it. */
export interface Message {
  msgId: string;
  conversationId: string;
  chatType: ChatType;
  sendId: string;
  recvId: string;
  seq: number;
  /** Epoch milliseconds. */
  sendTime: number;
  mType: number;
  /** Empty once the message is recalled. */
  content: string;
  clientMsgId: string | null;
  /** The conversation's modSeq when the message last changed; 0 if it never did. */
  modSeq: number;
  /** Epoch milliseconds of the last edit. */
  editedAt?: number;
  /** Set when recalled: who recalled it and when (epoch ms); the content is gone. */
  revoked?: { by: string; at: number };
  /** The message this one answers, as it was when quoted (follows a recall of it). */
  replyTo?: ReplySnapshot;
  atUserIds?: string[];
  atAll?: true;
  /** emoji → ids of the users who reacted with it, in the order they did. */
  reactions?: Record<string, string[]>;
}

/** What a reply keeps of the message it quotes. */
export interface ReplySnapshot {
  msgId: string;
  sendId: string;
  mType: number;
  /** The start of the quoted text ('' for non-text messages and once recalled). */
  excerpt: string;
  /** The quoted message was recalled since. */
  revoked?: true;
}

/** The data of a read-receipt push (contentType 1). */
export interface ReadReceipt {
  conversationId: string;
  chatType: ChatType;
  /** The reader (for merged group receipts: the last reader of the batch). */
  sendId: string;
  /** The peer (single chat) or the group id. */
  recvId: string;
  readSeq: number;
  /** Group receipts merged over a window: reader → readSeq. */
  reads?: Record<string, number>;
  sendTime: number;
}

/**
 * A user's own state of one conversation, pushed to the user's other devices as
 * `conversation.updated` when it changes.
 */
export interface ConversationState {
  conversationId: string;
  pinned: boolean;
  muted: boolean;
  isShow: boolean;
  readSeq: number;
  clearSeq: number;
}

/** One entry of GET /v1/im/conversation. */
export interface ConversationView {
  conversationId: string;
  chatType: ChatType;
  /** The peer's user id (single) or the group id. */
  targetId: string;
  isShow: boolean;
  maxSeq: number;
  readSeq: number;
  unread: number;
  pinned: boolean;
  muted: boolean;
  /** A message mentioning the user is not read yet. */
  mentioned: boolean;
  /** Cleared up to this seq for the user (history starts after it). */
  clearSeq: number;
  msg: Message | null;
}

/**
 * A single chat's id: the two user ids sorted and joined with "_", so both
 * parties compute the same id without a lookup.
 */
export function singleConversationId(a: string, b: string): string {
  return a < b ? `${a}_${b}` : `${b}_${a}`;
}

/** The other party of a single chat, or undefined if `userId` is not one of them. */
export function peerOf(conversationId: string, userId: string): string | undefined {
  const parts = conversationId.split('_');
  if (parts.length !== 2) return undefined;
  if (parts[0] === userId) return parts[1];
  if (parts[1] === userId) return parts[0];
  return undefined;
}
