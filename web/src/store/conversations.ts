import {
  ChatType,
  SYSTEM_SENDER,
  type ChatClient,
  type Conversation,
  type ConversationState,
  type Message,
  type ReadReceipt,
} from '@easy-chat/sdk';
import type { ContactsStore } from './contacts.js';
import type { StoreCore } from './core.js';
import type { MessagesStore } from './messages.js';
import { displayName } from './names.js';
import type { State } from './state.js';

/**
 * The conversation `message` lands in, moved on by it: last message, maxSeq, and
 * the unread count (not counted when it is mine or seen as it arrives).
 */
export function withMessage(
  known: Conversation | undefined,
  message: Message,
  mine: boolean,
  seen: boolean,
  meId?: string,
): Conversation {
  const mentionsMe =
    !mine && !seen && (message.atAll === true || (!!meId && !!message.atUserIds?.includes(meId)));
  if (known) {
    return {
      ...known,
      mentioned: (known.mentioned && !(mine && message.seq >= known.maxSeq)) || mentionsMe,
      isShow: true,
      maxSeq: Math.max(known.maxSeq, message.seq),
      msg: !known.msg || known.msg.seq <= message.seq ? message : known.msg,
      // Sending marks read: my own newest message clears the badge.
      unread:
        mine && message.seq >= known.maxSeq
          ? 0
          : mine || seen || message.seq <= known.readSeq
            ? known.unread
            : known.unread + 1,
      readSeq: mine ? Math.max(known.readSeq, message.seq) : known.readSeq,
    };
  }
  return {
    conversationId: message.conversationId,
    chatType: message.chatType,
    targetId:
      message.chatType === ChatType.single
        ? mine
          ? message.recvId
          : message.sendId
        : message.recvId,
    isShow: true,
    maxSeq: message.seq,
    readSeq: mine ? message.seq : message.seq - 1,
    unread: mine || seen ? 0 : 1,
    pinned: false,
    muted: false,
    mentioned: mentionsMe,
    clearSeq: 0,
    msg: message,
  };
}

/**
 * Moves `delivered` on for every single chat whose peer is online now: the server
 * pushes to every live socket, so what was stored before has reached a device.
 */
export function withDelivered(s: State): Pick<State, 'delivered'> {
  let delivered = s.delivered;
  for (const c of Object.values(s.conversations)) {
    if (c.chatType !== ChatType.single || !s.online[c.targetId]) continue;
    if ((delivered[c.conversationId] ?? 0) >= c.maxSeq) continue;
    delivered = { ...delivered, [c.conversationId]: c.maxSeq };
  }
  return { delivered };
}

/** The address of a conversation: `#/c/<id>` (a hash, so the server needs no route for it). */
export function conversationFromUrl(): string | null {
  const match = /^#\/c\/([\w.:-]{1,128})$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]!) : null;
}

function showInUrl(conversationId: string | null): void {
  const hash = conversationId ? `#/c/${encodeURIComponent(conversationId)}` : '';
  if (location.hash === hash) return;
  history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
}

/** The conversation list, the open conversation, read positions and receipts. */
export class ConversationsStore {
  messages!: MessagesStore;
  contacts!: ContactsStore;

  /** The conversation the page address named on load, opened once the list has it. */
  private restoring: string | null = null;

  constructor(private readonly core: StoreCore) {}

  attach(client: ChatClient): void {
    this.restoring = conversationFromUrl();
    client.on('conversations', (list) => this.onConversations(list));
    client.on('readReceipt', (receipt) => this.onReceipt(receipt));
    client.on('conversationUpdated', (state) => this.onConversationUpdated(state));
  }

  private onConversations(list: Record<string, Conversation>): void {
    this.core.set((s) => ({
      conversations: list,
      ...withDelivered({ ...s, conversations: list }),
    }));
    const restoring = this.restoring;
    this.restoring = null;
    if (restoring && !this.core.getState().activeId) {
      if (list[restoring]) void this.open(restoring);
      else showInUrl(null);
    }
    this.core.lookup(
      Object.values(list).map((c) => (c.chatType === ChatType.single ? c.targetId : '')),
    );
    // Missed messages of the open conversation are re-read from history on reconnect
    // only if it was never loaded; otherwise the sync fills them in.
    this.markActiveRead();
  }

  /** My read position or visibility changed on another device (or by sending there). */
  private onConversationUpdated(state: ConversationState): void {
    this.dropCleared(state.conversationId, state.clearSeq);
    this.core.set((s) => {
      const conversation = s.conversations[state.conversationId];
      if (!conversation) return {};
      const readSeq = Math.max(conversation.readSeq, state.readSeq);
      return {
        conversations: {
          ...s.conversations,
          [state.conversationId]: {
            ...conversation,
            isShow: state.isShow,
            pinned: state.pinned,
            muted: state.muted,
            clearSeq: Math.max(conversation.clearSeq, state.clearSeq),
            readSeq,
            unread: readSeq >= conversation.maxSeq ? 0 : conversation.unread,
          },
        },
      };
    });
  }

