import { useEffect, useState, type FormEvent } from 'react';
import { ChatView } from './ChatView.js';
import { useAppState } from './hooks.js';
import { Sidebar } from './Sidebar.js';
import { store } from './store/index.js';

export function App() {
  const state = useAppState();
  const [resuming, setResuming] = useState(true);

  useEffect(() => {
    store.session
      .resume()
      .catch((err: unknown) => store.fail(err))
      .finally(() => setResuming(false));
  }, []);

  // The unread total in the tab title, as other chat apps do (muted chats not counted).
  const unread = Object.values(state.conversations).reduce(
    (n, c) => n + (c.muted ? 0 : c.unread),
    0,
  );
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) easy-chat` : 'easy-chat';
  }, [unread]);

  if (resuming) return <div className="splash">easy-chat</div>;
  if (!state.me) return <AuthScreen />;
  const reconnecting =
    state.wasOnline && (state.connection === 'reconnecting' || state.connection === 'connecting');
  // The banner is a row of the layout (never over the headers).
  const banner = state.browserOffline ? (
    <div className="banner" role="status" data-testid="reconnecting">
      You are offline. Messages will be sent when the network is back.
    </div>
  ) : reconnecting ? (
    <div className="banner" role="status" data-testid="reconnecting">
      Connection lost. Reconnecting…
    </div>
  ) : state.connection === 'stopped' ? (
    <div className="banner banner-error" role="status">
      Disconnected: this account was signed in on too many devices.
    </div>
  ) : null;
  return (
    <div className={`layout ${state.activeId ? 'chat-open' : ''} ${banner ? 'with-banner' : ''}`}>
      {banner}
      <Sidebar />
      <main className="main">
        {state.activeId ? (
          <ChatView conversationId={state.activeId} />
        ) : (
          <div className="empty" data-testid="no-chat">
            <h2>No chat open</h2>
            <p>Pick a conversation on the left, or find friends in Contacts and say hello.</p>
          </div>
        )}
      </main>
      <Notice />
    </div>
  );
}

function Notice() {
  const { notice } = useAppState();
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => store.dismissNotice(), 5000);
    return () => clearTimeout(timer);
  }, [notice]);
  if (!notice) return null;
  return (
    // A click anywhere on it dismisses it too (the button is for the keyboard).
    <div
      className={`notice notice-${notice.kind}`}
      role="alert"
      onClick={() => store.dismissNotice()}
    >
      {notice.text}
      <button className="notice-close" onClick={() => store.dismissNotice()} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}

function AuthScreen() {
  const { notice } = useAppState();
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [phone, setPhone] = useState('');
  const [password, setPassword] = useState('');
  const [nickname, setNickname] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'login') await store.session.login(phone.trim(), password);
      else await store.session.register(phone.trim(), password, nickname.trim());
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth">
      <form className="auth-card" onSubmit={(e) => void submit(e)} aria-labelledby="brand">
        <h1 className="brand" id="brand">
          <span className="brand-mark" /> easy-chat
        </h1>
        <div className="tabs" role="tablist" aria-label="Account">
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'login'}
            className={mode === 'login' ? 'active' : ''}
            onClick={() => setMode('login')}
          >
            Log in
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'register'}
            className={mode === 'register' ? 'active' : ''}
            onClick={() => setMode('register')}
            data-testid="register-tab"
          >
            Register
          </button>
        </div>
        <label>
          Phone
          <input
            name="phone"
            inputMode="tel"
            autoComplete="username"
            value={phone}
            onChange={(e) => setPhone(e.target.value)}
            placeholder="13800000001"
            required
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            minLength={mode === 'register' ? 8 : 1}
            required
          />
        </label>
        {mode === 'register' && (
          <label>
            Nickname
            <input
              name="nickname"
              value={nickname}
              onChange={(e) => setNickname(e.target.value)}
              maxLength={24}
              required
            />
          </label>
        )}
        {(error ?? notice?.text) && (
          <p className="form-error" role="alert">
            {error ?? notice?.text}
          </p>
        )}
        <button className="primary" type="submit" disabled={busy}>
          {mode === 'login' ? 'Log in' : 'Create account'}
        </button>
      </form>
    </main>
  );
}
