import {
  ApiError,
  ChatClient,
  ChatType,
  newClientMsgId,
  type ConnectionState,
  type Conversation,
  type ConversationState,
  type Friend,
  type FriendRequest,
  type Group,
  type GroupMember,
  type GroupRequest,
  type Message,
  type ReadReceipt,
  type UserInfo,
} from '@easy-chat/sdk';

/** A message as the app shows it: stored (with seq) or still on its way. */
export interface ChatMessage {
  key: string;
  conversationId: string;
  chatType: number;
  sendId: string;
  recvId: string;
  content: string;
  sendTime: number;
  clientMsgId: string | null;
  seq?: number;
  msgId?: string;
  status: 'sending' | 'sent' | 'failed';
  error?: string;
}

export interface HistoryState {
  loading: boolean;
  /** No older messages on the server. */
  exhausted: boolean;
  loaded: boolean;
}

export interface State {
  connection: ConnectionState;
  /** Connected at least once since login: losing the connection then shows the banner. */
  wasOnline: boolean;
  me: UserInfo | null;
  users: Record<string, { nickname: string; avatar: string }>;
  friends: Friend[];
  online: Record<string, boolean>;
  friendRequests: FriendRequest[];
  groups: Group[];
  groupRequests: Record<string, GroupRequest[]>;
  members: Record<string, GroupMember[]>;
  conversations: Record<string, Conversation>;
  messages: Record<string, ChatMessage[]>;
  history: Record<string, HistoryState>;
  /** conversationId → reader → readSeq (the peer in a single chat, members in a group). */
  reads: Record<string, Record<string, number>>;
  activeId: string | null;
  notice: { text: string; kind: 'error' | 'info' } | null;
}

const TOKEN_KEY = 'easy-chat.token';
const PAGE = 30;

const initialState: State = {
  connection: 'idle',
  wasOnline: false,
  me: null,
  users: {},
  friends: [],
  online: {},
  friendRequests: [],
  groups: [],
  groupRequests: {},
  members: {},
  conversations: {},
  messages: {},
  history: {},
  reads: {},
  activeId: null,
  notice: null,
};

function toChatMessage(m: Message): ChatMessage {
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
      pending.splice(own, 1);
    }
    if (!bySeq.has(m.seq)) bySeq.set(m.seq, stored);
  }
  const sorted = [...bySeq.values()].sort((a, b) => a.seq! - b.seq!);
  return [...sorted, ...pending];
}

/**
 * The app's state and actions around one SDK client. Components read it with
 * useSyncExternalStore; every change replaces the state object.
 */
