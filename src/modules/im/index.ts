import type { Kysely } from 'kysely';
import type { Presence } from '../../adapters/presence/presence.js';
import {
  eachInOwnTransaction,
  type TransactionRunner,
} from '../../adapters/storage/group-commit.js';
import type { Database } from '../../adapters/storage/schema.js';
import type { Config } from '../../config/config.schema.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { ChatAccess } from './chat-access.js';
import type { MessageAttachments } from './message-attachments.js';
import { ChatService } from './chat.service.js';
import { pairSendStore } from './pair-send.js';
import { CachedAudience } from './cached-audience.js';
import { ConversationRepository } from './conversation.repository.js';
import { ConversationService } from './conversation.service.js';
import { HistoryService } from './history.service.js';
import { MessageChangeService, type RevokeHook } from './message-change.service.js';
import { MessageFanout } from './message-fanout.js';
import { MessageRepository } from './message.repository.js';
export { MessageRepository } from './message.repository.js';
import type { PushDelivery } from '../../realtime/push-delivery.js';
import type { ConversationAudience } from '../../realtime/local-sockets.js';
import { ReadState } from './read-state.js';
import { ReceiptMerger } from './receipt-merger.js';
import { GroupNotices } from './group-notices.js';
import { SystemNotices } from './system-notices.js';
import { TypingRelay } from './typing-relay.js';

export { imRoutes } from './im.routes.js';
export { NOTICE_PUSH_QUEUE, startNoticePushes } from './group-notices.js';
export { imAdminRoutes } from './im-admin.routes.js';
export { imWsMethods } from './im.ws.js';
export { ImPushes } from './im.pushes.js';
export type { ChatAccess } from './chat-access.js';
export type { MessageAttachments, ResolvedAttachment } from './message-attachments.js';
export { ImErrors } from './im.errors.js';
export { ChatType, SYSTEM_SENDER, type Message } from './im.entity.js';

/** Who may see a conversation's messages, for push delivery (built before the module). */
export function conversationAudience(db: Kysely<Database>): ConversationAudience {
  const cached = new CachedAudience(new ConversationRepository(db));
  return {
    audience: (conversationId, seq, after, limit) =>
      cached.audience(conversationId, seq, after, limit),
  };
}

export interface ImModule {
  chat: ChatService;
  conversations: ConversationService;
  history: HistoryService;
  /** Recall, edit, reactions, delete for me. */
  changes: MessageChangeService;
  typing: TypingRelay;
  fanout: MessageFanout;
  receipts: ReceiptMerger;
  /** Posts notices from other systems as messages (the event layer's sink). */
  systemNotices: SystemNotices;
  /** Group notices (mType 10), posted inside the social module's transactions. */
  notices: GroupNotices;
  /** Reads stored messages (the notice pushes read what they push). */
  messages: MessageRepository;
  /** Sends what is still queued (shutdown). */
  flush(): Promise<void>;
}

/** Builds the IM services on their repositories; the composition root wires the edges. */
export function createImModule(deps: {
  db: Kysely<Database>;
  config: Config['im'];
  access: ChatAccess;
  presence: Presence;
  delivery: PushDelivery;
  events: EventRecorder;
  clock: Clock;
  logger: Logger;
  /** How a message is stored in its transaction (default: a transaction each). */
  transact?: TransactionRunner;
  /** The files module's side of image, file, voice and video messages. */
  attachments?: MessageAttachments;
  /** Runs inside a recall's transaction (releases what the message referenced). */
  onRevoke?: RevokeHook;
}): ImModule {
  const { db, config, access, events, clock } = deps;
  const conversationRepo = new ConversationRepository(db);
  const messages = new MessageRepository(db);
  const fanout = new MessageFanout({
    delivery: deps.delivery,
    onError: (err, conversationId) => deps.logger.error({ err, conversationId }, 'push failed'),
  });
  const receipts = new ReceiptMerger({
    fanout,
    windowMs: config.groupReceipts.windowMs,
    maxBatch: config.groupReceipts.maxBatch,
    clock,
  });
  const readState = new ReadState({ fanout, receipts, clock });
  const conversations = new ConversationService({
    db,
    conversations: conversationRepo,
    messages,
    access,
    events,
    readState,
    clock,
    requireFriendship: config.requireFriendship,
    maxEntriesPerUpdate: config.syncMaxConversations,
  });
  const chat = new ChatService({
    transact: deps.transact ?? eachInOwnTransaction(db),
    conversations: conversationRepo,
    messages,
    pairSends: pairSendStore(db, { conversations: conversationRepo, messages, events }),
    access,
    events,
    fanout,
    readState,
    clock,
    logger: deps.logger,
    requireFriendship: config.requireFriendship,
    attachments: deps.attachments,
  });
  const history = new HistoryService({
    conversations: conversationRepo,
    conversationService: conversations,
    messages,
    access,
    presence: deps.presence,
    historyPageSize: config.historyPageSize,
    historyMaxPageSize: config.historyMaxPageSize,
    syncPageSize: config.syncPageSize,
    syncMaxConversations: config.syncMaxConversations,
  });
  const changes = new MessageChangeService({
    db,
    conversations: conversationRepo,
    messages,
    access,
    fanout,
    events,
    clock,
    limits: {
      revokeWindowMs: config.revokeWindowSeconds * 1000,
      editWindowMs: config.editWindowSeconds * 1000,
      maxEmojis: config.reactions.maxEmojis,
      maxReactionsPerUser: config.reactions.maxPerUser,
    },
    onRevoke: deps.onRevoke,
  });
  const typing = new TypingRelay({
    conversations: conversationRepo,
    delivery: deps.delivery,
    clock,
    minIntervalMs: config.typing.minIntervalMs,
  });
  return {
    chat,
    conversations,
    history,
    changes,
    typing,
    fanout,
    receipts,
    systemNotices: new SystemNotices({ chat, access }),
    notices: new GroupNotices({ conversations: conversationRepo, messages, events, clock }),
    messages,
    async flush() {
      receipts.flushAll();
      await fanout.drain();
    },
  };
}
