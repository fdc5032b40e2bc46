import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';
import { AppError } from '../../errors/app-error.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { Clock } from '../../shared/clock.js';
import type { ChatAccess } from './chat-access.js';
import type { ConversationRepository, MemberRow, UnreadPart } from './conversation.repository.js';
import { ChatType, singleConversationId, type ConversationView } from './im.entity.js';
import { ImErrors } from './im.errors.js';
import type { MessageRepository } from './message.repository.js';
import { conversationState, type ReadState } from './read-state.js';

export interface ConversationServiceDeps {
  db: Kysely<Database>;
  conversations: ConversationRepository;
  messages: MessageRepository;
  access: ChatAccess;
  events: EventRecorder;
  readState: ReadState;
  clock: Clock;
  requireFriendship: boolean;
  maxEntriesPerUpdate: number;
}

/**
 * A user's conversations: the list with unread counts, opening one, and moving the
 * read position (which sends read receipts). Also keeps group conversations in
 * step with group membership.
 */
export class ConversationService {
  constructor(private readonly deps: ConversationServiceDeps) {}

  async list(userId: string): Promise<Record<string, ConversationView>> {
    const { conversations, messages } = this.deps;
    const rows = await conversations.listForUser(userId);
    const lastIds = rows.map((r) => r.lastMsgId).filter((id): id is string => id !== null);
    const last = new Map((await messages.findByIds(lastIds)).map((m) => [m.msgId, m]));
    const out: Record<string, ConversationView> = {};
    for (const row of rows) {
      const msg = row.lastMsgId ? last.get(row.lastMsgId) : undefined;
      out[row.conversationId] = {
        conversationId: row.conversationId,
        chatType: row.chatType as ChatType,
        targetId: row.targetId,
        isShow: row.isShow === 1,
        maxSeq: row.maxSeq,
        readSeq: row.readSeq,
        unread: unreadOf(row),
        pinned: row.pinned === 1,
        muted: row.muted === 1,
        mentioned: row.mentionSeq > row.readSeq,
        clearSeq: row.clearSeq,
        // A member does not see messages from before they joined or cleared, the last one included.
        msg: msg && msg.seq > Math.max(row.joinSeq, row.clearSeq) ? msg : null,
      };
    }
    return out;
  }

  /**
   * Each user's unread total over all their conversations (a push's badge): the sum of
   * the unread counts list() shows, for many users in one query. Users without a
   * conversation have 0.
   */
  async unreadTotals(userIds: readonly string[]): Promise<Map<string, number>> {
    return badgesOf(userIds, await this.deps.conversations.unreadPartsOf(userIds));
  }

  /**
   * What a push of message `seq` of `conversationId` needs of its recipients, in one
   * query: each one's badge (unreadTotals), and those who muted the conversation and
   * are not mentioned by this message or a later one (they get no notification). The
   * mute was a query of its own per push (docs/performance-log.md, "The reads of a push").
   */
  async badgesAndMutes(
    userIds: readonly string[],
    conversationId: string,
    seq: number,
  ): Promise<{ badges: Map<string, number>; quiet: Set<string> }> {
    const rows = await this.deps.conversations.unreadPartsOf(userIds);
    const quiet = new Set<string>();
    for (const row of rows) {
      if (row.conversationId === conversationId && row.muted && row.mentionSeq < seq) {
        quiet.add(row.userId);
      }
    }
    return { badges: badgesOf(userIds, rows), quiet };
  }

