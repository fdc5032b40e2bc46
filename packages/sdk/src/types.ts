/**
 * The wire types of the easy-chat API (docs/api.md, docs/websocket.md). They are
 * written out here so the SDK has no dependency on the server; the server's test
 * suite (test/sdk/contract.test.ts) checks them against the server's TypeBox
 * schemas at type level and the route table against the served OpenAPI document.
 */

/** chatType: 1 group, 2 single. */
export const ChatType = { group: 1, single: 2 } as const;
export type ChatType = (typeof ChatType)[keyof typeof ChatType];

/**
 * mType: 0 text, 1 image, 2 file, 3 custom, 4 voice, 5 video (1, 2, 4, 5 carry a
 * file), 10 a group notice posted by the server (`groupNotice` parses it).
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

/** The `sendId` of messages the server itself posts (group notices, system notices). */
export const SYSTEM_SENDER = 'system';

/** handleResult of friend and group requests. */
export const HandleResult = { pending: 1, accepted: 2, refused: 3, cancelled: 4 } as const;

/** roleLevel of a group member. */
export const RoleLevel = { creator: 1, manager: 2, member: 3 } as const;

/** joinSource of a group request: 1 invited, 2 applied. */
export const JoinSource = { invited: 1, applied: 2 } as const;

// --- user ---------------------------------------------------------------------

export interface RegisterInput {
  phone: string;
  password: string;
  nickname: string;
  sex?: number;
  avatar?: string;
}

export interface LoginInput {
  phone: string;
  password: string;
}

export interface TokenData {
  token: string;
  /** Expiry, epoch seconds. */
  expire: number;
}

export interface UserInfo {
  id: string;
  /** The caller's own phone; masked for other users. */
  mobile: string;
  nickname: string;
  sex: number;
  avatar: string;
  /** In search results: my remark for this user, when we are friends. */
  remark?: string;
  /** Set when the account was deleted (its messages stay; show "Deleted user"). */
  deleted?: true;
}

export interface ChangePasswordInput {
  oldPassword: string;
  /** 8 to 128 characters. */
  newPassword: string;
}

/** `POST /v1/user/password/reset`. */
export interface ResetPasswordInput {
  phone: string;
  /** The six digits sent by SMS. */
  code: string;
  /** 8 to 128 characters. */
  newPassword: string;
}

export interface UpdateUserInput {
  nickname?: string;
  sex?: number;
  avatar?: string;
}

/** At least one filter; they combine with AND. */
export interface FindUsersQuery {
  /** Comma-separated user ids. */
  ids?: string;
  phone?: string;
  /** Case-insensitive substring of the nickname. */
  name?: string;
}

// --- social -------------------------------------------------------------------

export interface FriendRequestInput {
  userId: string;
  reqMsg?: string;
}

export interface FriendRequestAnswer {
  id: string;
  /** 1 pending; 2 when this call accepted their pending request to you. */
  handleResult: number;
}

export interface HandleFriendRequestInput {
  friendReqId: string;
  /** 2 accept, 3 refuse (addressee), 4 cancel (sender). */
  handleResult: 2 | 3 | 4;
}

export interface FriendRequest {
  id: string;
  /** The addressee (the caller). */
  userId: string;
  /** The sender. */
  reqUid: string;
  reqMsg: string;
  reqTime: number;
  handleResult: number;
}

export interface Friend {
  friendUid: string;
  nickname: string;
  avatar: string;
  remark: string;
  addSource: number;
}

export interface FriendRemarkInput {
  friendUid: string;
  /** My private name for the friend, at most 64 characters; '' clears it. */
  remark: string;
}

/** One entry of my block list. */
export interface BlockedUser {
  userId: string;
  nickname: string;
  avatar: string;
  /** When I blocked them, epoch milliseconds. */
  createdAt: number;
}

export interface OnlineList {
  onlineList: Record<string, boolean>;
}

export interface CreateGroupInput {
  name: string;
  icon?: string;
  isVerify?: boolean;
}

