import { useState, type FormEvent } from 'react';
import { useAppState } from './hooks.js';
import { store } from './store/index.js';
import { enableNotifications, notificationsSupported } from './store/notifications.js';

/** My profile (nickname, sex, picture), desktop notifications, and logging out. */
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
    <form className="stack-form" onSubmit={(e) => void save(e)}>
      <h3>Profile</h3>
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
              onClick={() => void enableNotifications().then(setPermission)}
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
  );
}