  private onReceipt(receipt: ReadReceipt): void {
    const id = receipt.conversationId;
    const me = this.core.getState().me?.id;
    const reads = receipt.reads ?? { [receipt.sendId]: receipt.readSeq };
    this.core.set((s) => {
      const merged = { ...s.reads[id] };
      for (const [uid, seq] of Object.entries(reads)) merged[uid] = Math.max(merged[uid] ?? 0, seq);
      const patch: Partial<State> = { reads: { ...s.reads, [id]: merged } };
      // My own read on another device clears the badge here too.
      const mine = me ? reads[me] : undefined;
      const conversation = s.conversations[id];
      if (mine !== undefined && conversation && mine > conversation.readSeq) {
        patch.conversations = {
          ...s.conversations,
          [id]: {
            ...conversation,
            readSeq: mine,
            unread: mine >= conversation.maxSeq ? 0 : conversation.unread,
          },
        };
      }
      return patch;
    });
  }

  async open(conversationId: string | null): Promise<void> {
    this.core.set({ activeId: conversationId });
    showInUrl(conversationId);
    if (!conversationId) return;
    const state = this.core.getState();
    if (!state.history[conversationId]?.loaded) await this.messages.loadOlder(conversationId);
    this.markActiveRead();
    void this.loadReads(conversationId);
    const conversation = this.core.getState().conversations[conversationId];
    if (conversation?.chatType === ChatType.group) void this.contacts.loadMembers(conversationId);
  }

  /** Marks the open conversation read when the page is visible. */
  markActiveRead(): void {
    const { activeId: id, conversations } = this.core.getState();
    const conversation = id ? conversations[id] : undefined;
    const client = this.core.client;
    if (!id || !conversation || !client || document.visibilityState !== 'visible') return;
    if (
      conversation.readSeq >= conversation.maxSeq &&
      conversation.unread === 0 &&
      !conversation.mentioned
    ) {
      return;
    }
    const readSeq = conversation.maxSeq;
    this.core.set((s) => ({
      conversations: {
        ...s.conversations,
        [id]: {
          ...conversation,
          readSeq: Math.max(conversation.readSeq, readSeq),
          unread: 0,
          mentioned: false,
        },
      },
    }));
    client.markRead(id, readSeq).catch((err: unknown) => console.warn('markRead', err));
  }

  /** Who has read my latest message (the starting point before receipts arrive). */
  private async loadReads(conversationId: string): Promise<void> {
    const state = this.core.getState();
    const me = state.me?.id;
    const mine = [...(state.messages[conversationId] ?? [])]
      .reverse()
      .find((m) => m.sendId === me && m.msgId && m.seq !== undefined);
    if (!mine?.msgId || mine.seq === undefined) return;
    try {
      const records = await this.core.api.readRecords(mine.msgId);
      const seq = mine.seq;
      this.core.set((s) => {
        const merged = { ...s.reads[conversationId] };
        for (const uid of records.reads) merged[uid] = Math.max(merged[uid] ?? 0, seq);
        return { reads: { ...s.reads, [conversationId]: merged } };
      });
    } catch {
      // read records are a nicety
    }
  }

  async startChat(userId: string): Promise<void> {
    try {
      const id = await this.core.api.setupConversation({ recvId: userId, chatType: 2 });
      await this.ensure(id);
      await this.open(id);
    } catch (err) {
      this.core.fail(err);
    }
  }

  async openGroup(groupId: string): Promise<void> {
    await this.ensure(groupId);
    await this.open(groupId);
  }

  private async ensure(id: string): Promise<void> {
    if (this.core.getState().conversations[id]) return;
    const list = await this.core.api.conversations();
    this.core.set((s) => ({ conversations: { ...s.conversations, ...list } }));
  }

  /** Pins or mutes a conversation for me (my other devices follow by push). */
  async setSettings(conversationId: string, change: { pinned?: boolean; muted?: boolean }) {
    const ok = await this.core.act(() =>
      this.core.api.updateConversations({ conversationList: { [conversationId]: change } }),
    );
    if (!ok) return;
    this.core.set((s) => {
      const conversation = s.conversations[conversationId];
      return conversation
        ? {
            conversations: { ...s.conversations, [conversationId]: { ...conversation, ...change } },
          }
        : {};
    });
  }

  /** Clears the conversation's history for me only (the others keep theirs). */
  async clear(conversationId: string): Promise<void> {
    const client = this.core.client;
    if (!client) return;
    let clearSeq = 0;
    const ok = await this.core.act(async () => {
      clearSeq = await client.clearConversation(conversationId);
    }, 'History cleared');
    if (ok) this.dropCleared(conversationId, clearSeq);
  }

  /** Forgets the messages at or below the floor; history loading stops there. */
  private dropCleared(conversationId: string, clearSeq: number): void {
    if (clearSeq <= 0) return;
    this.core.set((s) => {
      const list = s.messages[conversationId];
      const conversation = s.conversations[conversationId];
      return {
        ...(list
          ? {
              messages: {
                ...s.messages,
                [conversationId]: list.filter((m) => m.seq === undefined || m.seq > clearSeq),
              },
            }
          : {}),
        ...(conversation
          ? {
              conversations: {
                ...s.conversations,
                [conversationId]: {
                  ...conversation,
                  clearSeq: Math.max(conversation.clearSeq, clearSeq),
                  msg:
                    conversation.msg && conversation.msg.seq <= clearSeq ? null : conversation.msg,
                },
              },
            }
          : {}),
      };
    });
  }

  /** Display name of a conversation. */
  titleOf(conversation: Conversation): string {
    const state = this.core.getState();
    if (conversation.chatType === ChatType.group) {
      return state.groups.find((g) => g.id === conversation.targetId)?.name ?? 'Group';
    }
    // Notices from other systems arrive in a conversation with the system sender.
    if (conversation.targetId === SYSTEM_SENDER) return 'System notices';
    return displayName(state, conversation.targetId);
  }
}