export interface GroupJoinInput {
  groupId: string;
  reqMsg?: string;
  /** 1 invite `reqId`, 2 apply for myself. */
  joinSource: 1 | 2;
  reqId?: string;
}

export interface GroupJoinAnswer {
  /** The pending request, when not joined at once. */
  id?: string;
  joined: boolean;
}

export interface HandleGroupRequestInput {
  groupReqId: string;
  groupId: string;
  /** 2 accept, 3 refuse (creator/managers), 4 cancel (applicant or inviter). */
  handleResult: 2 | 3 | 4;
}

export interface GroupRequest {
  id: string;
  groupId: string;
  reqId: string;
  reqMsg: string;
  reqTime: number;
  joinSource: number;
  inviterUid: string;
  handleUid: string;
  handleResult: number;
}

export interface Group {
  id: string;
  name: string;
  icon: string;
  status: number;
  creatorUid: string;
  groupType: number;
  isVerify: boolean;
  notification: string;
  memberCount: number;
  /** Group-wide mute: only the creator and managers post. */
  muted: boolean;
}

export interface GroupMember {
  userId: string;
  roleLevel: number;
  nickname: string;
  avatar: string;
  joinTime: number;
}

export interface MembersQuery {
  groupId: string;
  limit?: number;
  cursor?: string;
}

export interface MembersPage {
  list: GroupMember[];
  nextCursor: string | null;
}

/** `PUT /v1/social/group`: fields left out are not changed (creator or managers). */
export interface UpdateGroupInput {
  groupId: string;
  name?: string;
  icon?: string;
  /** The announcement; '' removes it. */
  notification?: string;
  isVerify?: boolean;
}

/** `PUT /v1/social/group/member/mute`. */
export interface MuteMemberInput {
  groupId: string;
  userId: string;
  /** How long from now, at most a year; 0 lifts the mute. */
  seconds: number;
}

/**
 * The `content` of a group notice (a message with `mType` 10), parsed: what
 * happened, who did it, and its details (`userId`, `roleLevel`, `mutedUntil`,
 * the changed group fields …, by type).
 */
export interface GroupNoticeContent {
  type:
    | 'member.joined'
    | 'member.left'
    | 'member.kicked'
    | 'member.role'
    | 'member.muted'
    | 'group.updated'
    | 'group.muted'
    | 'group.dismissed';
  operatorId: string;
  [field: string]: unknown;
}

export interface SetRoleInput {
  groupId: string;
  userId: string;
  /** 1 transfer ownership, 2 manager, 3 ordinary member. */
  roleLevel: 1 | 2 | 3;
}

// --- im -----------------------------------------------------------------------

/** A stored chat message. */
export interface Message {
  msgId: string;
  conversationId: string;
  chatType: number;
  sendId: string;
  recvId: string;
  /** Dense per conversation: 1, 2, 3 … */
  seq: number;
  /** Epoch milliseconds. */
  sendTime: number;
  mType: number;
  /** '' once recalled. */
  content: string;
  clientMsgId: string | null;
  /** The conversation's modSeq of the message's last change; 0 if it never changed. */
  modSeq: number;
  /** Epoch milliseconds of the last edit. */
  editedAt?: number;
  /** Recalled: by whom and when; the content is gone. */
  revoked?: { by: string; at: number };
  /** The message this one answers, as it was when quoted (`revoked` once it is recalled). */
  replyTo?: ReplyTo;
  atUserIds?: string[];
  atAll?: boolean;
  /** emoji → user ids, in the order they reacted. */
  reactions?: Record<string, string[]>;
}

export interface ReplyTo {
  msgId: string;
  sendId: string;
  mType: number;
  /** The start of the quoted text ('' for other types and once recalled). */
  excerpt: string;
  revoked?: boolean;
}

export interface ChatLogQuery {
  conversationId: string;
  startSeq?: number;
  endSeq?: number;
  count?: number;
  startSendTime?: number;
  endSendTime?: number;
}

export interface ReadRecords {
  reads: string[];
  unReads: string[];
}

export interface SetupConversationInput {
  recvId: string;
  chatType: 1 | 2;
}

