import type {
  BlockedUser,
  ConnectionState,
  Conversation,
  FileContent,
  FileLink,
  Friend,
  FriendRequest,
  Group,
  GroupMember,
  GroupRequest,
  ReplyTo,
  UserInfo,
} from '@easy-chat/sdk';

/** A message as the app shows it: stored (with seq) or still on its way. */
export interface ChatMessage {
  key: string;
  conversationId: string;
  chatType: number;
  sendId: string;
  recvId: string;
  content: string;
  sendTime: number;
  clientMsgId: string | null;
  seq?: number;
  msgId?: string;
  status: 'sending' | 'sent' | 'failed';
  error?: string;
  /** 0 text, 1 image, 2 file, 4 voice, 5 video … */
  mType: number;
  /** The file an image, file, voice or video message carries (as the server stored it). */
  file?: FileContent;
  /** A file still uploading: bytes of the request sent so far. */
  upload?: { loaded: number; total: number };
  /** A local preview (object URL) of an image I sent from this page. */
  localUrl?: string;
  /** Recalled: the content is gone. */
  revoked?: boolean;
  /** The conversation's modSeq of the last change held: an older change is ignored. */
  modSeq?: number;
  /** Epoch ms of the last edit. */
  editedAt?: number;
  /** The message this one answers, as quoted when it was sent. */
  replyTo?: ReplyTo;
  /** emoji → user ids. */
  reactions?: Record<string, string[]>;
  atUserIds?: string[];
  atAll?: boolean;
}

export interface HistoryState {
  loading: boolean;
  /** No older messages on the server. */
  exhausted: boolean;
  loaded: boolean;
}

/** The whole app state: one object, replaced on every change (components compare by identity). */
export interface State {
  // session
  connection: ConnectionState;
  /** Connected at least once since login: losing the connection then shows the banner. */
  wasOnline: boolean;
  /** The browser says there is no network (its `offline` event): shown at once. */
  browserOffline: boolean;
  me: UserInfo | null;
  notice: { text: string; kind: 'error' | 'info' } | null;
  // contacts and groups
  users: Record<string, { nickname: string; avatar: string }>;
  friends: Friend[];
  online: Record<string, boolean>;
  friendRequests: FriendRequest[];
  groups: Group[];
  groupRequests: Record<string, GroupRequest[]>;
  members: Record<string, GroupMember[]>;
  /** Users I blocked (the block list), most recent first. */
  blocked: BlockedUser[];
  /**
   * groupId → userId → muted until (epoch ms; 0 lifted), as last told by a notice,
   * a push or my own action (the member list does not carry it).
   */
  memberMutes: Record<string, Record<string, number>>;
  // conversations
  conversations: Record<string, Conversation>;
  /** conversationId → reader → readSeq (the peer in a single chat, members in a group). */
  reads: Record<string, Record<string, number>>;
  /**
   * conversationId → the highest seq of mine the peer's devices have had the chance to
   * receive: the peer was online (the server pushes to every live socket) after it was stored.
   */
  delivered: Record<string, number>;
  activeId: string | null;
  // messages
  /** conversationId → who is typing → until when (epoch ms; a notice holds TYPING_TTL_MS). */
  typing: Record<string, Record<string, number>>;
  messages: Record<string, ChatMessage[]>;
  history: Record<string, HistoryState>;
  // files
  /** fileId → signed links for this user (images, players, downloads). */
  links: Record<string, FileLink>;
}

export const initialState: State = {
  connection: 'idle',
  wasOnline: false,
  browserOffline: false,
  me: null,
  notice: null,
  users: {},
  friends: [],
  online: {},
  friendRequests: [],
  groups: [],
  groupRequests: {},
  members: {},
  blocked: [],
  memberMutes: {},
  conversations: {},
  reads: {},
  delivered: {},
  activeId: null,
  typing: {},
  messages: {},
  history: {},
  links: {},
};
