import {
  ChatType,
  fileContent,
  MessageType,
  newClientMsgId,
  SYSTEM_SENDER,
  type ChatClient,
  type Message,
} from '@easy-chat/sdk';
import type { ContactsStore } from './contacts.js';
import { withDelivered, withMessage, type ConversationsStore } from './conversations.js';
import { notifyHidden } from './notifications.js';
import { noticeUsers, withMutes } from './notices.js';
import type { StoreCore } from './core.js';
import type { ChatMessage, HistoryState } from './state.js';

/** History page size. */
const PAGE = 30;

export function toChatMessage(m: Message): ChatMessage {
  return {
    key: m.clientMsgId ?? m.msgId,
    conversationId: m.conversationId,
    chatType: m.chatType,
    sendId: m.sendId,
    recvId: m.recvId,
    content: m.content,
    sendTime: m.sendTime,
    clientMsgId: m.clientMsgId,
    seq: m.seq,
    msgId: m.msgId,
    status: 'sent',
    mType: m.mType,
    file: fileContent(m),
    revoked: Boolean(m.revoked),
    modSeq: m.modSeq,
    ...(m.editedAt ? { editedAt: m.editedAt } : {}),
    ...(m.replyTo ? { replyTo: m.replyTo } : {}),
    ...(m.reactions ? { reactions: m.reactions } : {}),
    ...(m.atUserIds ? { atUserIds: m.atUserIds } : {}),
    ...(m.atAll ? { atAll: true } : {}),
  };
}

/** Merges stored messages into a list: ordered by seq, one per seq, pending sends last. */
export function mergeMessages(list: ChatMessage[], incoming: Message[]): ChatMessage[] {
  const bySeq = new Map<number, ChatMessage>();
  const pending: ChatMessage[] = [];
  for (const m of list) {
    if (m.seq !== undefined) bySeq.set(m.seq, m);
    else pending.push(m);
  }
  for (const m of incoming) {
    const stored = toChatMessage(m);
    const own = m.clientMsgId ? pending.findIndex((p) => p.clientMsgId === m.clientMsgId) : -1;
    if (own >= 0) {
      stored.key = pending[own]!.key;
      // My own image keeps its local preview: no flash while the thumbnail loads.
      stored.localUrl = pending[own]!.localUrl;
      pending.splice(own, 1);
    }
    if (!bySeq.has(m.seq)) bySeq.set(m.seq, stored);
  }
  const sorted = [...bySeq.values()].sort((a, b) => a.seq! - b.seq!);
  return [...sorted, ...pending];
}

/** The messages of each conversation: live ones, history pages, and my sends. */
export class MessagesStore {
  conversations!: ConversationsStore;
  contacts!: ContactsStore;

  constructor(private readonly core: StoreCore) {}

  attach(client: ChatClient): void {
    client.on('message', ({ message, source }) => this.onMessage(message, source));
  }

  private onMessage(message: Message, source: 'push' | 'sync' | 'send'): void {
    const id = message.conversationId;
    const before = this.core.getState();
    const mine = message.sendId === before.me?.id;
    const notice = message.mType === MessageType.notice;
    // A notice never counts toward unread (DESIGN.md §7): as if seen as it arrives.
    const seen = notice || (before.activeId === id && document.visibilityState === 'visible');
    this.core.set((s) => {
      const conversations = {
        ...s.conversations,
        [id]: withMessage(s.conversations[id], message, mine, seen, s.me?.id),
      };
      return {
        conversations,
        ...withDelivered({ ...s, conversations }),
        messages: { ...s.messages, [id]: mergeMessages(s.messages[id] ?? [], [message]) },
      };
    });
    const state = this.core.getState();
    if (source === 'push' && !mine && !notice) {
      notifyHidden(state, message, () => {
        window.focus();
        void this.conversations.open(id);
      });
    }
    if (!notice && !state.users[message.sendId]) this.core.lookup([message.sendId]);
    if (message.chatType === ChatType.group && !state.groups.some((g) => g.id === id)) {
      void this.contacts.refreshGroups();
    }
    if (source !== 'send' && state.activeId === id) this.conversations.markActiveRead();
  }

