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

/** Where a client is in one conversation: its last seq, or its last seq and modSeq. */
export type SyncPosition = number | { seq: number; modSeq: number };

export interface SyncPage {
  messages: Message[];
  /** Current state of messages up to the given seq changed after the given modSeq. */
  changes: Message[];
  /** More follow; ask again from the last seq returned and `maxModSeq`. */
  hasMore: boolean;
  maxSeq: number;
  /** The modSeq the client has caught up to with this answer. */
  maxModSeq: number;
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
      afterSeq: Math.max(member.joinSeq, member.clearSeq),
      viewer: userId,
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
   * Per conversation, oldest first and at most a page each: the messages after the
   * client's seq, and (when it gives a modSeq) the current state of its older
   * messages that changed after that modSeq. The counters are read first, so a
   * change committed meanwhile is answered again next time rather than missed. A
   * conversation the caller may not read answers an error entry instead of failing
   * the whole sync.
   */
  async sync(
    userId: string,
    positions: Record<string, SyncPosition>,
  ): Promise<Record<string, SyncPage>> {
    const { syncMaxConversations } = this.deps;
    const ids = Object.keys(positions);
    if (ids.length > syncMaxConversations) throw new AppError(ImErrors.tooManyConversations);
    const out: Record<string, SyncPage> = {};
    for (const conversationId of ids) {
      out[conversationId] = await this.syncOne(userId, conversationId, positions[conversationId]!);
    }
    return out;
  }

  private async syncOne(
    userId: string,
    conversationId: string,
    position: SyncPosition,
  ): Promise<SyncPage> {
    const { conversations, messages, syncPageSize } = this.deps;
    const member = await conversations.member(conversationId, userId);
    if (!member) {
      const { code, message } = ImErrors.notParticipant;
      return {
        messages: [],
        changes: [],
        hasMore: false,
        maxSeq: 0,
        maxModSeq: 0,
        error: { code, msg: message },
      };
    }
    const { seq, modSeq } =
      typeof position === 'number' ? { seq: position, modSeq: undefined } : position;
    const { maxSeq, maxModSeq } = await conversations.counters(conversationId);
    const floor = Math.max(member.joinSeq, member.clearSeq);
    let changes: Message[] = [];
    let changesCut = false;
    if (modSeq !== undefined && modSeq < maxModSeq && seq > floor) {
      changes = await messages.changes({
        conversationId,
        afterSeq: floor,
        upToSeq: seq,
        afterModSeq: modSeq,
        limit: syncPageSize + 1,
        viewer: userId,
      });
      changesCut = changes.length > syncPageSize;
      if (changesCut) changes = changes.slice(0, syncPageSize);
    }
    const page = await messages.range({
      conversationId,
      afterSeq: Math.max(seq, floor),
      limit: syncPageSize + 1,
      order: 'asc',
      viewer: userId,
    });
    const messagesCut = page.length > syncPageSize;
    return {
      messages: messagesCut ? page.slice(0, syncPageSize) : page,
      changes,
      hasMore: messagesCut || changesCut,
      maxSeq,
      // Cut short, the client resumes after the last change it got (modSeqs are unique).
      maxModSeq: changesCut ? changes[changes.length - 1]!.modSeq : maxModSeq,
    };
  }

  /** Online friends of a user, as the Go system's `{uid: true}` map. */
  async onlineFriends(userId: string): Promise<Record<string, true>> {
    const friends = await this.deps.access.friendIds(userId);
    const online = await this.deps.presence.onlineAmong(friends);
    return Object.fromEntries([...online].map((id) => [id, true as const]));
  }
}
