import { ApiError, SYSTEM_SENDER, type ChatClient } from '@easy-chat/sdk';
import { initialState, type State } from './state.js';

/**
 * What every part of the store shares: the state with its listeners, the SDK
 * client of the session, and the notice line. The parts (session, conversations,
 * messages, contacts) hold no state of their own beyond timers.
 */
export class StoreCore {
  private state: State = initialState;
  private readonly listeners = new Set<() => void>();
  private readonly lookingUp = new Set<string>();
  client: ChatClient | null = null;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): State => this.state;

  set(patch: Partial<State> | ((s: State) => Partial<State>)): void {
    const next = typeof patch === 'function' ? patch(this.state) : patch;
    this.state = { ...this.state, ...next };
    this.notify();
  }

  /** Back to the logged-out state. */
  reset(): void {
    this.state = initialState;
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  get api() {
    if (!this.client) throw new Error('not logged in');
    return this.client.api;
  }

  /** Runs an action, shows its error (or `success`); resolves whether it worked. */
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

  fail(err: unknown): void {
    const text =
      err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err);
    this.set({ notice: { text, kind: 'error' } });
  }

  dismissNotice(): void {
    this.set({ notice: null });
  }

  /** Fetches nicknames of users not known yet. */
  lookup(ids: string[]): void {
    const missing = [...new Set(ids)].filter(
      (id) => id && id !== SYSTEM_SENDER && !this.state.users[id] && !this.lookingUp.has(id),
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
}
