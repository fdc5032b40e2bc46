import type { Kysely } from 'kysely';
import type { TransactionRunner } from '../../adapters/storage/group-commit.js';
import type { Database } from '../../adapters/storage/schema.js';
import { isUniqueViolation } from '../../adapters/storage/storage-errors.js';
import { AppError } from '../../errors/app-error.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { newId } from '../../shared/ids.js';
import type { ChatAccess } from './chat-access.js';
import type { ConversationRepository } from './conversation.repository.js';
import {
  ChatType,
  MessageType,
  SYSTEM_SENDER,
  singleConversationId,
  type Message,
  type ReplySnapshot,
} from './im.entity.js';
import { ImErrors } from './im.errors.js';
import type { MessageAttachments } from './message-attachments.js';
import type { MessageFanout } from './message-fanout.js';
import type { MessageRepository } from './message.repository.js';
import {
  recordMessageSent,
  type PairSendStore,
  type PairStoredNow,
  type ReadBefore,
} from './pair-send.js';
import { conversationState, type ReadState } from './read-state.js';

export interface SendInput {
  conversationId?: string;
  chatType: ChatType;
  recvId: string;
  clientMsgId?: string;
  msg: { mType: number; content: string };
  /** The msgId this message answers (same conversation). */
  replyTo?: string;
  /** Group members mentioned. */
  atUserIds?: string[];
  /** Mentions every member (group creator and managers only). */
  atAll?: boolean;
}

/** What a send adds beside its content, resolved and checked before it is stored. */
interface Extras {
  replyTo?: ReplySnapshot;
  atUserIds?: string[];
  atAll?: true;
}

/** The extras of a plain send (no reply, no mentions): nothing, shared. */
const NO_EXTRAS: Extras = Object.freeze({});
/** A send that links no uploaded file. */
const NO_FILES: string[] = []; // never written: attachments.link gets only non-empty lists

/** How much of a quoted text a reply keeps. */
const EXCERPT_LENGTH = 100;

/** Group roles (social module): 1 creator, 2 manager, 3 member. */
const MANAGER_ROLE_MAX = 2;

interface Target {
  conversationId: string;
  chatType: ChatType;
  recvId: string;
}

export interface ChatServiceDeps {
  /** Runs the store of one message in a transaction (group commit on SQLite). */
  transact: TransactionRunner;
  conversations: ConversationRepository;
  messages: MessageRepository;
  /** Stores a single chat's message (on PostgreSQL one statement for a batch's sends). */
  pairSends: PairSendStore;
  access: ChatAccess;
  events: EventRecorder;
  fanout: MessageFanout;
  readState: ReadState;
  clock: Clock;
  logger: Logger;
  requireFriendship: boolean;
  /** Checks and links the file of image, file, voice and video messages. */
  attachments?: MessageAttachments;
}

/** Message types whose content names an uploaded file (docs/files.md). */
const FILE_MESSAGE_TYPES: ReadonlySet<number> = new Set([
  MessageType.image,
  MessageType.file,
  MessageType.voice,
  MessageType.video,
]);

/** A stored message and, when the send moved the sender's read position, its state before. */
interface Stored {
  message: Message;
  readBefore?: ReadBefore | undefined;
}

/**
 * Sending a message: check who may post, store it with the next seq of its
 * conversation in one transaction (with its `message-sent` event), and only then
 * answer and push. Sending marks the conversation read for the sender up to its
 * message. A retry with the same clientMsgId returns the stored message.
 */
export class ChatService {
  constructor(private readonly deps: ChatServiceDeps) {}

  /**
   * `placed` is called once the send has taken its place among the sender's sends:
   * its unit is queued where a conversation's units keep their order (a group commit),
   * so a send started after it is stored after it. Not called where units take no
   * queue (a transaction per unit, MySQL), nor for a send answered without storing.
   */
  send(
    senderId: string,
    input: SendInput,
    exceptConnectionId?: string,
    placed?: () => void,
  ): Promise<Message> {
    let target: Target | undefined;
    try {
      target = this.authorizedNow(senderId, input);
    } catch {
      // A refused request: authorize refuses it again, as a rejection.
      target = undefined;
    }
    const plain =
      input.replyTo === undefined && input.atUserIds === undefined && input.atAll === undefined;
    // The usual send (a plain text to a friend whose access is held): straight to the
    // store, without the promises of the checks below.
    if (target && plain && !this.namesFile(input)) {
      return this.post(senderId, target, input, exceptConnectionId, NO_EXTRAS, NO_FILES, placed);
    }
    return this.sendChecked(senderId, input, exceptConnectionId, target, plain, placed);
  }

