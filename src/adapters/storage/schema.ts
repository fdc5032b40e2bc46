import type { Generated } from 'kysely';

/**
 * Row types of every table, as Kysely sees them through CamelCasePlugin (SQL
 * columns are snake_case, TypeScript fields camelCase). Mirrors the migrations
 * listed in src/catalogue/migrations.ts (each beside its module); keep both in
 * step. Times are epoch milliseconds in BIGINT columns, booleans are 0/1
 * integers, JSON is text: the same on SQLite, PostgreSQL and MySQL.
 */
export interface UsersTable {
  id: string;
  phone: string;
  nickname: string;
  passwordHash: string;
  sex: number;
  avatar: string;
  status: number;
  createdAt: number;
  updatedAt: number;
}

export interface OutboxEventsTable {
  /** Event id (also the consumers' de-duplication key); unique by making, not by index. */
  id: string;
  /** Insert order; the relay publishes in this order. */
  position: Generated<number>;
  type: string;
  aggregate: string;
  /** Ordering key: events with the same key are delivered in order. */
  partitionKey: string;
  /** JSON of the whole EventMessage envelope. */
  envelope: string;
  createdAt: number;
  /** Always null: the relay deletes published rows (migration 0016); kept for the inserts. */
  publishedAt: number | null;
  /** Failed relay tries while this row was in the head batch. */
  attempts: number;
}

/** One direction of a friendship; a friendship is two rows. */
export interface FriendsTable {
  userId: string;
  friendUid: string;
  remark: string;
  addSource: number;
  createdAt: number;
}

export interface FriendRequestsTable {
  id: string;
  /** The addressee. */
  userId: string;
  /** The sender. */
  reqUid: string;
  /** Both ids sorted and joined with "_" (one pending request per pair). */
  pairKey: string;
  reqMsg: string;
  reqTime: number;
  /** 1 pending, 2 accepted, 3 refused, 4 cancelled. */
  handleResult: number;
  handledAt: number | null;
}

export interface GroupsTable {
  id: string;
  name: string;
  icon: string;
  /** 1 active, 2 dismissed. */
  status: number;
  creatorUid: string;
  groupType: number;
  /** 0/1: joining needs a creator's or manager's approval. */
  isVerify: number;
  notification: string;
  notificationUid: string | null;
  memberCount: number;
  /** 0/1: only the creator and managers may post (migration 0011). */
  muted: Generated<number>;
  createdAt: number;
  updatedAt: number;
}

export interface GroupMembersTable {
  groupId: string;
  userId: string;
  /** 1 creator, 2 manager, 3 member. */
  roleLevel: number;
  joinTime: number;
  /** 0 founded the group, 1 invited, 2 applied. */
  joinSource: number;
  inviterUid: string | null;
  operatorUid: string | null;
  /** Epoch ms until which the member may not post; 0 or past: not muted (migration 0011). */
  mutedUntil: Generated<number>;
}

export interface GroupRequestsTable {
  id: string;
  groupId: string;
  /** The user who would join. */
  reqId: string;
  reqMsg: string;
  reqTime: number;
  joinSource: number;
  inviterUid: string | null;
  handleUid: string | null;
  handleResult: number;
  handledAt: number | null;
}

