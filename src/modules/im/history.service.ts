import type { Presence } from '../../adapters/presence/presence.js';
import { AppError } from '../../errors/app-error.js';
import type { ChatAccess } from './chat-access.js';
import type { ConversationRepository } from './conversation.repository.js';
import type { ConversationService } from './conversation.service.js';
import type { Message } from './im.entity.js';
import { ImErrors } from './im.errors.js';
import type { MessageRepository } from './message.repository.js';

export interface ChatLogQuery {
  conversationId: string;
  startSeq?: number;
  endSeq?: number;
  startSendTime?: number;
  endSendTime?: number;
  count?: number;
}

export interface SyncPage {
  messages: Message[];
  /** More messages follow; ask again from the last seq returned. */
  hasMore: boolean;
  maxSeq: number;
  /** Set instead of messages when the caller may not read this conversation. */
  error?: { code: number; msg: string };
}

export interface HistoryServiceDeps {
  conversations: ConversationRepository;
  conversationService: ConversationService;
  messages: MessageRepository;
  access: ChatAccess;
  presence: Presence;
  historyPageSize: number;
  historyMaxPageSize: number;
  syncPageSize: number;
  syncMaxConversations: number;
}

/** Reading what was said: history pages, read records, offline sync, who is online. */
export class HistoryService {
  constructor(private readonly deps: HistoryServiceDeps) {}

  /** Messages of a conversation, newest first, within the given seq or time range. */
  async chatLog(userId: string, query: ChatLogQuery): Promise<Message[]> {
    const { conversationService, messages, historyPageSize, historyMaxPageSize } = this.deps;
    const member = await conversationService.participant(query.conversationId, userId);
    return messages.range({
      conversationId: query.conversationId,
      afterSeq: member.joinSeq,
      startSeq: query.startSeq,
      endSeq: query.endSeq,
      startSendTime: query.startSendTime,
      endSendTime: query.endSendTime,
      limit: Math.min(query.count ?? historyPageSize, historyMaxPageSize),
      order: 'desc',
    });
  }

  /**
   * Who has read a message, from each participant's readSeq (no per-message
   * records). The sender and members who joined after it are left out.
   */
  async readRecords(
    userId: string,
    msgId: string,
  ): Promise<{ reads: string[]; unReads: string[] }> {
    const { messages, conversations } = this.deps;
    const message = await messages.findById(msgId);
    const member = message && (await conversations.member(message.conversationId, userId));
    // Not found and not allowed look the same: no one learns which message ids exist.
    if (!message || !member || message.seq <= member.joinSeq)
      throw new AppError(ImErrors.messageNotFound);
    const reads: string[] = [];
    const unReads: string[] = [];
    for (const m of await conversations.members(message.conversationId)) {
      if (m.userId === message.sendId || m.joinSeq >= message.seq) continue;
      (m.readSeq >= message.seq ? reads : unReads).push(m.userId);
    }
    return { reads, unReads };
  }

  /**
   * Everything after the client's last seq, per conversation, oldest first and at
   * most a page each. A conversation the caller may not read answers an error
   * entry instead of failing the whole sync.
   */
  async sync(userId: string, lastSeqs: Record<string, number>): Promise<Record<string, SyncPage>> {
    const { conversations, messages, syncPageSize, syncMaxConversations } = this.deps;
    const ids = Object.keys(lastSeqs);
    if (ids.length > syncMaxConversations) throw new AppError(ImErrors.tooManyConversations);
    const out: Record<string, SyncPage> = {};
    for (const conversationId of ids) {
      const member = await conversations.member(conversationId, userId);
      if (!member) {
        const { code, message } = ImErrors.notParticipant;
        out[conversationId] = {
          messages: [],
          hasMore: false,
          maxSeq: 0,
          error: { code, msg: message },
        };
        continue;
      }
      const page = await messages.range({
        conversationId,
        afterSeq: Math.max(lastSeqs[conversationId] ?? 0, member.joinSeq),
        limit: syncPageSize + 1,
        order: 'asc',
      });
      const hasMore = page.length > syncPageSize;
      const list = hasMore ? page.slice(0, syncPageSize) : page;
      out[conversationId] = {
        messages: list,
        hasMore,
        maxSeq: await conversations.maxSeq(conversationId),
      };
    }
    return out;
  }

  /** Online friends of a user, as the Go system's `{uid: true}` map. */
  async onlineFriends(userId: string): Promise<Record<string, true>> {
    const friends = await this.deps.access.friendIds(userId);
    const online = await this.deps.presence.onlineAmong(friends);
    return Object.fromEntries([...online].map((id) => [id, true as const]));
  }
}