  private async sendChecked(
    senderId: string,
    input: SendInput,
    exceptConnectionId: string | undefined,
    knownTarget: Target | undefined,
    plain: boolean,
    placed: (() => void) | undefined,
  ): Promise<Message> {
    const target = knownTarget ?? (await this.authorize(senderId, input));
    const extras = plain ? NO_EXTRAS : await this.extras(senderId, target, input);
    const { attachments } = this.deps;
    if (attachments && this.namesFile(input)) {
      // A retry of a stored send answers the stored message, whatever its file is now.
      if (input.clientMsgId) {
        const existing = await this.deps.messages.findByClientMsgId(senderId, input.clientMsgId);
        if (existing) return this.resend(existing, target, exceptConnectionId);
      }
      const resolved = await attachments.resolve(senderId, input.msg);
      const msg = { mType: input.msg.mType, content: resolved.content };
      return this.post(
        senderId,
        target,
        { ...input, msg },
        exceptConnectionId,
        extras,
        resolved.fileIds,
        placed,
      );
    }
    return this.post(senderId, target, input, exceptConnectionId, extras, NO_FILES, placed);
  }

  /** Whether the message names an uploaded file that attachments must check and link. */
  private namesFile(input: SendInput): boolean {
    return this.deps.attachments !== undefined && FILE_MESSAGE_TYPES.has(input.msg.mType);
  }

  /**
   * Posts a system message (no sender checks) to one user or a group. The
   * clientMsgId makes a repeated post of the same notice store nothing new.
   */
  async sendAsSystem(
    to: { chatType: ChatType; recvId: string },
    msg: SendInput['msg'],
    clientMsgId: string,
  ): Promise<Message> {
    const target: Target =
      to.chatType === ChatType.single
        ? { conversationId: singleConversationId(SYSTEM_SENDER, to.recvId), ...to }
        : { conversationId: to.recvId, ...to };
    return this.post(SYSTEM_SENDER, target, { ...to, msg, clientMsgId });
  }

  private async post(
    senderId: string,
    target: Target,
    input: SendInput,
    exceptConnectionId?: string,
    extras: Extras = {},
    fileIds: string[] = NO_FILES,
    placed?: () => void,
  ): Promise<Message> {
    const { messages } = this.deps;
    let stored: Stored;
    try {
      stored = await this.store(senderId, target, input, extras, fileIds, placed);
    } catch (err) {
      // A retry (or two sends racing) with one clientMsgId: the unique index on
      // (sender, clientMsgId) refused the second row and its transaction took nothing
      // (not even a seq). Answer the stored message. No lookup before the store: a
      // retry is rare, a read per send is not.
      if (input.clientMsgId && isUniqueViolation(err)) {
        const existing = await messages.findByClientMsgId(senderId, input.clientMsgId);
        if (existing) return this.resend(existing, target, exceptConnectionId);
      }
      throw err;
    }
    const { fanout } = this.deps;
    const { message, readBefore } = stored;
    if (readBefore === undefined) {
      void fanout.message(message, exceptConnectionId);
      return message;
    }
    // The push and the read receipt behind it go to the same devices: one write each.
    fanout.together(() => {
      void fanout.message(message, exceptConnectionId);
      this.readOwn(message, readBefore, exceptConnectionId);
    });
    return message;
  }