export interface ConversationsTable {
  id: string;
  chatType: number;
  maxSeq: number;
  /** The modification counter: the last modSeq a change to one of its messages took. */
  maxModSeq: Generated<number>;
  /** Bumped by every member row added or removed (the in-memory audiences' check). */
  membersVersion: Generated<number>;
  lastMsgId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ConversationMembersTable {
  conversationId: string;
  userId: string;
  chatType: number;
  /** The peer (single chat) or the group id. */
  targetId: string;
  readSeq: number;
  /** Messages with seq <= joinSeq predate the member and stay hidden from them. */
  joinSeq: number;
  isShow: number;
  pinned: Generated<number>;
  muted: Generated<number>;
  /** Cleared for this user: history and sync start after this seq. */
  clearSeq: Generated<number>;
  /** The last message mentioning this user (mentioned while above readSeq). */
  mentionSeq: Generated<number>;
  createdAt: number;
  updatedAt: number;
}

export interface MessagesTable {
  id: string;
  conversationId: string;
  seq: number;
  chatType: number;
  sendId: string;
  recvId: string;
  sendTime: number;
  mType: number;
  content: string;
  clientMsgId: string | null;
  /** 0 until the message first changes (migration 0007). */
  modSeq: Generated<number>;
  editedAt: number | null;
  revokedBy: string | null;
  revokedAt: number | null;
  replyMsgId: string | null;
  /** JSON of the reply snapshot {msgId, sendId, mType, excerpt, revoked?}. */
  replyTo: string | null;
  /** JSON array of mentioned user ids. */
  atUserIds: string | null;
  atAll: Generated<number>;
  /** JSON object emoji → user ids. */
  reactions: string | null;
}

/** "Delete for me": the message stays for everyone else. */
export interface MessageDeletionsTable {
  userId: string;
  conversationId: string;
  msgId: string;
  deletedAt: number;
}

/** The text a message had before each edit (audit only, erased on recall). */
export interface MessageVersionsTable {
  id: string;
  msgId: string;
  content: string;
  editedBy: string;
  replacedAt: number;
}

// --- event layer (migration 0004) ---

/** Events a consumer has applied; the key makes redelivery a no-op. */
export interface ProcessedEventsTable {
  consumer: string;
  eventId: string;
  processedAt: number;
}

/** One audited user action or server error. */
export interface AuditLogTable {
  id: string;
  eventId: string;
  /** 'user_action' | 'api_error' */
  kind: string;
  action: string;
  userId: string | null;
  targetId: string | null;
  /** JSON object with the rest of the event. */
  detail: string;
  requestId: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  code: number | null;
  source: string;
  occurredAt: number;
  recordedAt: number;
}

/** Ids of events accepted by POST /v1/events, per source (replay protection). */
export interface IngestedEventsTable {
  source: string;
  eventId: string;
  eventType: string;
  receivedAt: number;
}

/** A named lease: who may run a singleton job (the outbox relay) until when. */
export interface RelayLeasesTable {
  name: string;
  owner: string;
  expiresAt: number;
}

// --- token revocations (migration 0006) ---

/**
 * Revoked access tokens, kept in SQL so a logout survives a cache restart. `key` is
 * `t:<token id>` (one logged-out token, value 0) or `u:<user id>` (every token of the
 * user issued at or before `value`, epoch seconds). Rows go when `expiresAt` passes.
 */
export interface TokenRevocationsTable {
  key: string;
  value: number;
  expiresAt: number;
}

// --- password reset (migration 0013) ---

/** One live reset code per user: an HMAC of the code, its expiry and wrong guesses so far. */
export interface PasswordResetCodesTable {
  userId: string;
  codeHash: string;
  attempts: number;
  expiresAt: number;
  createdAt: number;
}

// --- files (migration 0008) ---

/** An uploaded file; its bytes live in the blob store. */
export interface FilesTable {
  id: string;
  ownerId: string;
  /** Display name, cleaned of any path (never used to build a storage path). */
  name: string;
  size: number;
  /** Sniffed from the bytes, not taken from the client. */
  mime: string;
  width: number | null;
  height: number | null;
  blobKey: string;
  thumbKey: string | null;
  /** 0 direct upload announced (bytes unconfirmed), 1 ready. */
  status: number;
  createdAt: number;
}

/** A message that carries a file (its participants may read the file). */
export interface FileRefsTable {
  fileId: string;
  msgId: string;
  conversationId: string;
  createdAt: number;
}

// --- block list (migration 0009) ---

/** `userId` blocked `blockedUid`: that user cannot message, befriend or invite them. */
export interface BlacklistTable {
  userId: string;
  blockedUid: string;
  createdAt: number;
}

// --- push devices (migration 0010) ---

/** A device of `userId` that receives offline pushes (src/modules/push). */
export interface PushDevicesTable {
  userId: string;
  deviceId: string;
  platform: string;
  token: string;
  p256dh: string | null;
  auth: string | null;
  locale: string | null;
  tokenJti: string;
  tokenIat: number;
  tokenExp: number;
  createdAt: number;
  updatedAt: number;
}

export interface PushSentTable {
  msgId: string;
  userId: string;
  deviceId: string;
  conversationId: string;
  seq: number;
  sentAt: number;
  recalledAt: number | null;
}

export interface Database {
  users: UsersTable;
  outboxEvents: OutboxEventsTable;
  friends: FriendsTable;
  friendRequests: FriendRequestsTable;
  groups: GroupsTable;
  groupMembers: GroupMembersTable;
  groupRequests: GroupRequestsTable;
  conversations: ConversationsTable;
  conversationMembers: ConversationMembersTable;
  messages: MessagesTable;
  messageDeletions: MessageDeletionsTable;
  messageVersions: MessageVersionsTable;
  processedEvents: ProcessedEventsTable;
  auditLog: AuditLogTable;
  ingestedEvents: IngestedEventsTable;
  relayLeases: RelayLeasesTable;
  tokenRevocations: TokenRevocationsTable;
  passwordResetCodes: PasswordResetCodesTable;
  files: FilesTable;
  fileRefs: FileRefsTable;
  blacklist: BlacklistTable;
  pushDevices: PushDevicesTable;
  pushSent: PushSentTable;
}