  /** Loads the page of history before the oldest message held (the newest page first). */
  async loadOlder(conversationId: string): Promise<void> {
    const history = this.core.getState().history[conversationId];
    if (history?.loading || history?.exhausted) return;
    this.setHistory(conversationId, { loading: true });
    try {
      const held = (this.core.getState().messages[conversationId] ?? []).filter(
        (m) => m.seq !== undefined,
      );
      const oldest = history?.loaded ? held[0]?.seq : undefined;
      if (oldest === 1) {
        this.setHistory(conversationId, { loading: false, exhausted: true, loaded: true });
        return;
      }
      const page = await this.core.api.chatLog({
        conversationId,
        count: PAGE,
        ...(oldest !== undefined ? { endSeq: oldest - 1 } : {}),
      });
      this.core.lookup(
        page.flatMap((m) => (m.sendId === SYSTEM_SENDER ? noticeUsers(m) : [m.sendId])),
      );
      this.core.set((s) => ({
        memberMutes: withMutes(s.memberMutes, page, true),
        messages: {
          ...s.messages,
          [conversationId]: mergeMessages(s.messages[conversationId] ?? [], page),
        },
      }));
      this.setHistory(conversationId, {
        loading: false,
        loaded: true,
        exhausted: page.length < PAGE,
      });
    } catch (err) {
      this.setHistory(conversationId, { loading: false });
      this.core.fail(err);
    }
  }

  private setHistory(id: string, patch: Partial<HistoryState>): void {
    this.core.set((s) => ({
      history: {
        ...s.history,
        [id]: { loading: false, exhausted: false, loaded: false, ...s.history[id], ...patch },
      },
    }));
  }

  /** Sends a message: it shows at once as "sending", then "sent" or "failed" (with retry). */
  async send(
    conversationId: string,
    content: string,
    retryKey?: string,
    extra: { replyTo?: ChatMessage; atUserIds?: string[]; atAll?: boolean } = {},
  ): Promise<void> {
    const state = this.core.getState();
    const conversation = state.conversations[conversationId];
    const me = state.me;
    const client = this.core.client;
    if (!conversation || !me || !client) return;
    const existing = retryKey
      ? state.messages[conversationId]?.find((m) => m.key === retryKey)
      : undefined;
    const clientMsgId = existing?.clientMsgId ?? newClientMsgId();
    const pending: ChatMessage = existing
      ? { ...existing, status: 'sending' }
      : {
          key: clientMsgId,
          conversationId,
          chatType: conversation.chatType,
          sendId: me.id,
          recvId: conversation.targetId,
          content,
          sendTime: Date.now(),
          clientMsgId,
          status: 'sending',
          mType: MessageType.text,
          ...(extra.replyTo?.msgId
            ? {
                replyTo: {
                  msgId: extra.replyTo.msgId,
                  sendId: extra.replyTo.sendId,
                  mType: extra.replyTo.mType,
                  excerpt: extra.replyTo.content.slice(0, 100),
                },
              }
            : {}),
          ...(extra.atUserIds?.length ? { atUserIds: extra.atUserIds } : {}),
          ...(extra.atAll ? { atAll: true } : {}),
        };
    this.core.set((s) => ({
      messages: {
        ...s.messages,
        [conversationId]: [
          ...(s.messages[conversationId] ?? []).filter((m) => m.key !== pending.key),
          pending,
        ],
      },
    }));
    try {
      await client.send({
        chatType: conversation.chatType === ChatType.group ? 1 : 2,
        recvId: conversation.targetId,
        conversationId,
        content: pending.content,
        clientMsgId,
        ...(pending.replyTo ? { replyTo: pending.replyTo.msgId } : {}),
        ...(pending.atUserIds ? { atUserIds: pending.atUserIds } : {}),
        ...(pending.atAll ? { atAll: true } : {}),
      });
      // The 'message' event (source 'send') has replaced the pending entry.
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      this.core.set((s) => ({
        messages: {
          ...s.messages,
          [conversationId]: (s.messages[conversationId] ?? []).map((m) =>
            m.key === pending.key && m.seq === undefined
              ? { ...m, status: 'failed', error: text }
              : m,
          ),
        },
      }));
    }
  }
}