  /**
   * The sender has read up to its own message: its other devices hear it (the
   * sending one knows from its answer). If the move passed over messages of others,
   * they get a read receipt, as if the sender had marked them read; passing over
   * group notices only (nobody's message, never unread) sends none.
   *
   * In a single chat between two users the move always passed over the peer's
   * messages: only the two of them post there, nobody posts a
   * notice (notices are the groups', written by the server; a user's mType is 0–5),
   * messages are never deleted from the table, and the sender's own messages all lie
   * at or below its read position (each send moves it to its own seq in the same
   * transaction, and a read position never goes back). So every seq strictly between
   * its read position and its message is the peer's, and the store is not asked.
   */
  private readOwn(message: Message, before: ReadBefore, exceptConnectionId?: string): void {
    this.deps.readState.changed(
      message.sendId,
      conversationState(before, { readSeq: message.seq, isShow: true }),
      exceptConnectionId,
    );
    if (before.readSeq >= message.seq - 1) return;
    const move = {
      conversationId: message.conversationId,
      chatType: message.chatType,
      userId: message.sendId,
      targetId: message.recvId,
      readSeq: message.seq,
      // A new message shows its conversation to everyone in it.
      isShow: true,
    };
    if (message.chatType === ChatType.single && message.recvId !== SYSTEM_SENDER) {
      // Every message it passed is the peer's, and none is a notice: known without the
      // store's check (see above). On PostgreSQL that check was a statement
      // and a turn of the event loop after the batch's COMMIT for every answer.
      this.deps.readState.receipt(move, exceptConnectionId);
      return;
    }
    const between = { afterSeq: before.readSeq, beforeSeq: message.seq };
    void this.deps.messages
      .hasUnreadOf(message.conversationId, message.sendId, between)
      .then((passedOthers) => {
        if (passedOthers) this.deps.readState.receipt(move, exceptConnectionId);
      })
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'read receipt after send failed'));
  }

  private store(
    senderId: string,
    target: Target,
    input: SendInput,
    extras: Extras,
    fileIds: string[],
    placed: (() => void) | undefined,
  ): Promise<Stored> {
    const { transact, clock } = this.deps;
    const now = clock();
    // The message itself: the store sets its seq (no copy per message; a unit run
    // again alone after its batch failed sets it again before anyone sees it).
    const message: Message = {
      msgId: newId(),
      conversationId: target.conversationId,
      chatType: target.chatType,
      sendId: senderId,
      recvId: target.recvId,
      sendTime: now,
      mType: input.msg.mType,
      content: input.msg.content,
      clientMsgId: input.clientMsgId ?? null,
      modSeq: 0,
      ...extras,
      seq: 0,
    };
    // Everything a send locks is its conversation's (its row, its members' rows, its
    // messages) or its own (a new message and outbox row): sends to different
    // conversations may be committed at the same time (TransactionRunner).
    let stored: Promise<Stored>;
    if (target.chatType === ChatType.single && fileIds.length === 0) {
      // Its last statement (PairSendStore.store): nothing follows it in the unit.
      stored = transact((trx) => this.storeSingle(trx, message, true), target.conversationId);
    } else {
      stored = this.storeWithRest(message, target, extras, fileIds, now);
    }
    // Queued in order with the conversation's other units: the sender's next send may start.
    if (transact.keepsKeyOrder) placed?.();
    return stored;
  }

  /** A group's message, or one that links files: the unit's statements after the store's. */
  private storeWithRest(
    message: Message,
    target: Target,
    extras: Extras,
    fileIds: string[],
    now: number,
  ): Promise<Stored> {
    return this.deps.transact(async (trx) => {
      const stored =
        target.chatType === ChatType.single
          ? await this.storeSingle(trx, message)
          : await this.storeInGroup(trx, message, extras);
      if (fileIds.length > 0) {
        await this.deps.attachments?.link(trx, {
          msgId: message.msgId,
          conversationId: target.conversationId,
          fileIds,
          now,
        });
      }
      return stored;
    }, target.conversationId);
  }

  /**
   * A single chat's message: the pair store does the usual work in as few statements
   * as its engine allows (on SQLite synchronously, so the usual send is a unit that
   * answers at once; on PostgreSQL one statement for all the single-chat sends of the
   * batch) and says what the parties' rows were. From that, the rare rest: the message
   * shows the conversation to both parties (creating their rows on the first message;
   * the system is no party).
   */
  private storeSingle(
    trx: Kysely<Database>,
    message: Message,
    last = false,
  ): Stored | Promise<Stored> {
    const { pairSends } = this.deps;
    const now = pairSends.storeNow?.(trx, message);
    if (now === undefined) return this.storeSingleLater(trx, message, last);
    const { sendId, recvId } = message;
    const system = sendId === SYSTEM_SENDER;
    // Both rows exist and show the conversation: the usual case, nothing to build.
    if (
      (system || (now.senderRow && now.senderShown)) &&
      (recvId === SYSTEM_SENDER || now.recipientShown)
    ) {
      return { message, readBefore: now.readBefore };
    }
    return this.showSingle(trx, message, now);
  }

  /** storeSingle where the pair store has no synchronous way (PostgreSQL, MySQL). */
  private async storeSingleLater(
    trx: Kysely<Database>,
    message: Message,
    last: boolean,
  ): Promise<Stored> {
    const stored = await this.deps.pairSends.store(trx, message, last);
    message.seq = stored.seq;
    return this.showSingle(trx, message, stored);
  }

  /**
   * The rest of a single chat's send after the pair store: rows to show again or to
   * create. Returns the sender's state before its read position moved (none if it did
   * not).
   */
  private async showSingle(
    trx: Kysely<Database>,
    message: Message,
    before: PairStoredNow,
  ): Promise<Stored> {
    const { conversations } = this.deps;
    const { conversationId, sendId, recvId, sendTime: now, seq } = message;
    const senderShown = sendId === SYSTEM_SENDER || before.senderShown;
    const recipientShown = recvId === SYSTEM_SENDER || before.recipientShown;
    if (!senderShown || !recipientShown) {
      const unseen = [];
      if (!senderShown) unseen.push(this.party(message, sendId, recvId));
      if (!recipientShown) unseen.push(this.party(message, recvId, sendId));
      await conversations.ensureMembers(trx, unseen, now, { show: true });
    }
    if (sendId === SYSTEM_SENDER) return { message };
    if (!before.senderRow) {
      // The sender's row is new (nothing read): the store found none to move.
      await conversations.advanceRead(trx, conversationId, sendId, seq, now);
      const readBefore: ReadBefore = {
        conversationId,
        readSeq: 0,
        isShow: 1,
        pinned: 0,
        muted: 0,
        clearSeq: 0,
      };
      return { message, readBefore };
    }
    return { message, readBefore: before.readBefore };
  }

  /** A party of a single chat, as its member row is created. */
  private party(message: Message, userId: string, targetId: string) {
    const { conversationId, chatType } = message;
    return { conversationId, userId, chatType, targetId, joinSeq: 0 };
  }

  /** A group's message (or a system notice to a group). */
  private async storeInGroup(
    trx: Kysely<Database>,
    message: Message,
    extras: Extras,
  ): Promise<Stored> {
    const { conversations, messages, events } = this.deps;
    const { conversationId, chatType, sendId, recvId, sendTime: now } = message;
    const seq = await conversations.takeNextSeq(
      trx,
      { id: conversationId, chatType },
      message.msgId,
      now,
    );
    message.seq = seq;
    await messages.insert(trx, message);
    if (extras.atAll || extras.atUserIds) {
      await conversations.mention(
        trx,
        conversationId,
        extras.atAll ? 'all' : (extras.atUserIds ?? []),
        seq,
      );
    }
    let readBefore: ReadBefore | undefined;
    if (sendId === SYSTEM_SENDER) {
      await conversations.showAll(trx, conversationId, now);
    } else {
      // The sender's row, read before anything moves it. It is normally there since
      // the member joined, so the usual send inserts nothing: the insert (built by
      // Kysely, one more statement) covers members who joined before the conversation
      // existed. showAll changes only is_show (and updated_at) of a row.
      const own = await conversations.member(conversationId, sendId, trx);
      if (!own) {
        await conversations.ensureMembers(
          trx,
          [{ conversationId, userId: sendId, chatType, targetId: recvId, joinSeq: seq - 1 }],
          now,
        );
      }
      await conversations.showAll(trx, conversationId, now);
      readBefore = own
        ? await conversations.readUpToOwnFrom(trx, { ...own, isShow: 1 }, seq, now)
        : await conversations.readUpToOwn(trx, conversationId, sendId, seq, now);
    }
    await recordMessageSent(events, trx, message);
    return { message, readBefore };
  }

  /**
   * A retried send: the message is stored already. Push it again (the first push
   * may never have left) and answer with it; clients de-duplicate by seq.
   */
  private resend(existing: Message, target: Target, exceptConnectionId?: string): Message {
    if (existing.conversationId !== target.conversationId) {
      throw new AppError(ImErrors.clientMsgIdReused);
    }
    void this.deps.fanout.message(existing, exceptConnectionId);
    return existing;
  }

  /**
   * Checks and resolves the reply target and mentions. Costs nothing on a plain
   * send: each check runs only when its field is given.
   */
  private async extras(senderId: string, target: Target, input: SendInput): Promise<Extras> {
    const { access, messages, conversations } = this.deps;
    const extras: Extras = {};
    if (input.replyTo !== undefined) {
      const quoted = await messages.findById(input.replyTo);
      const member =
        quoted?.conversationId === target.conversationId
          ? await conversations.member(target.conversationId, senderId)
          : undefined;
      // The sender must be able to see it: same conversation, after their floor.
      if (
        !quoted ||
        quoted.conversationId !== target.conversationId ||
        (member && quoted.seq <= Math.max(member.joinSeq, member.clearSeq))
      ) {
        throw new AppError(ImErrors.replyNotInConversation);
      }
      if (quoted.revoked) throw new AppError(ImErrors.messageRevoked);
      extras.replyTo = {
        msgId: quoted.msgId,
        sendId: quoted.sendId,
        mType: quoted.mType,
        excerpt: quoted.mType === MessageType.text ? quoted.content.slice(0, EXCERPT_LENGTH) : '',
      };
    }
    const atUserIds = input.atUserIds && [...new Set(input.atUserIds)];
    if ((atUserIds && atUserIds.length > 0) || input.atAll) {
      if (target.chatType !== ChatType.group) throw new AppError(ImErrors.mentionNotInGroup);
      if (input.atAll) {
        const role = await access.groupRole(target.conversationId, senderId);
        if (role === undefined || role > MANAGER_ROLE_MAX) {
          throw new AppError(ImErrors.atAllNotManager);
        }
        extras.atAll = true;
      }
      if (atUserIds && atUserIds.length > 0) {
        for (const userId of atUserIds) {
          if (!(await access.isGroupMember(target.conversationId, userId))) {
            throw new AppError(ImErrors.mentionNotMember);
          }
        }
        extras.atUserIds = atUserIds;
      }
    }
    return extras;
  }

  /**
   * The usual single chat's target when its access is known at once (friends, not
   * blocked, both answers held: ChatAccess.maySendNow): what authorize would answer,
   * without its promises. Undefined whenever authorize must decide (a group, a
   * refusal, an answer not held).
   */
  private authorizedNow(senderId: string, input: SendInput): Target | undefined {
    const { access, requireFriendship } = this.deps;
    if (input.chatType !== ChatType.single || !requireFriendship) return undefined;
    const target = singleTarget(senderId, input);
    return access.maySendNow?.(senderId, input.recvId) ? target : undefined;
  }

  /** Resolves the conversation and checks the sender may post to it. */
  private async authorize(senderId: string, input: SendInput): Promise<Target> {
    const { access, requireFriendship } = this.deps;
    if (input.chatType === ChatType.single) {
      const target = singleTarget(senderId, input);
      // One query on the usual path: friends exist. Only a refusal asks which error it is.
      const allowed = requireFriendship
        ? await access.areFriends(senderId, input.recvId)
        : await access.userExists(input.recvId);
      if (!allowed) {
        if (!(await access.userExists(input.recvId)))
          throw new AppError(ImErrors.recipientNotFound);
        throw new AppError(ImErrors.notFriends);
      }
      if (await access.isBlocked(input.recvId, senderId)) {
        throw new AppError(ImErrors.blockedByRecipient);
      }
      return target;
    }
    const groupId = input.conversationId ?? input.recvId;
    if (
      input.conversationId !== undefined &&
      input.recvId &&
      input.recvId !== input.conversationId
    ) {
      throw new AppError(ImErrors.conversationMismatch);
    }
    const state = await access.groupPostState(groupId, senderId);
    if (!state) throw new AppError(ImErrors.notGroupMember);
    // A member's own mute binds whatever the role; the group-wide one spares managers.
    if (state.mutedUntil > this.deps.clock()) throw new AppError(ImErrors.memberMuted);
    if (state.groupMuted && state.roleLevel > MANAGER_ROLE_MAX) {
      throw new AppError(ImErrors.groupMuted);
    }
    return { conversationId: groupId, chatType: ChatType.group, recvId: groupId };
  }
}

/**
 * A single chat's target as the request names it, before any access check: refuses a
 * chat with oneself and a conversation id that is not the pair's.
 */
function singleTarget(senderId: string, input: SendInput): Target {
  if (input.recvId === senderId) throw new AppError(ImErrors.chatWithSelf);
  const conversationId = singleConversationId(senderId, input.recvId);
  if (input.conversationId !== undefined && input.conversationId !== conversationId) {
    throw new AppError(ImErrors.conversationMismatch);
  }
  return { conversationId, chatType: ChatType.single, recvId: input.recvId };
}
