import { useState, type FormEvent } from 'react';
import { Avatar } from './Avatar.js';
import { useAppState } from './hooks.js';
import { store } from './store/index.js';
import { enableNotifications, notificationsSupported } from './store/notifications.js';

/**
 * My profile (nickname, sex, picture), desktop notifications, the people I
 * blocked, my password, logging out, and deleting the account.
 */
export function Profile() {
  const state = useAppState();
  const me = state.me!;
  const [nickname, setNickname] = useState(me.nickname);
  const [sex, setSex] = useState(me.sex);
  const [avatar, setAvatar] = useState(me.avatar);
  const [permission, setPermission] = useState(() =>
    notificationsSupported() ? Notification.permission : 'denied',
  );
  async function save(event: FormEvent) {
    event.preventDefault();
    await store.act(
      () => store.contacts.updateProfile({ nickname: nickname.trim(), sex, avatar: avatar.trim() }),
      'Profile saved',
    );
  }
  return (
    <div>
      <form className="stack-form" onSubmit={(e) => void save(e)} aria-labelledby="profile-heading">
        <h3 id="profile-heading">Profile</h3>
        <label>
          Nickname
          <input
            value={nickname}
            onChange={(e) => setNickname(e.target.value)}
            maxLength={24}
            required
          />
        </label>
        <label>
          Sex
          <select value={sex} onChange={(e) => setSex(Number(e.target.value))}>
            <option value={0}>Not saying</option>
            <option value={1}>Male</option>
            <option value={2}>Female</option>
          </select>
        </label>
        <label>
          Picture address
          <input
            type="url"
            value={avatar}
            onChange={(e) => setAvatar(e.target.value)}
            maxLength={512}
            placeholder="https://…"
            data-testid="avatar-url"
          />
        </label>
        <label>
          Phone
          <input value={me.mobile} disabled />
        </label>
        <label>
          User id
          <input value={me.id} readOnly data-testid="my-id" />
        </label>
        <button className="primary" type="submit">
          Save
        </button>
        {notificationsSupported() && (
          <p className="hint" data-testid="notifications">
            {permission === 'granted' ? (
              'Desktop notifications are on while this tab is in the background.'
            ) : permission === 'denied' ? (
              'Desktop notifications are blocked in this browser’s site settings.'
            ) : (
              <button
                type="button"
                onClick={() =>
                  void enableNotifications().then(async (granted) => {
                    setPermission(granted);
                    if (granted === 'granted')
                      await store.session.enableWebPush().catch(() => 'off');
                  })
                }
                data-testid="enable-notifications"
              >
                Turn on desktop notifications
              </button>
            )}
          </p>
        )}
        <button type="button" onClick={() => void store.session.logout()}>
          Log out
        </button>
      </form>
      <BlockedList />
      <ChangePassword />
      <DeleteAccount />
    </div>
  );
}

/** The people I blocked, each with Unblock. */
function BlockedList() {
  const { blocked } = useAppState();
  return (
    <section className="stack-form blocked-list" aria-labelledby="blocked-heading">
      <h3 id="blocked-heading">Blocked people</h3>
      {blocked.length === 0 ? (
        <p className="hint" data-testid="empty-blocked">
          Nobody. Block someone from the ⋯ menu next to them in Contacts.
        </p>
      ) : (
        <ul className="list">
          {blocked.map((b) => (
            <li key={b.userId} className="row static" data-testid="blocked-user">
              <Avatar id={b.userId} name={b.nickname} src={b.avatar} />
              <span className="row-main">
                <span className="row-title">{b.nickname}</span>
              </span>
              <button
                data-testid="unblock-user"
                aria-label={`Unblock ${b.nickname}`}
                onClick={() =>
                  void store.act(() => store.contacts.unblock(b.userId), `${b.nickname} unblocked`)
                }
              >
                Unblock
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Old and new password; this tab continues with the new token, other sessions end. */
function ChangePassword() {
  const [oldPassword, setOld] = useState('');
  const [newPassword, setNew] = useState('');
  async function submit(event: FormEvent) {
    event.preventDefault();
    const ok = await store.act(
      () => store.session.changePassword(oldPassword, newPassword),
      'Password changed. Your other devices were logged out.',
    );
    if (ok) {
      setOld('');
      setNew('');
    }
  }
  return (
    <form
      className="stack-form"
      onSubmit={(e) => void submit(e)}
      aria-labelledby="password-heading"
    >
      <h3 id="password-heading">Password</h3>
      <label>
        Current password
        <input
          type="password"
          autoComplete="current-password"
          value={oldPassword}
          onChange={(e) => setOld(e.target.value)}
          required
          data-testid="old-password"
        />
      </label>
      <label>
        New password
        <input
          type="password"
          autoComplete="new-password"
          value={newPassword}
          onChange={(e) => setNew(e.target.value)}
          minLength={8}
          maxLength={128}
          required
          data-testid="new-password"
        />
      </label>
      <button type="submit" data-testid="change-password">
        Change password
      </button>
    </form>
  );
}

/** Deleting the account: asks for the password, then back to the login screen. */
function DeleteAccount() {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  async function submit(event: FormEvent) {
    event.preventDefault();
    await store.act(() => store.session.deleteAccount(password));
  }
  if (!open) {
    return (
      <div className="stack-form">
        <button
          type="button"
          className="danger"
          data-testid="delete-account"
          onClick={() => setOpen(true)}
        >
          Delete my account…
        </button>
      </div>
    );
  }
  return (
    <form className="stack-form" onSubmit={(e) => void submit(e)} aria-labelledby="delete-heading">
      <h3 id="delete-heading">Delete my account</h3>
      <p className="hint">
        Your friends and group memberships go; groups you created pass to another member. Your
        messages stay, shown as from a deleted user. This cannot be undone.
      </p>
      <label>
        Password to confirm
        <input
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          data-testid="delete-password"
        />
      </label>
      <button type="submit" className="danger" data-testid="confirm-delete-account">
        Delete my account for good
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Keep my account
      </button>
    </form>
  );
}