export interface Conversation {
  conversationId: string;
  chatType: number;
  /** The peer (single chat) or the group id. */
  targetId: string;
  isShow: boolean;
  maxSeq: number;
  readSeq: number;
  unread: number;
  pinned: boolean;
  muted: boolean;
  /** A message mentioning me is not read yet. */
  mentioned: boolean;
  /** Cleared for me up to this seq. */
  clearSeq: number;
  /** The last message, or null. */
  msg: Message | null;
}

export interface UpdateConversationsInput {
  conversationList: Record<
    string,
    { readSeq?: number; isShow?: boolean; pinned?: boolean; muted?: boolean }
  >;
}

// --- WebSocket ----------------------------------------------------------------

/** frameType values. */
export const FrameType = { data: 0, ping: 1, ack: 2, noAck: 3, error: 9 } as const;

export interface Frame {
  frameType: number;
  id?: string;
  ackSeq?: number;
  method?: string;
  formId?: string;
  data?: unknown;
}

/** `conversation.chat` data. */
export interface ChatInput {
  conversationId?: string;
  chatType: 1 | 2;
  recvId: string;
  clientMsgId?: string;
  msg: { mType: number; content: string };
  /** The msgId this message answers (same conversation). */
  replyTo?: string;
  /** Group members to mention. */
  atUserIds?: string[];
  /** Mention everyone (group creator and managers). */
  atAll?: boolean;
}

/** `message.revoke` data. */
export interface RevokeInput {
  conversationId: string;
  msgId: string;
}

/** `message.edit` data. */
export interface EditInput {
  conversationId: string;
  msgId: string;
  content: string;
}

/** `message.react` data: add or remove my reaction. */
export interface ReactInput {
  conversationId: string;
  msgId: string;
  emoji: string;
  add: boolean;
}

/** `message.delete` data (for me only). */
export interface DeleteMessagesInput {
  conversationId: string;
  msgIds: string[];
}

/** `conversation.typing` data, and the relayed push (with the typer's userId). */
export interface TypingInput {
  conversationId: string;
  typing: boolean;
}

export interface TypingPush extends TypingInput {
  userId: string;
}

/** `conversation.markChat` data (the Go system's `{chatType, recvId, msgIds}` also works). */
export type MarkChatInput =
  | { conversationId: string; readSeq: number }
  | { chatType: 1 | 2; recvId: string; msgIds: string[] };

/**
 * `conversation.sync` data: conversationId → the last seq held, or `{seq, modSeq}`
 * to also get the messages up to `seq` changed after `modSeq`.
 */
export interface SyncInput {
  conversations: Record<string, number | { seq: number; modSeq: number }>;
}

export interface SyncPage {
  /** Messages after the requested seq, oldest first. */
  messages: Message[];
  /** Current state of older messages changed after the requested modSeq. */
  changes: Message[];
  /** More follow: ask again from the last seq received and `maxModSeq`. */
  hasMore: boolean;
  maxSeq: number;
  /** The modSeq this answer brings the client to. */
  maxModSeq: number;
  /** Set instead of messages when the caller may not read this conversation. */
  error?: { code: number; msg: string };
}

export interface SyncAnswer {
  conversations: Record<string, SyncPage>;
}

/** The methods a client may call over the socket, with their data and answers. */
export interface WsMethods {
  'conversation.chat': { data: ChatInput; answer: Message };
  'conversation.markChat': { data: MarkChatInput; answer: { readSeq: number } };
  'conversation.markRead': { data: MarkChatInput; answer: { readSeq: number } };
  'conversation.sync': { data: SyncInput; answer: SyncAnswer };
  'conversation.clear': { data: { conversationId: string }; answer: { clearSeq: number } };
  'conversation.typing': { data: TypingInput; answer: Record<string, never> };
  'message.revoke': { data: RevokeInput; answer: Message };
  'message.edit': { data: EditInput; answer: Message };
  'message.react': { data: ReactInput; answer: { reactions: Record<string, string[]> } };
  'message.delete': { data: DeleteMessagesInput; answer: Record<string, never> };
  'user.online': { data: Record<string, never>; answer: OnlineList };
}

