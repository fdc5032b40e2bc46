import { ApiError, ChatClient, type UserInfo } from '@easy-chat/sdk';
import type { StoreCore } from './core.js';
import { registerWebPush, type WebPushState } from './webpush.js';

const TOKEN_KEY = 'easy-chat.token';

/** A part of the store that follows the events of each session's client. */
export interface SessionPart {
  attach(client: ChatClient): void;
  detach?(): void;
}

/** Logging in and out, the saved token, and the connection state. */
export class SessionStore {
  constructor(
    private readonly core: StoreCore,
    private readonly parts: SessionPart[],
    /** The page became visible again: what is on screen is now read. */
    private readonly onVisible: () => void,
  ) {}

  private watchingPage = false;
  /** A password change is under way: its own socket's closing is expected. */
  private rotating = false;

  /** Resumes a session saved in this browser, if any. */
  async resume(): Promise<void> {
    const token = localStorage.getItem(TOKEN_KEY);
    if (token) await this.start(token);
  }

  async login(phone: string, password: string): Promise<void> {
    const { token } = await newClient(null).api.login({ phone, password });
    await this.start(token);
  }

  async register(phone: string, password: string, nickname: string): Promise<void> {
    const { token } = await newClient(null).api.register({ phone, password, nickname });
    await this.start(token);
  }

  async logout(): Promise<void> {
    try {
      await this.core.client?.api.logout();
    } catch {
      // the token may already be gone
    }
    this.stop();
    history.replaceState(null, '', `${location.pathname}${location.search}`);
  }

  /**
   * Changes my password. The server ends every other session and answers a new
   * token: this tab goes on with it (a new client, so the old token's socket,
   * which the server closes, is not mistaken for a lost session).
   */
  async changePassword(oldPassword: string, newPassword: string): Promise<void> {
    // The old token's socket may be closed before the answer is read: not a logout.
    this.rotating = true;
    try {
      const { token } = await this.core.api.changePassword({ oldPassword, newPassword });
      await this.start(token);
    } finally {
      this.rotating = false;
    }
  }

  /** Deletes my account (confirmed by my password), then back to the login screen. */
  async deleteAccount(password: string): Promise<void> {
    await this.core.api.deleteAccount(password);
    this.stop();
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    this.core.set({ notice: { text: 'Your account was deleted.', kind: 'info' } });
  }

  private stop(): void {
    localStorage.removeItem(TOKEN_KEY);
    this.core.client?.disconnect();
    this.core.client = null;
    for (const part of this.parts) part.detach?.();
    this.core.reset();
  }

  private async start(token: string): Promise<void> {
    this.core.client?.disconnect();
    const client = newClient(token);
    this.core.client = client;
    client.on('authError', () => {
      if (this.core.client !== client || this.rotating) return;
      this.stop();
      this.core.set({ notice: { text: 'Your session ended. Please log in again.', kind: 'info' } });
    });
    let me: UserInfo;
    try {
      me = await client.api.me();
    } catch (err) {
      if (err instanceof ApiError && err.isUnauthorized) return; // authError handled it
      throw err;
    }
    // Another start (or a logout) won the race while this one waited: it owns the session.
    if (this.core.client !== client) return;
    localStorage.setItem(TOKEN_KEY, token);
    this.core.set({ me, users: { [me.id]: { nickname: me.nickname, avatar: me.avatar } } });
    client.on('state', ({ state }) =>
      this.core.set((s) => ({
        connection: state,
        wasOnline: s.wasOnline || state === 'online',
      })),
    );
    client.on('error', (err) => console.warn('easy-chat:', err));
    for (const part of this.parts) part.attach(client);
    if (!this.watchingPage) {
      this.watchingPage = true;
      document.addEventListener('visibilitychange', () => this.onVisible());
      // The socket notices a dead network only when a ping goes unanswered; the
      // browser knows at once.
      window.addEventListener('offline', () => this.core.set({ browserOffline: true }));
      window.addEventListener('online', () => this.core.set({ browserOffline: false }));
    }
    this.core.set({ browserOffline: !navigator.onLine });
    client.connect().catch(() => undefined);
    // Each login registers this browser again: a registration ends with its token.
    if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
      void this.enableWebPush().catch((err: unknown) => console.warn('easy-chat: web push', err));
    }
  }

  /**
   * Subscribes this browser to the server's Web Push and registers it, so messages
   * arriving while no tab of the app is open still show (web/public/sw.js).
   */
  async enableWebPush(): Promise<WebPushState> {
    const client = this.core.client;
    if (!client) return 'denied';
    return registerWebPush(client.api);
  }
}

function newClient(token: string | null): ChatClient {
  return new ChatClient({ baseUrl: '', token });
}