export class Store {
  private state: State = initialState;
  private readonly listeners = new Set<() => void>();
  private client: ChatClient | null = null;
  private onlineTimer: ReturnType<typeof setInterval> | undefined;
  private readonly lookingUp = new Set<string>();
  private watchingVisibility = false;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): State => this.state;

  private set(patch: Partial<State> | ((s: State) => Partial<State>)): void {
    const next = typeof patch === 'function' ? patch(this.state) : patch;
    this.state = { ...this.state, ...next };
    for (const listener of this.listeners) listener();
  }

  get api() {
    if (!this.client) throw new Error('not logged in');
    return this.client.api;
  }

  // --- session ------------------------------------------------------------------

  /** Resumes a session saved in this browser, if any. */
  async resume(): Promise<void> {
    const token = localStorage.getItem(TOKEN_KEY);
    if (token) await this.start(token);
  }

  async login(phone: string, password: string): Promise<void> {
    const client = this.newClient(null);
    const { token } = await client.api.login({ phone, password });
    await this.start(token);
  }

  async register(phone: string, password: string, nickname: string): Promise<void> {
    const client = this.newClient(null);
    const { token } = await client.api.register({ phone, password, nickname });
    await this.start(token);
  }

  async logout(): Promise<void> {
    try {
      await this.client?.api.logout();
    } catch {
      // the token may already be gone
    }
    this.stop();
  }

  private stop(): void {
    localStorage.removeItem(TOKEN_KEY);
    this.client?.disconnect();
    this.client = null;
    clearInterval(this.onlineTimer);
    this.state = initialState;
    for (const listener of this.listeners) listener();
  }

  private newClient(token: string | null): ChatClient {
    return new ChatClient({ baseUrl: '', token });
  }

  private async start(token: string): Promise<void> {
    this.client?.disconnect();
    const client = this.newClient(token);
    this.client = client;
    client.on('authError', () => {
      if (this.client !== client) return;
      this.stop();
      this.set({ notice: { text: 'Your session ended. Please log in again.', kind: 'info' } });
    });
    let me: UserInfo;
    try {
      me = await client.api.me();
    } catch (err) {
      if (err instanceof ApiError && err.isUnauthorized) return; // authError handled it
      throw err;
    }
    localStorage.setItem(TOKEN_KEY, token);
    this.set({ me, users: { [me.id]: { nickname: me.nickname, avatar: me.avatar } } });
    client.on('state', ({ state }) => {
      this.set((s) => ({
        connection: state,
        wasOnline: s.wasOnline || state === 'online',
      }));
      if (state === 'online') void this.refreshOnline();
    });
    client.on('conversations', (list) => this.onConversations(list));
    client.on('message', ({ message, source }) => this.onMessage(message, source));
    client.on('readReceipt', (receipt) => this.onReceipt(receipt));
    client.on('conversationUpdated', (state) => this.onConversationUpdated(state));
    client.on('error', (err) => console.warn('easy-chat:', err));
    // Social pushes (friend.request, group.member.joined, …): reload what they changed.
    client.on('serverEvent', (frame) => {
      if (frame.method?.startsWith('friend.')) {
        void this.refreshFriends().catch((e: unknown) => this.fail(e));
        void this.refreshOnline();
      }
      if (frame.method?.startsWith('group.'))
        void this.refreshGroups().catch((e: unknown) => this.fail(e));
    });
    // Friends coming and going are pushed (user.presence).
    client.on('presence', ({ userId, online }) =>
      this.set((s) => {
        const next = { ...s.online };
        if (online) next[userId] = true;
        else delete next[userId];
        return { online: next };
      }),
    );
    // The push misses a friend whose gateway crashed (offline when its heartbeat
    // expires, with nobody to announce it): re-read now and then.
    this.onlineTimer = setInterval(() => void this.refreshOnline(), 60_000);
    if (!this.watchingVisibility) {
      this.watchingVisibility = true;
      document.addEventListener('visibilitychange', () => this.markActiveRead());
    }
    void this.refreshSocial();
    client.connect().catch(() => undefined);
  }

  // --- live events ----------------------------------------------------------------

  private onConversations(list: Record<string, Conversation>): void {
    this.set({ conversations: list });
    this.lookup(Object.values(list).map((c) => (c.chatType === ChatType.single ? c.targetId : '')));
    // Missed messages of the open conversation are re-read from history on reconnect
    // only if it was never loaded; otherwise the sync fills them in.
    this.markActiveRead();
  }

  private onMessage(message: Message, source: 'push' | 'sync' | 'send'): void {
    const id = message.conversationId;
    const mine = message.sendId === this.state.me?.id;
    const seen = this.state.activeId === id && document.visibilityState === 'visible';
    this.set((s) => {
      const known = s.conversations[id];
      const conversation: Conversation = known
        ? {
            ...known,
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
          }
        : {
            conversationId: id,
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
            mentioned: false,
            clearSeq: 0,
            msg: message,
          };
      return {
        conversations: { ...s.conversations, [id]: conversation },
        messages: { ...s.messages, [id]: mergeMessages(s.messages[id] ?? [], [message]) },
      };
    });
    if (!this.state.users[message.sendId]) this.lookup([message.sendId]);
    if (message.chatType === ChatType.group && !this.state.groups.some((g) => g.id === id)) {
      void this.refreshGroups();
    }
    if (source !== 'send' && this.state.activeId === id) this.markActiveRead();
  }

  /** My read position or visibility changed on another device (or by sending there). */
  private onConversationUpdated(state: ConversationState): void {
    this.set((s) => {
      const conversation = s.conversations[state.conversationId];
      if (!conversation) return {};
      const readSeq = Math.max(conversation.readSeq, state.readSeq);
      return {
        conversations: {
          ...s.conversations,
          [state.conversationId]: {
            ...conversation,
            isShow: state.isShow,
            readSeq,
            unread: readSeq >= conversation.maxSeq ? 0 : conversation.unread,
          },
        },
      };
    });
  }

  private onReceipt(receipt: ReadReceipt): void {
    const id = receipt.conversationId;
    const me = this.state.me?.id;
    const reads = receipt.reads ?? { [receipt.sendId]: receipt.readSeq };
    this.set((s) => {
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

  // --- chats ------------------------------------------------------------------------

  async open(conversationId: string | null): Promise<void> {
    this.set({ activeId: conversationId });
    if (!conversationId) return;
    if (!this.state.history[conversationId]?.loaded) await this.loadOlder(conversationId);
    this.markActiveRead();
    void this.loadReads(conversationId);
    const conversation = this.state.conversations[conversationId];
    if (conversation?.chatType === ChatType.group) void this.loadMembers(conversationId);
  }

  /** Loads the page of history before the oldest message held (the newest page first). */
  async loadOlder(conversationId: string): Promise<void> {
    const history = this.state.history[conversationId];
    if (history?.loading || history?.exhausted) return;
    this.setHistory(conversationId, { loading: true });
    try {
      const held = (this.state.messages[conversationId] ?? []).filter((m) => m.seq !== undefined);
      const oldest = history?.loaded ? held[0]?.seq : undefined;
      if (oldest === 1) {
        this.setHistory(conversationId, { loading: false, exhausted: true, loaded: true });
        return;
      }
      const page = await this.api.chatLog({
        conversationId,
        count: PAGE,
        ...(oldest !== undefined ? { endSeq: oldest - 1 } : {}),
      });
      this.lookup(page.map((m) => m.sendId));
      this.set((s) => ({
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
      this.fail(err);
    }
  }

  private setHistory(id: string, patch: Partial<HistoryState>): void {
    this.set((s) => ({
      history: {
        ...s.history,
        [id]: { loading: false, exhausted: false, loaded: false, ...s.history[id], ...patch },
      },
    }));
  }

  /** Sends a message: it shows at once as "sending", then "sent" or "failed" (with retry). */
  async send(conversationId: string, content: string, retryKey?: string): Promise<void> {
    const conversation = this.state.conversations[conversationId];
    const me = this.state.me;
    if (!conversation || !me || !this.client) return;
    const existing = retryKey
      ? this.state.messages[conversationId]?.find((m) => m.key === retryKey)
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
        };
    this.set((s) => ({
      messages: {
        ...s.messages,
        [conversationId]: [
          ...(s.messages[conversationId] ?? []).filter((m) => m.key !== pending.key),
          pending,
        ],
      },
    }));
    try {
      await this.client.send({
        chatType: conversation.chatType === ChatType.group ? 1 : 2,
        recvId: conversation.targetId,
        conversationId,
        content: pending.content,
        clientMsgId,
      });
      // The 'message' event (source 'send') has replaced the pending entry.
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      this.set((s) => ({
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

  /** Marks the open conversation read when the page is visible. */
  markActiveRead(): void {
    const id = this.state.activeId;
    const conversation = id ? this.state.conversations[id] : undefined;
    if (!id || !conversation || !this.client || document.visibilityState !== 'visible') return;
    if (conversation.readSeq >= conversation.maxSeq && conversation.unread === 0) return;
    const readSeq = conversation.maxSeq;
    this.set((s) => ({
      conversations: {
        ...s.conversations,
        [id]: { ...conversation, readSeq: Math.max(conversation.readSeq, readSeq), unread: 0 },
      },
    }));
    this.client.markRead(id, readSeq).catch((err: unknown) => console.warn('markRead', err));
  }

  /** Who has read my latest message (the starting point before receipts arrive). */
  private async loadReads(conversationId: string): Promise<void> {
    const me = this.state.me?.id;
    const mine = [...(this.state.messages[conversationId] ?? [])]
      .reverse()
      .find((m) => m.sendId === me && m.msgId && m.seq !== undefined);
    if (!mine?.msgId || mine.seq === undefined) return;
    try {
      const records = await this.api.readRecords(mine.msgId);
      const seq = mine.seq;
      this.set((s) => {
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
      const id = await this.api.setupConversation({ recvId: userId, chatType: 2 });
      await this.ensureConversation(id);
      await this.open(id);
    } catch (err) {
      this.fail(err);
    }
  }

  async openGroup(groupId: string): Promise<void> {
    await this.ensureConversation(groupId);
    await this.open(groupId);
  }

  private async ensureConversation(id: string): Promise<void> {
    if (this.state.conversations[id]) return;
    const list = await this.api.conversations();
    this.set((s) => ({ conversations: { ...s.conversations, ...list } }));
  }

  // --- people and groups ---------------------------------------------------------

  async refreshSocial(): Promise<void> {
    await Promise.all([this.refreshFriends(), this.refreshGroups()]).catch((err: unknown) =>
      this.fail(err),
    );
  }

  async refreshFriends(): Promise<void> {
    const [friends, friendRequests] = await Promise.all([
      this.api.friends(),
      this.api.friendRequests(),
    ]);
    const users = { ...this.state.users };
    for (const f of friends) users[f.friendUid] = { nickname: f.nickname, avatar: f.avatar };
    this.set({ friends, friendRequests, users });
    this.lookup(friendRequests.map((r) => r.reqUid));
    await this.refreshOnline();
  }

  async refreshGroups(): Promise<void> {
    const groups = await this.api.groups();
    this.set({ groups });
    const me = this.state.me?.id;
    const managed = groups.filter((g) => g.creatorUid === me || g.isVerify);
    const requests = await Promise.all(
      managed.map((g) => this.api.groupRequests(g.id).catch(() => [] as GroupRequest[])),
    );
    const groupRequests: Record<string, GroupRequest[]> = {};
    managed.forEach((g, i) => (groupRequests[g.id] = requests[i]!));
    this.set({ groupRequests });
    this.lookup(requests.flat().map((r) => r.reqId));
  }

  async refreshOnline(): Promise<void> {
    if (!this.client) return;
    try {
      this.set({ online: await this.client.onlineFriends() });
    } catch {
      // next round
    }
  }

  async loadMembers(groupId: string): Promise<void> {
    try {
      const members: GroupMember[] = [];
      let cursor: string | undefined;
      do {
        const page = await this.api.members({ groupId, ...(cursor ? { cursor } : {}) });
        members.push(...page.list);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      const users = { ...this.state.users };
      for (const m of members) users[m.userId] = { nickname: m.nickname, avatar: m.avatar };
      this.set((s) => ({ members: { ...s.members, [groupId]: members }, users }));
    } catch (err) {
      this.fail(err);
    }
  }

  /** Runs an action, shows its error, and refreshes what it changed. */
  async act(action: () => Promise<unknown>, success?: string): Promise<boolean> {
    try {
      await action();
      if (success) this.set({ notice: { text: success, kind: 'info' } });
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  dismissNotice(): void {
    this.set({ notice: null });
  }

  async updateProfile(input: { nickname?: string; avatar?: string; sex?: number }): Promise<void> {
    const info = await this.api.updateMe(input);
    this.set((s) => ({ me: info, users: { ...s.users, [info.id]: info } }));
  }

  fail(err: unknown): void {
    const text =
      err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err);
    this.set({ notice: { text, kind: 'error' } });
  }

  /** Fetches nicknames of users not known yet. */
  private lookup(ids: string[]): void {
    const missing = [...new Set(ids)].filter(
      (id) => id && !this.state.users[id] && !this.lookingUp.has(id),
    );
    if (missing.length === 0 || !this.client) return;
    for (const id of missing) this.lookingUp.add(id);
    this.api
      .findUsers({ ids: missing.join(',') })
      .then((list) => {
        const users = { ...this.state.users };
        for (const u of list) users[u.id] = { nickname: u.nickname, avatar: u.avatar };
        this.set({ users });
      })
      .catch(() => undefined)
      .finally(() => missing.forEach((id) => this.lookingUp.delete(id)));
  }

  /** Display name of a conversation. */
  titleOf(conversation: Conversation): string {
    if (conversation.chatType === ChatType.group) {
      return this.state.groups.find((g) => g.id === conversation.targetId)?.name ?? 'Group';
    }
    return this.state.users[conversation.targetId]?.nickname ?? '…';
  }
}

export const store = new Store();