/** contentType of a push: 0 chat message, 1 read receipt, 2 a changed message (its current state). */
export const ContentType = { chat: 0, readReceipt: 1, change: 2 } as const;

/** A read receipt push (contentType 1). */
export interface ReadReceipt {
  conversationId: string;
  chatType: number;
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
 * My own state of a conversation, pushed (method `conversation.updated`) to my other
 * devices when it changes: I read it elsewhere, sent into it (sending marks read), or
 * hid, pinned, muted or cleared it.
 */
export interface ConversationState {
  conversationId: string;
  pinned: boolean;
  muted: boolean;
  isShow: boolean;
  readSeq: number;
  clearSeq: number;
}

export type ChatPush = Message & { contentType: 0 };
export type ReceiptPush = ReadReceipt & { contentType: 1 };
export type ChangePush = Message & { contentType: 2 };

// --- files --------------------------------------------------------------------

/** What the server stored of an upload (`POST /v1/files`, docs/files.md). */
export interface UploadedFile {
  fileId: string;
  name: string;
  /** Bytes. */
  size: number;
  /** Sniffed from the bytes, not taken from the client. */
  mime: string;
  /** Images: pixels, EXIF orientation applied. */
  width?: number;
  height?: number;
  /** Voice and video: milliseconds. */
  duration?: number;
  /** Signed download path for the caller (valid files.linkTtlSec); `api.resolveUrl` makes it absolute. */
  url: string;
  /** Signed thumbnail path (images). */
  thumbUrl?: string;
}

/** Fresh signed links to a file (`GET /v1/files/{fileId}/link`). */
export interface FileLink extends UploadedFile {
  /** Epoch milliseconds the links stop working. */
  expiresAt: number;
}

export interface DirectUploadInput {
  name: string;
  /** The exact byte count that will be PUT. */
  size: number;
}

/** A presigned PUT straight to S3 (S3 storage only). */
export interface DirectUpload {
  uploadId: string;
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
  expiresAt: number;
}

/** The `content` of a message of mType 1, 2, 4 or 5 (JSON text), as the server stored it. */
export interface FileContent {
  fileId: string;
  name: string;
  size: number;
  mime: string;
  width?: number;
  height?: number;
  duration?: number;
}

// --- Server pushes -----------------------------------------------------------------

/** `friend.request`: someone asked you (the user asked) to be friends. */
export interface FriendRequestPush {
  requestId: string;
  reqUid: string;
  userId: string;
  reqMsg: string;
}

/** `friend.request.handled`: a friend request was accepted (2), refused (3) or cancelled (4). */
export interface FriendRequestHandledPush {
  requestId: string;
  reqUid: string;
  userId: string;
  handleResult: number;
  handlerUid: string;
}

/** `friend.added`: you and `friendUid` (or `userId`) are now friends. */
export interface FriendAddedPush {
  userId: string;
  friendUid: string;
  addSource: number;
  requestId: string;
}

/** `friend.deleted`: a friendship ended. */
export interface FriendDeletedPush {
  userId: string;
  friendUid: string;
}

/** `group.request`: someone asks to join a group you manage. */
export interface GroupRequestPush {
  requestId: string;
  groupId: string;
  reqId: string;
  joinSource: number;
  inviterUid?: string;
  reqMsg: string;
}

/** `group.request.handled`: your request to join was accepted (2), refused (3) or cancelled (4). */
export interface GroupRequestHandledPush {
  requestId: string;
  groupId: string;
  reqId: string;
  handleResult: number;
  handleUid: string;
}

/** `group.member.joined`: you joined a group (0 founded, 1 invited, 2 applied). */
export interface GroupMemberJoinedPush {
  groupId: string;
  userId: string;
  roleLevel: number;
  joinSource: number;
  inviterUid?: string;
  operatorUid?: string;
}

/** `group.member.left`: you left a group (on another device, say). */
export interface GroupMemberLeftPush {
  groupId: string;
  userId: string;
}

/** `group.member.removed`: you were removed from a group. */
export interface GroupMemberRemovedPush {
  groupId: string;
  userId: string;
  roleLevel: number;
  operatorUid: string;
}

/** `group.dismissed`: a group you were in was dismissed. */
export interface GroupDismissedPush {
  groupId: string;
  operatorUid: string;
  memberIds: string[];
}

/** `group.updated`: a group you are in changed its info (only the changed fields). */
export interface GroupUpdatedPush {
  groupId: string;
  operatorUid: string;
  changes: { name?: string; icon?: string; notification?: string; isVerify?: boolean };
}

/** `group.muted`: a group you are in was muted (only its creator and managers post) or unmuted. */
export interface GroupMutedPush {
  groupId: string;
  operatorUid: string;
  muted: boolean;
}

/** `group.member.muted`: you were muted in a group until `mutedUntil` (epoch ms; 0 unmuted). */
export interface GroupMemberMutedPush {
  groupId: string;
  userId: string;
  operatorUid: string;
  mutedUntil: number;
}

/**
 * The friend and group pushes, by method: the client emits each as an event of the
 * same name (`chat.on('friend.request', (data) => …)`).
 */
export interface SocialPushMap {
  'friend.request': FriendRequestPush;
  'friend.request.handled': FriendRequestHandledPush;
  'friend.added': FriendAddedPush;
  'friend.deleted': FriendDeletedPush;
  'group.request': GroupRequestPush;
  'group.request.handled': GroupRequestHandledPush;
  'group.member.joined': GroupMemberJoinedPush;
  'group.member.left': GroupMemberLeftPush;
  'group.member.removed': GroupMemberRemovedPush;
  'group.dismissed': GroupDismissedPush;
  'group.updated': GroupUpdatedPush;
  'group.muted': GroupMutedPush;
  'group.member.muted': GroupMemberMutedPush;
}

export type SocialPushMethod = keyof SocialPushMap;

/** Every friend and group push method (the contract test holds this to the server's push map). */
export const SOCIAL_PUSH_METHODS: readonly SocialPushMethod[] = [
  'friend.request',
  'friend.request.handled',
  'friend.added',
  'friend.deleted',
  'group.request',
  'group.request.handled',
  'group.member.joined',
  'group.member.left',
  'group.member.removed',
  'group.dismissed',
  'group.updated',
  'group.muted',
  'group.member.muted',
];

/**
 * Every push the server sends, by method, with its `data`. The client turns each
 * into a typed event: `push` into `message`, `readReceipt` and `messageChanged`;
 * `conversation.updated` into `conversationUpdated`; `conversation.typing` into
 * `typing`; `user.presence` into `presence`; `session.resync` into a catch-up; the
 * social ones into events of their own name.
 */
export interface ServerPushMap extends SocialPushMap {
  push:
    | (Message & { contentType: 0 })
    | (ReadReceipt & { contentType: 1 })
    | (Message & { contentType: 2 });
  'conversation.updated': ConversationState;
  'conversation.typing': TypingPush;
  'user.presence': { userId: string; online: boolean };
  'session.resync': Record<string, never>;
}

/** Every push method this SDK knows; a newer server's other pushes come as `serverEvent`. */
export const PUSH_METHODS: readonly (keyof ServerPushMap)[] = [
  'push',
  'conversation.updated',
  'conversation.typing',
  'user.presence',
  'session.resync',
  ...SOCIAL_PUSH_METHODS,
];

// --- push devices -------------------------------------------------------------

/** A browser's Web Push subscription, as `PushSubscription.toJSON()` gives it. */
export interface WebPushSubscriptionInput {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}

/**
 * `POST /v1/push/devices`: `token` for fcm and apns, `subscription` for webpush.
 * The registration ends when the token used for the call logs out.
 */
export interface RegisterPushDeviceInput {
  deviceId: string;
  platform: 'fcm' | 'apns' | 'webpush';
  token?: string;
  subscription?: WebPushSubscriptionInput;
  locale?: string;
}

/** One of my registered devices (the push token is never shown back). */
export interface PushDevice {
  deviceId: string;
  platform: 'fcm' | 'apns' | 'webpush';
  locale: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}