  /** Opens (creates if needed) a conversation with a user or a group; returns its id. */
  async setup(userId: string, input: { recvId: string; chatType: ChatType }): Promise<string> {
    const { access, db, conversations, clock, requireFriendship } = this.deps;
    const now = clock();
    if (input.chatType === ChatType.group) {
      if (!(await access.isGroupMember(input.recvId, userId))) {
        throw new AppError(ImErrors.notGroupMember);
      }
      await db.transaction().execute(async (trx) => {
        await this.addGroupMember(trx, input.recvId, userId);
      });
      await conversations.setShow(input.recvId, userId, true, now);
      return input.recvId;
    }
    if (input.recvId === userId) throw new AppError(ImErrors.chatWithSelf);
    if (!(await access.userExists(input.recvId))) throw new AppError(ImErrors.recipientNotFound);
    if (requireFriendship && !(await access.areFriends(userId, input.recvId))) {
      throw new AppError(ImErrors.notFriends);
    }
    const conversationId = singleConversationId(userId, input.recvId);
    await db.transaction().execute(async (trx) => {
      await conversations.ensureConversation(trx, conversationId, ChatType.single, now);
      await conversations.ensureMembers(
        trx,
        [
          { conversationId, userId, chatType: ChatType.single, targetId: input.recvId, joinSeq: 0 },
          {
            conversationId,
            userId: input.recvId,
            chatType: ChatType.single,
            targetId: userId,
            joinSeq: 0,
          },
        ],
        now,
      );
    });
    await conversations.setShow(conversationId, userId, true, now);
    return conversationId;
  }

  /**
   * Moves the caller's read position forward (never back, never past maxSeq),
   * records `message-read`, sends a receipt (at once to a single chat's peer,
   * merged per window in groups) and `conversation.updated` to the caller's other
   * devices. Returns the read position now in effect.
   */
  async markRead(
    userId: string,
    conversationId: string,
    readSeq: number,
    exceptConnectionId?: string,
  ): Promise<number> {
    const { db, conversations, events, clock } = this.deps;
    const member = await this.participant(conversationId, userId);
    const now = clock();
    const moved = await db.transaction().execute(async (trx) => {
      const target = Math.min(readSeq, await conversations.maxSeq(conversationId, trx));
      if (target <= member.readSeq) return undefined;
      if (!(await conversations.advanceRead(trx, conversationId, userId, target, now))) {
        return undefined;
      }
      await events.record(trx, 'message-read', conversationId, {
        conversationId,
        userId,
        readSeq: target,
      });
      return target;
    });
    if (moved === undefined) {
      return (await conversations.member(conversationId, userId))?.readSeq ?? member.readSeq;
    }
    const move = {
      conversationId,
      chatType: member.chatType as ChatType,
      userId,
      targetId: member.targetId,
      readSeq: moved,
      isShow: member.isShow === 1,
    };
    this.deps.readState.receipt(move, exceptConnectionId);
    this.deps.readState.changed(
      userId,
      conversationState(member, { readSeq: moved }),
      exceptConnectionId,
    );
    return moved;
  }

  /**
   * Clears a conversation for the caller only: history and sync start after its
   * current last message, which also counts as read. Answers the new floor.
   */
  async clear(userId: string, conversationId: string, exceptConnectionId?: string) {
    const { db, conversations, events, clock } = this.deps;
    const member = await this.participant(conversationId, userId);
    const now = clock();
    const { clearSeq, readMoved } = await db.transaction().execute(async (trx) => {
      const maxSeq = await conversations.maxSeq(conversationId, trx);
      await conversations.clear(trx, conversationId, userId, maxSeq, now);
      const moved = await conversations.advanceRead(trx, conversationId, userId, maxSeq, now);
      if (moved) {
        await events.record(trx, 'message-read', conversationId, {
          conversationId,
          userId,
          readSeq: maxSeq,
        });
      }
      return { clearSeq: Math.max(maxSeq, member.clearSeq), readMoved: moved };
    });
    const after = await this.participant(conversationId, userId);
    if (readMoved) {
      this.deps.readState.receipt(
        {
          conversationId,
          chatType: after.chatType as ChatType,
          userId,
          targetId: after.targetId,
          readSeq: after.readSeq,
          isShow: after.isShow === 1,
        },
        exceptConnectionId,
      );
    }
    this.deps.readState.changed(userId, conversationState(after), exceptConnectionId);
    return { clearSeq };
  }

