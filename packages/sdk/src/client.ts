import type { BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { ApiError, DisconnectedError, isTransient, TimeoutError } from './errors.js';
import { messageTypeFor } from './file-message.js';
import { RestClient, type FetchLike } from './rest.js';
import { ChatSocket, type SocketStateChange, type WebSocketConstructor } from './socket.js';
import { SeqTracker } from './tracker.js';
import {
  ContentType,
  type Conversation,
  type ConversationState,
  type Frame,
  type Message,
  type ReadReceipt,
  SOCIAL_PUSH_METHODS,
  type SocialPushMap,
  type SocialPushMethod,
  type TypingPush,
  type UploadedFile,
} from './types.js';
import type { UploadBody, UploadOptions } from './upload.js';

/** How long a typing notice holds without a repeat (the server relays at most one per second per socket). */
export const TYPING_TTL_MS = 6_000;

export type ConnectionState =
  /** Not started, or stopped by disconnect(). */
  | 'idle'
  /** Opening the socket and authenticating. */
  | 'connecting'
  /** Connected; catching up on what was missed. */
  | 'syncing'
  /** Connected and caught up. */
  | 'online'
  /** The connection was lost; waiting before the next attempt. */
  | 'reconnecting'
  /** Stopped by the server: token refused (4001), account disabled (4003) or replaced (4009). */
  | 'stopped';

export interface ConnectionStateChange {
  state: ConnectionState;
  /** For 'reconnecting': the attempt number and the wait before it. */
  attempt?: number;
  delayMs?: number;
  /** The close code and reason of the socket that was lost. */
  code?: number;
  reason?: string;
}

export interface MessageEvent {
  message: Message;
  /** How it arrived: a live push, the catch-up sync, or the answer to this client's send. */
  source: 'push' | 'sync' | 'send';
}

export interface MessageChangeEvent {
  /** The message's current state (recalled, edited, reactions); apply it if newer (`modSeq`). */
  message: Message;
  /** A live push (contentType 2), a catch-up sync, or the answer to this client's own change. */
  source: 'push' | 'sync' | 'answer';
}

export interface PresenceChange {
  userId: string;
  online: boolean;
}

const SOCIAL_PUSHES: ReadonlySet<string> = new Set(SOCIAL_PUSH_METHODS);
const isSocialPush = (method: string | undefined): method is SocialPushMethod =>
  method !== undefined && SOCIAL_PUSHES.has(method);

/**
 * The client's events: one per kind of push (chat messages, changes, receipts,
 * typing, presence, conversation state, and each friend and group push under its
 * method name), plus connection state and errors.
 */
export interface ChatClientEvents extends SocialPushMap, Record<string, unknown> {
  /** A chat message, exactly once per (conversationId, seq), in seq order per conversation. */
  message: MessageEvent;
  /**
   * A message changed after it was sent. Comes for messages already delivered as
   * `message` (or older ones in history): keep the state with the highest modSeq.
   */
  messageChanged: MessageChangeEvent;
  /** Someone is typing (or stopped) in a conversation; expire it after TYPING_TTL_MS. */
  typing: TypingPush;
  /** Someone read a conversation (contentType 1 push). */
  readReceipt: ReadReceipt;
  /** My own state of a conversation changed on another device (`conversation.updated`). */
  conversationUpdated: ConversationState;
  /** The conversation list, fetched on every (re)connect before the catch-up sync. */
  conversations: Record<string, Conversation>;
  state: ConnectionStateChange;
  /** The token was refused (HTTP 401 or close 4001): log in again. */
  authError: ApiError;
  /** A friend came online or went offline (`user.presence` push). */
  presence: PresenceChange;
  /**
   * A push this SDK does not know (a newer server's). Every known push has its own
   * event above; this is never emitted for them.
   */
  serverEvent: Frame;
  /** A background failure (a catch-up sync that failed); the client keeps going. */
  error: unknown;
}

export interface ChatClientOptions {
  /** The server, e.g. `http://localhost:8080`; '' in a browser means the page's origin. */
  baseUrl: string;
  token?: string | null;
  /** Required in Node 20 (pass `ws`'s default export); browsers and Node 22 have a global one. */
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  /** The gateway path; default /ws. */
  wsPath?: string;
  /** Answer timeout of one socket request; default 10 s. */
  requestTimeoutMs?: number;
  /** How long send() keeps retrying (same clientMsgId) before it rejects; default 60 s. */
  sendTimeoutMs?: number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  connectTimeoutMs?: number;
  reconnect?: BackoffOptions;
  /**
   * Where to resume: conversationId → last seq held (e.g. saved from `cursors()`).
   * Without cursors, the conversations of the first list start at their maxSeq
   * (earlier messages are history, loaded with `api.chatLog`); a conversation first
   * listed later (or not in the cursors given) is delivered from its beginning (its
   * join or last clear), read and own messages included.
   */
  cursors?: Record<string, number>;
  random?: () => number;
}

export interface SendInput {
  chatType: 1 | 2;
  /** The peer (single chat) or the group id. */
  recvId: string;
  content: string;
  /** 0 text (default), 1 image, 2 file, 3 custom, 4 voice, 5 video (for these, see sendFile). */
  mType?: number;
  conversationId?: string;
  /** Reuse the id of a failed send to retry it without a duplicate; generated if absent. */
  clientMsgId?: string;
  /** The msgId this message answers (same conversation). */
  replyTo?: string;
  /** Group members to mention. */
  atUserIds?: string[];
  /** Mention everyone (group creator and managers). */
  atAll?: boolean;
}

export interface SendFileInput extends Omit<SendInput, 'content' | 'mType'>, UploadOptions {
  /** A Blob or File (in Node: `await fs.openAsBlob(path)`), or bytes. */
  file: UploadBody;
  /** 1 image, 2 file, 4 voice, 5 video; default from the sniffed type (image, video, else file). */
  mType?: number;
  /** Voice and video: the length in milliseconds, as the recorder measured it. */
  duration?: number;
}

interface OpenWaiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Conversations per sync request (the server allows im.syncMaxConversations, 500 by default). */
const SYNC_CHUNK = 100;

/**
 * The easy-chat client: the REST API (`api`) plus a realtime connection that
 * keeps itself up and consistent.
 *
 * - On every (re)connect it waits until the socket is authenticated (subscribed to
 *   pushes), then fetches the conversation list and syncs each conversation from
 *   the last contiguous seq it holds, page by page. Pushes that arrive meanwhile are
 *   de-duplicated by (conversationId, seq).
 * - A push that skips a seq is held and the conversation is synced; `message`
 *   events come exactly once per seq and in seq order per conversation.
 * - When the server says pushes may have been missed (`session.resync`), it
 *   catches up as after a reconnect.
 * - `send` stamps a clientMsgId and retries with the same id across timeouts and
 *   reconnects, so a message is stored once however often it is sent.
 */
export class ChatClient extends Emitter<ChatClientEvents> {
  readonly api: RestClient;
  readonly socket: ChatSocket;
  private readonly tracker = new SeqTracker();
  /** Per conversation, the modSeq the last sync brought this client to (changes before it are known). */
  private readonly modSeqs = new Map<string, number>();
  private readonly sendTimeoutMs: number;
  private stateValue: ConnectionStateChange = { state: 'idle' };
  private readonly openWaiters = new Set<OpenWaiter>();
  private syncChain: Promise<void> = Promise.resolve();
  private readonly syncWanted = new Set<string>();
  private syncScheduled = false;
  /** Whether a conversation list was ever seen (or cursors were given to resume from). */
  private listed: boolean;
  /**
   * Messages of conversations not tracked yet that arrive while a catch-up waits for the
   * conversation list: where such a conversation starts is only known from the list.
   */
  private early: { generation: number; messages: MessageEvent[] } | undefined;
  /** The catch-up running (after an open, or a resync the server asked for). */
  private catchingUp: Promise<void> = Promise.resolve();

  constructor(options: ChatClientOptions) {
    super();
    this.api = new RestClient({
      baseUrl: options.baseUrl,
      token: options.token ?? null,
      fetch: options.fetch,
      onUnauthorized: (err) => this.emit('authError', err),
    });
    const WebSocketImpl =
      options.WebSocket ??
      (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ??
      undefined;
    if (!WebSocketImpl) {
      throw new Error(
        "easy-chat sdk: no global WebSocket; pass options.WebSocket (e.g. import WebSocket from 'ws')",
      );
    }
    this.socket = new ChatSocket({
      url: websocketUrl(options.baseUrl, options.wsPath ?? '/ws'),
      token: () => this.api.token,
      WebSocket: WebSocketImpl,
      ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.pingIntervalMs ? { pingIntervalMs: options.pingIntervalMs } : {}),
      ...(options.pongTimeoutMs ? { pongTimeoutMs: options.pongTimeoutMs } : {}),
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.reconnect ? { reconnect: options.reconnect } : {}),
      ...(options.random ? { random: options.random } : {}),
    });
    this.sendTimeoutMs = options.sendTimeoutMs ?? 60_000;
    for (const [id, seq] of Object.entries(options.cursors ?? {})) this.tracker.start(id, seq);
    this.listed = options.cursors !== undefined;

    this.socket.on('state', (change) => this.onSocketState(change));
    this.socket.on('open', ({ generation }) => {
      for (const waiter of [...this.openWaiters]) {
        this.openWaiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve();
      }
      this.early = { generation, messages: [] };
      this.catchingUp = this.catchUp(generation);
    });
    this.socket.on('frame', (frame) => this.onFrame(frame));
    this.socket.on('authError', (err) => {
      this.failWaiters(err);
      this.emit('authError', err);
    });
  }

  get state(): ConnectionState {
    return this.stateValue.state;
  }

  get token(): string | null {
    return this.api.token;
  }

  set token(token: string | null) {
    this.api.token = token;
  }

  /**
   * Connects (and keeps reconnecting) until disconnect(). Resolves once the socket
   * is authenticated; rejects if the token is refused.
   */
  connect(timeoutMs = 30_000): Promise<void> {
    const opened = this.whenOpen(Date.now() + timeoutMs);
    this.socket.connect();
    return opened;
  }

  /** Closes the connection and stops reconnecting; pending sends fail. */
  disconnect(): void {
    this.socket.close();
    this.failWaiters(new DisconnectedError('disconnected'));
    this.setState({ state: 'idle' });
  }

  /** Where this client is, per conversation: the last contiguous seq delivered. */
  cursors(): Record<string, number> {
    return this.tracker.snapshot();
  }

  /**
   * Sends a chat message; resolves with the stored message (msgId, seq, sendTime).
   * Retries with the same clientMsgId after timeouts, transient errors and
   * reconnects until `sendTimeoutMs`; other errors (not friends, not a member …)
   * reject at once. To retry a failed send later, call again with its clientMsgId.
   */
  async send(input: SendInput): Promise<Message> {
    const clientMsgId = input.clientMsgId ?? newClientMsgId();
    const data = {
      chatType: input.chatType,
      recvId: input.recvId,
      clientMsgId,
      msg: { mType: input.mType ?? 0, content: input.content },
      ...(input.conversationId ? { conversationId: input.conversationId } : {}),
      ...(input.replyTo ? { replyTo: input.replyTo } : {}),
      ...(input.atUserIds?.length ? { atUserIds: input.atUserIds } : {}),
      ...(input.atAll ? { atAll: true } : {}),
    };
    const deadline = Date.now() + this.sendTimeoutMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.whenOpen(deadline);
        const remaining = Math.max(1, deadline - Date.now());
        const message = await this.socket.request(
          'conversation.chat',
          data,
          Math.min(remaining, this.socket.requestTimeoutMs),
        );
        this.receive(message, 'send');
        return message;
      } catch (err) {
        if (!isTransient(err) || Date.now() >= deadline || this.isStopped()) throw err;
        // A busy server, or a socket closing under us: wait a little (letting its close
        // event run) before the same send again.
        const pause = err instanceof ApiError ? 200 * 2 ** attempt : 20;
        await sleep(Math.min(pause, 5_000, Math.max(0, deadline - Date.now())));
      }
    }
  }

  /**
   * Uploads a file and sends it as a message (image, file, voice or video). The
   * upload happens once; the send then retries like `send` (same clientMsgId). The
   * server fills in the stored name, size, type and dimensions; `file` has the
   * signed links for showing it at once. A failed send can be retried with
   * `send({mType, content: JSON.stringify({fileId}), clientMsgId})`.
   */
  async sendFile(input: SendFileInput): Promise<{ file: UploadedFile; message: Message }> {
    const { file: body, name, onProgress, signal, stallTimeoutMs, duration, ...rest } = input;
    const file = await this.api.uploadFile(body, { name, onProgress, signal, stallTimeoutMs });
    const content = JSON.stringify({
      fileId: file.fileId,
      ...(duration !== undefined ? { duration } : {}),
    });
    const message = await this.send({
      ...rest,
      mType: input.mType ?? messageTypeFor(file.mime),
      content,
    });
    return { file, message };
  }

  /** Marks a conversation read up to `readSeq`; resolves with the read position in effect. */
  async markRead(conversationId: string, readSeq: number): Promise<number> {
    if (this.socket.isOpen) {
      try {
        const answer = await this.socket.request('conversation.markChat', {
          conversationId,
          readSeq,
        });
        return answer.readSeq;
      } catch (err) {
        if (!(err instanceof DisconnectedError || err instanceof TimeoutError)) throw err;
      }
    }
    await this.api.updateConversations({ conversationList: { [conversationId]: { readSeq } } });
    return readSeq;
  }

  /** Recalls a message for everyone; resolves with its placeholder (also emitted as `messageChanged`). */
  async revoke(conversationId: string, msgId: string): Promise<Message> {
    const message = await this.socket.request('message.revoke', { conversationId, msgId });
    this.changed(message, 'answer');
    return message;
  }

  /** Replaces the text of my own text message. */
  async edit(conversationId: string, msgId: string, content: string): Promise<Message> {
    const message = await this.socket.request('message.edit', { conversationId, msgId, content });
    this.changed(message, 'answer');
    return message;
  }

  /**
   * Adds or removes my reaction; resolves with the message's reactions. The changed
   * message also comes as a `messageChanged` push, to this device too.
   */
  async react(
    conversationId: string,
    msgId: string,
    emoji: string,
    add = true,
  ): Promise<Record<string, string[]>> {
    return (await this.socket.request('message.react', { conversationId, msgId, emoji, add }))
      .reactions;
  }

  /** Deletes messages for me only (my other devices keep them until they reload history). */
  async deleteForMe(conversationId: string, msgIds: string[]): Promise<void> {
    await this.socket.request('message.delete', { conversationId, msgIds });
  }

  /** Clears a conversation for me only; resolves with the new floor (history starts after it). */
  async clearConversation(conversationId: string): Promise<number> {
    return (await this.socket.request('conversation.clear', { conversationId })).clearSeq;
  }

  /**
   * Tells the others I am typing (repeat every few seconds while typing) or stopped.
   * Best effort: a refused or failed notice is ignored.
   */
  async typing(conversationId: string, typing: boolean): Promise<void> {
    if (!this.socket.isOpen) return;
    await this.socket.request('conversation.typing', { conversationId, typing }).catch(() => {});
  }

  /** Friends with a live connection, over the socket when it is open. */
  async onlineFriends(): Promise<Record<string, boolean>> {
    if (this.socket.isOpen) {
      try {
        return (await this.socket.request('user.online', {})).onlineList;
      } catch (err) {
        if (!(err instanceof DisconnectedError || err instanceof TimeoutError)) throw err;
      }
    }
    return this.api.onlineFriends();
  }

  /**
   * Syncs conversations from their last contiguous seq (all known ones by default).
   * The client does this by itself after reconnects and gaps.
   */
  sync(conversationIds: string[] = this.tracker.ids()): Promise<void> {
    for (const id of conversationIds) this.syncWanted.add(id);
    if (!this.syncScheduled) {
      this.syncScheduled = true;
      this.syncChain = this.syncChain.then(async () => {
        this.syncScheduled = false;
        const ids = [...this.syncWanted];
        this.syncWanted.clear();
        try {
          await this.syncNow(ids);
        } catch (err) {
          if (!(err instanceof DisconnectedError)) this.emit('error', err);
        }
      });
    }
    return this.syncChain;
  }

  // --- internals ----------------------------------------------------------------

  private async catchUp(generation: number): Promise<void> {
    this.setState({ state: 'syncing' });
    try {
      const list = await this.api.conversations();
      const early = this.early?.generation === generation ? this.early.messages : [];
      if (this.early?.generation === generation) this.early = undefined;
      const firstEarly = new Map<string, number>();
      for (const { message } of early) {
        const id = message.conversationId;
        firstEarly.set(id, Math.min(firstEarly.get(id) ?? Infinity, message.seq));
      }
      // New to this client: on the first list its messages are history (start at maxSeq);
      // later it appeared while we were away, so all of it is delivered (the server starts
      // at the join or last clear). Not from readSeq: messages this user sent or read on
      // another device, or a send whose answer is still on its way, would be skipped.
      for (const [id, view] of Object.entries(list)) {
        const start = this.listed ? 0 : view.maxSeq;
        this.tracker.start(id, Math.min(start, (firstEarly.get(id) ?? Infinity) - 1));
      }
      this.listed = true;
      this.emit('conversations', list);
      for (const { message, source } of early) this.receive(message, source);
      if (!this.isCurrent(generation)) return;
      await this.sync();
      if (this.isCurrent(generation)) this.setState({ state: 'online' });
    } catch (err) {
      if (this.early?.generation === generation) {
        const { messages } = this.early;
        this.early = undefined;
        for (const { message, source } of messages) this.receive(message, source);
      }
      if (!this.isCurrent(generation)) return;
      if (err instanceof ApiError && err.isUnauthorized) return; // authError already emitted
      this.emit('error', err);
      // Still connected: pushes flow; say online so the app does not wait forever.
      this.setState({ state: 'online' });
    }
  }

  private isCurrent(generation: number): boolean {
    return this.socket.isOpen && this.socket.currentGeneration === generation;
  }

  private async syncNow(ids: string[]): Promise<void> {
    let remaining = ids.filter((id) => this.tracker.has(id));
    while (remaining.length > 0 && this.socket.isOpen) {
      const next: string[] = [];
      for (let i = 0; i < remaining.length; i += SYNC_CHUNK) {
        const chunk = remaining.slice(i, i + SYNC_CHUNK);
        const request = Object.fromEntries(
          chunk.map((id) => [
            id,
            { seq: this.tracker.contiguous(id), modSeq: this.modSeqs.get(id) ?? 0 },
          ]),
        );
        const answer = await this.socket.request('conversation.sync', { conversations: request });
        for (const [id, page] of Object.entries(answer.conversations)) {
          if (page.error) {
            // No longer readable (left the group, dismissed): stop tracking it.
            this.tracker.forget(id);
            this.modSeqs.delete(id);
            continue;
          }
          for (const message of page.changes ?? []) this.changed(message, 'sync');
          for (const message of page.messages) {
            this.deliver(this.tracker.accept({ ...message, conversationId: id }), 'sync');
            // Already delivered by a push in an older state: the synced one is current.
            if (message.modSeq > 0) this.changed(message, 'sync');
          }
          if (page.maxModSeq !== undefined) {
            this.modSeqs.set(id, Math.max(this.modSeqs.get(id) ?? 0, page.maxModSeq));
          }
          if (page.hasMore && (page.messages.length > 0 || (page.changes ?? []).length > 0)) {
            next.push(id);
          } else this.deliver(this.tracker.release(id), 'sync');
        }
      }
      remaining = next;
    }
  }

  /**
   * The server could not route pushes for a while (a Redis outage, say) and says
   * some may be missing: catch up exactly as after a reconnect, once any catch-up
   * already running is done.
   */
  private resync(): void {
    const generation = this.socket.currentGeneration;
    this.catchingUp = this.catchingUp.then(() => {
      if (!this.isCurrent(generation)) return;
      this.early = { generation, messages: [] };
      return this.catchUp(generation);
    });
  }

  private onFrame(frame: Frame): void {
    if (frame.method === 'session.resync') {
      this.resync();
      return;
    }
    if (frame.method === 'user.presence') {
      this.emit('presence', frame.data as PresenceChange);
      return;
    }
    if (frame.method === 'conversation.updated') {
      this.emit('conversationUpdated', frame.data as ConversationState);
      return;
    }
    if (frame.method === 'conversation.typing') {
      this.emit('typing', frame.data as TypingPush);
      return;
    }
    if (isSocialPush(frame.method)) {
      this.emit(frame.method, frame.data as SocialPushMap[typeof frame.method]);
      return;
    }
    if (frame.method !== 'push') {
      this.emit('serverEvent', frame);
      return;
    }
    const data = frame.data as { contentType?: number } | undefined;
    if (data?.contentType === ContentType.readReceipt) {
      const { contentType: _contentType, ...receipt } = data as ReadReceipt & {
        contentType: number;
      };
      this.emit('readReceipt', receipt);
      return;
    }
    if (data?.contentType === ContentType.change) {
      const { contentType: _contentType, ...message } = data as Message & { contentType: number };
      this.changed(message, 'push');
      return;
    }
    if (data?.contentType !== ContentType.chat) {
      this.emit('serverEvent', frame);
      return;
    }
    const { contentType: _contentType, ...message } = data as Message & { contentType: number };
    this.receive(message, 'push');
  }

  /** A pushed message or a send's answer: delivered in order, held behind a gap, or kept until the list says where its conversation starts. */
  private receive(message: Message, source: MessageEvent['source']): void {
    const id = message.conversationId;
    const known = this.tracker.has(id);
    if (!known && this.early) {
      this.early.messages.push({ message, source });
      return;
    }
    // A conversation that appeared after the list (a group joined, a new chat) is
    // read from its start, which the server puts at the join: a push that overtook
    // an earlier one (a join notice comes from the worker, chat from the API) leaves
    // a gap that the sync fills, instead of the earlier message counting as history.
    if (!known) this.tracker.start(id, 0);
    this.deliver(this.tracker.accept(message), source);
    if (this.tracker.hasGap(id)) void this.sync([id]);
  }

  /** A changed message: a copy held behind a gap takes the new state too. */
  private changed(message: Message, source: MessageChangeEvent['source']): void {
    this.tracker.update(message);
    this.emit('messageChanged', { message, source });
  }

  private deliver(messages: Message[], source: MessageEvent['source']): void {
    for (const message of messages) this.emit('message', { message, source });
  }

  private onSocketState(change: SocketStateChange): void {
    const { state, ...details } = change;
    if (state === 'connecting') this.setState({ state: 'connecting' });
    else if (state === 'reconnecting') this.setState({ ...details, state: 'reconnecting' });
    else if (state === 'closed' && change.code !== 1000) {
      this.failWaiters(new DisconnectedError(`stopped by the server (${change.code})`));
      this.setState({ ...details, state: 'stopped' });
    }
    // 'open' becomes 'syncing' then 'online' in catchUp.
  }

  private isStopped(): boolean {
    return this.stateValue.state === 'stopped' || this.stateValue.state === 'idle';
  }

  private whenOpen(deadline: number): Promise<void> {
    if (this.socket.isOpen) return Promise.resolve();
    if (this.stateValue.state === 'stopped') {
      return Promise.reject(new DisconnectedError('connection stopped'));
    }
    return new Promise((resolve, reject) => {
      const waiter: OpenWaiter = {
        resolve,
        reject,
        timer: setTimeout(
          () => {
            this.openWaiters.delete(waiter);
            reject(new TimeoutError('not connected in time'));
          },
          Math.max(0, deadline - Date.now()),
        ),
      };
      this.openWaiters.add(waiter);
    });
  }

  private failWaiters(err: Error): void {
    for (const waiter of [...this.openWaiters]) {
      this.openWaiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
  }

  private setState(change: ConnectionStateChange): void {
    if (change.state === this.stateValue.state && change.state !== 'reconnecting') return;
    this.stateValue = change;
    this.emit('state', change);
  }
}

/** ws(s)://host/ws from the HTTP base URL; same origin when baseUrl is ''. */
export function websocketUrl(baseUrl: string, path: string): string {
  let base = baseUrl;
  if (!base) {
    const location = (globalThis as { location?: { protocol: string; host: string } }).location;
    if (!location) throw new Error('easy-chat sdk: baseUrl is required outside a browser');
    base = `${location.protocol}//${location.host}`;
  }
  return `${base.replace(/\/+$/, '').replace(/^http/, 'ws')}${path}`;
}

/**
 * A unique client message id: a UUIDv7 (RFC 9562), the time in milliseconds first,
 * then 74 random bits. Ids that grow with time are cheap for the server to index:
 * its unique index on (clientMsgId, sender) takes each new id at its right edge, in
 * pages the messages stored with it share, instead of a page of its own per message
 * (docs/performance-log.md, "SQLite: pages per message").
 */
export function newClientMsgId(now: number = Date.now()): string {
  const bytes = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => unknown } })
    .crypto;
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < 16; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  let ms = now;
  for (let i = 5; i >= 0; i -= 1) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
