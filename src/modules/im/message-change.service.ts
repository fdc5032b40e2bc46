import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import { AppError } from '../../errors/app-error.js';
import type { Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import type { ChatAccess } from './chat-access.js';
import type { ConversationRepository, MemberRow } from './conversation.repository.js';
import { ChatType, MessageType, type Message } from './im.entity.js';
import { ImErrors } from './im.errors.js';
import type { MessageFanout } from './message-fanout.js';
import type { MessageRepository } from './message.repository.js';

export interface MessageChangeLimits {
  revokeWindowMs: number;
  editWindowMs: number;
  /** Distinct emojis on one message. */
  maxEmojis: number;
  /** Emojis one user may put on one message. */
  maxReactionsPerUser: number;
}

/** Recalled messages release what they referenced (files) inside the recall's transaction. */
export type RevokeHook = (trx: Kysely<Database>, message: Message) => Promise<void>;

export interface MessageChangeDeps {
  db: Kysely<Database>;
  conversations: ConversationRepository;
  messages: MessageRepository;
  access: ChatAccess;
  fanout: MessageFanout;
  /** Records `message-revoked` (the push delivery withdraws the notification). */
  events: EventRecorder;
  clock: Clock;
  limits: MessageChangeLimits;
  onRevoke?: RevokeHook;
}

/** Group roles (social module): 1 creator, 2 manager, 3 member. */
const MANAGER_ROLE_MAX = 2;

/**
 * Changes to stored messages: recall, edit, reactions, and delete for me. Each
 * change takes the conversation's next modSeq(s) in the transaction that writes it
 * (the row lock serializes changes per conversation) and, after commit, the
 * changed messages are pushed with contentType 2. Seq, unread and read positions
 * never move because of a change.
 */
export class MessageChangeService {
  constructor(private readonly deps: MessageChangeDeps) {}

  /**
   * Recalls a message for everyone: its content, reactions and edit history are
   * erased and it keeps `revoked: {by, at}`; replies quoting it lose their excerpt.
   * Recalling a recalled message answers it as it is.
   */
  async revoke(
    userId: string,
    conversationId: string,
    msgId: string,
    exceptConnectionId?: string,
  ): Promise<Message> {
    const { db, conversations, messages, clock, limits } = this.deps;
    const { message } = await this.visible(userId, conversationId, msgId);
    if (message.revoked) return message;
    const now = clock();
    if (!(await this.isManager(message, userId))) {
      if (message.sendId !== userId) throw new AppError(ImErrors.revokeNotAllowed);
      if (now - message.sendTime > limits.revokeWindowMs) {
        throw new AppError(ImErrors.revokeWindowPassed);
      }
    }
    const changed = await db.transaction().execute(async (trx) => {
      const quoting = (await messages.quoting(trx, conversationId, msgId)).filter(
        (q) => q.replyTo && !q.replyTo.revoked,
      );
      let modSeq = await conversations.takeModSeqs(trx, conversationId, 1 + quoting.length);
      const current = await messages.findIn(trx, msgId);
      if (!current || current.revoked) return current ? [current] : [];
      await messages.update(trx, msgId, {
        content: '',
        revokedBy: userId,
        revokedAt: now,
        reactions: null,
        modSeq,
      });
      await messages.eraseVersions(trx, msgId);
      await this.deps.onRevoke?.(trx, current);
      await this.deps.events.record(trx, 'message-revoked', conversationId, {
        msgId,
        conversationId,
        chatType: current.chatType,
        seq: current.seq,
        sendId: current.sendId,
        revokedBy: userId,
        revokedAt: now,
      });
      const out: Message[] = [];
      out.push({
        ...withoutReactions(current),
        content: '',
        revoked: { by: userId, at: now },
        modSeq,
      });
      for (const quote of quoting) {
        modSeq += 1;
        const replyTo = { ...quote.replyTo!, excerpt: '', revoked: true as const };
        await messages.update(trx, quote.msgId, { replyTo: JSON.stringify(replyTo), modSeq });
        out.push({ ...quote, replyTo, modSeq });
      }
      return out;
    });
    // The recalling device has the recalled message in its answer, not the replies quoting it.
    changed.forEach(
      (m, i) => void this.deps.fanout.change(m, i === 0 ? exceptConnectionId : undefined),
    );
    return changed[0] ?? message;
  }

  /** Replaces the text of one's own text message; the previous text is kept for audit. */
  async edit(
    userId: string,
    conversationId: string,
    msgId: string,
    content: string,
    exceptConnectionId?: string,
  ): Promise<Message> {
    const { db, conversations, messages, clock, limits } = this.deps;
    const { message } = await this.visible(userId, conversationId, msgId);
    if (message.sendId !== userId) throw new AppError(ImErrors.editNotSender);
    if (message.revoked) throw new AppError(ImErrors.messageRevoked);
    if (message.mType !== MessageType.text) throw new AppError(ImErrors.editNotText);
    const now = clock();
    if (now - message.sendTime > limits.editWindowMs) throw new AppError(ImErrors.editWindowPassed);
    const edited = await db.transaction().execute(async (trx) => {
      const modSeq = await conversations.takeModSeqs(trx, conversationId, 1);
      const current = await messages.findIn(trx, msgId);
      if (!current || current.revoked) throw new AppError(ImErrors.messageRevoked);
      if (current.content === content) return undefined;
      await messages.keepVersion(trx, {
        id: newId(),
        msgId,
        content: current.content,
        editedBy: userId,
        replacedAt: now,
      });
      await messages.update(trx, msgId, { content, editedAt: now, modSeq });
      return { ...current, content, editedAt: now, modSeq };
    });
    if (!edited) return message;
    void this.deps.fanout.change(edited, exceptConnectionId);
    return edited;
  }

  /** Adds or removes the caller's reaction; answers the message's reactions after it. */
  async react(
    userId: string,
    input: { conversationId: string; msgId: string; emoji: string; add: boolean },
  ): Promise<{ reactions: Record<string, string[]> }> {
    const { db, conversations, messages, limits } = this.deps;
    const { conversationId, msgId, emoji, add } = input;
    const { message } = await this.visible(userId, conversationId, msgId);
    if (message.revoked) throw new AppError(ImErrors.messageRevoked);
    const result = await db.transaction().execute(async (trx) => {
      const modSeq = await conversations.takeModSeqs(trx, conversationId, 1);
      const current = await messages.findIn(trx, msgId);
      if (!current || current.revoked) throw new AppError(ImErrors.messageRevoked);
      const reactions = cloneReactions(current.reactions);
      const users = reactions[emoji] ?? [];
      if (add === users.includes(userId)) return { reactions, changed: undefined };
      if (add) {
        const mine = Object.values(reactions).filter((ids) => ids.includes(userId)).length;
        if (users.length === 0 && Object.keys(reactions).length >= limits.maxEmojis) {
          throw new AppError(ImErrors.tooManyReactions);
        }
        if (mine >= limits.maxReactionsPerUser) throw new AppError(ImErrors.tooManyReactions);
        reactions[emoji] = [...users, userId];
      } else {
        const left = users.filter((id) => id !== userId);
        if (left.length > 0) reactions[emoji] = left;
        else delete reactions[emoji];
      }
      await messages.update(trx, msgId, { reactions, modSeq });
      const changed: Message = { ...withoutReactions(current), modSeq };
      if (Object.keys(reactions).length > 0) changed.reactions = reactions;
      return { reactions, changed };
    });
    // The answer carries only the reactions: the reacting device gets the changed message too.
    if (result.changed) void this.deps.fanout.change(result.changed);
    return { reactions: result.reactions };
  }

  /** Hides messages from the caller only; everyone else keeps them. */
  async deleteForMe(userId: string, conversationId: string, msgIds: string[]): Promise<void> {
    const { db, messages, clock } = this.deps;
    const member = await this.participant(conversationId, userId);
    const ids = [...new Set(msgIds)];
    const found = await messages.findByIds(ids);
    const floor = Math.max(member.joinSeq, member.clearSeq);
    const mine = found.filter((m) => m.conversationId === conversationId && m.seq > floor);
    if (mine.length !== ids.length) throw new AppError(ImErrors.messageNotFound);
    await db
      .transaction()
      .execute((trx) => messages.deleteFor(trx, userId, conversationId, ids, clock()));
  }

  /**
   * The texts a message had before its edits, oldest first (admin audit). None for
   * a message never edited, recalled (erased) or unknown.
   */
  async versions(msgId: string) {
    return { msgId, versions: await this.deps.messages.versions(msgId) };
  }

  private async participant(conversationId: string, userId: string): Promise<MemberRow> {
    const member = await this.deps.conversations.member(conversationId, userId);
    if (!member) throw new AppError(ImErrors.notParticipant);
    return member;
  }

  /** The message, if the caller is in its conversation and it is after their floor. */
  private async visible(userId: string, conversationId: string, msgId: string) {
    const member = await this.participant(conversationId, userId);
    const message = await this.deps.messages.findById(msgId);
    if (
      !message ||
      message.conversationId !== conversationId ||
      message.seq <= Math.max(member.joinSeq, member.clearSeq)
    ) {
      throw new AppError(ImErrors.messageNotFound);
    }
    return { member, message };
  }

  private async isManager(message: Message, userId: string): Promise<boolean> {
    if (message.chatType !== ChatType.group) return false;
    const role = await this.deps.access.groupRole(message.conversationId, userId);
    return role !== undefined && role <= MANAGER_ROLE_MAX;
  }
}

function cloneReactions(reactions: Message['reactions']): Record<string, string[]> {
  // No prototype: an emoji is only ever an own key.
  const out = Object.create(null) as Record<string, string[]>;
  for (const [emoji, ids] of Object.entries(reactions ?? {})) out[emoji] = [...ids];
  return out;
}

function withoutReactions(message: Message): Message {
  const { reactions: _reactions, ...rest } = message;
  return rest;
}