  /** DELETE /v1/im/conversation: hides the conversation and clears it, for the caller only. */
  async remove(userId: string, conversationId: string): Promise<void> {
    await this.participant(conversationId, userId);
    await this.deps.conversations.setSettings(
      conversationId,
      userId,
      { isShow: false },
      this.deps.clock(),
    );
    await this.clear(userId, conversationId);
  }

  /** The Go system's markChat form: read up to the newest of the given messages. */
  async markReadByMessages(
    userId: string,
    input: { chatType: ChatType; recvId: string; msgIds: string[] },
    exceptConnectionId?: string,
  ): Promise<number> {
    const conversationId =
      input.chatType === ChatType.single
        ? singleConversationId(userId, input.recvId)
        : input.recvId;
    const found = await this.deps.messages.findByIds(input.msgIds);
    const seqs = found.filter((m) => m.conversationId === conversationId).map((m) => m.seq);
    if (seqs.length === 0) throw new AppError(ImErrors.messageNotFound);
    return this.markRead(userId, conversationId, Math.max(...seqs), exceptConnectionId);
  }

  /**
   * PUT /v1/im/conversation: read positions, visibility, pinned and muted of
   * several conversations. Settings reach the user's other devices as
   * `conversation.updated`.
   */
  async update(
    userId: string,
    entries: Record<
      string,
      { readSeq?: number; isShow?: boolean; pinned?: boolean; muted?: boolean }
    >,
  ): Promise<void> {
    const ids = Object.keys(entries);
    if (ids.length > this.deps.maxEntriesPerUpdate)
      throw new AppError(ImErrors.tooManyConversations);
    for (const id of ids) await this.participant(id, userId);
    for (const [id, entry] of Object.entries(entries)) {
      if (entry.readSeq !== undefined) await this.markRead(userId, id, entry.readSeq);
      const { isShow, pinned, muted } = entry;
      if (isShow !== undefined || pinned !== undefined || muted !== undefined) {
        await this.deps.conversations.setSettings(
          id,
          userId,
          { isShow, pinned, muted },
          this.deps.clock(),
        );
        const member = await this.participant(id, userId);
        this.deps.readState.changed(userId, conversationState(member));
      }
    }
  }

  /** The caller's state in a conversation; 403 when they are not in it. */
  async participant(conversationId: string, userId: string): Promise<MemberRow> {
    const member = await this.deps.conversations.member(conversationId, userId);
    if (!member) throw new AppError(ImErrors.notParticipant);
    return member;
  }

  /**
   * Called inside the social module's transaction when someone joins a group: the
   * member gets the group conversation, reading from the current seq onward.
   */
  async addGroupMember(trx: Kysely<Database>, groupId: string, userId: string): Promise<void> {
    await this.deps.conversations.joinGroup(trx, groupId, [userId], this.deps.clock());
  }

  /** Called inside the social module's transaction when someone leaves or is removed. */
  async removeGroupMember(trx: Kysely<Database>, groupId: string, userId: string): Promise<void> {
    await this.deps.conversations.removeMember(trx, groupId, userId);
  }

  /** Called inside the social module's transaction when a group is dismissed. */
  async removeGroup(trx: Kysely<Database>, groupId: string): Promise<void> {
    await this.deps.conversations.removeAllMembers(trx, groupId);
  }
}

/** The users' unread totals from their members' rows (0 for a user with none). */
function badgesOf(userIds: readonly string[], rows: readonly UnreadPart[]): Map<string, number> {
  const totals = new Map<string, number>(userIds.map((id) => [id, 0]));
  for (const row of rows) totals.set(row.userId, (totals.get(row.userId) ?? 0) + unreadOf(row));
  return totals;
}

/**
 * A conversation's unread count: notices never count, nor do own messages (sending marks
 * read, so none is after readSeq); readSeq never passes maxSeq.
 */
function unreadOf(row: { maxSeq: number; readSeq: number; noticesAfterRead: number }): number {
  return Math.max(0, row.maxSeq - row.readSeq - row.noticesAfterRead);
}
