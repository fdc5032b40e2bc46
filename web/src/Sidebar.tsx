import { ChatType, type UserInfo } from '@easy-chat/sdk';
import { useState, type FormEvent } from 'react';
import { Avatar } from './Avatar.js';
import { timeOf, useAppState } from './hooks.js';
import { messagePreview, store } from './store/index.js';
import { enableNotifications, notificationsSupported } from './store/notifications.js';

type Tab = 'chats' | 'contacts' | 'groups' | 'profile';
const TABS: [Tab, string][] = [
  ['chats', 'Chats'],
  ['contacts', 'Contacts'],
  ['groups', 'Groups'],
  ['profile', 'Me'],
];

export function Sidebar() {
  const state = useAppState();
  const [tab, setTab] = useState<Tab>('chats');
  const requests =
    state.friendRequests.length +
    Object.values(state.groupRequests).reduce((n, list) => n + list.length, 0);
  const unread = Object.values(state.conversations).reduce((n, c) => n + c.unread, 0);
  const counts: Record<Tab, number> = {
    chats: unread,
    contacts: state.friendRequests.length,
    groups: requests - state.friendRequests.length,
    profile: 0,
  };
  return (
    <aside className="sidebar" aria-label="Chats and contacts">
      <header className="me">
        <h1 className="visually-hidden">easy-chat</h1>
        <Avatar id={state.me!.id} name={state.me!.nickname} src={state.me!.avatar} />
        <div className="me-name" data-testid="me">
          {state.me!.nickname}
        </div>
        <span
          className={`conn conn-${state.connection}`}
          title={state.connection}
          role="img"
          aria-label={`Connection: ${state.connection}`}
        />
      </header>
      <nav className="tabs" aria-label="Sections">
        <div role="tablist" className="tablist">
          {TABS.map(([id, label]) => (
            <button
              key={id}
              role="tab"
              id={`tab-${id}`}
              aria-selected={tab === id}
              aria-controls="sidebar-pane"
              className={tab === id ? 'active' : ''}
              onClick={() => setTab(id)}
            >
              {label}
              {counts[id] > 0 && (
                <span className="count" aria-label={`, ${counts[id]} new`}>
                  {counts[id]}
                </span>
              )}
            </button>
          ))}
        </div>
      </nav>
      <div className="pane" role="tabpanel" id="sidebar-pane" aria-labelledby={`tab-${tab}`}>
        {tab === 'chats' && <Conversations />}
        {tab === 'contacts' && <Contacts />}
        {tab === 'groups' && <Groups />}
        {tab === 'profile' && <Profile />}
      </div>
    </aside>
  );
}

function Conversations() {
  const state = useAppState();
  const avatarOf = (id: string) =>
    state.users[id]?.avatar || state.groups.find((g) => g.id === id)?.icon;
  const list = Object.values(state.conversations)
    .filter((c) => c.isShow || c.conversationId === state.activeId)
    // Pinned first, then by last activity (as GET /conversation orders them).
    .sort(
      (a, b) =>
        Number(b.pinned) - Number(a.pinned) || (b.msg?.sendTime ?? 0) - (a.msg?.sendTime ?? 0),
    );
  if (list.length === 0) {
    return (
      <p className="hint" data-testid="empty-chats">
        No conversations yet. Add a friend in Contacts, or create or join a group in Groups, and say
        hello.
      </p>
    );
  }
  return (
    <ul className="list" data-testid="conversations">
      {list.map((c) => {
        const title = store.conversations.titleOf(c);
        const single = c.chatType === ChatType.single;
        const last = c.msg;
        const sender =
          last && !single
            ? `${last.sendId === state.me?.id ? 'You' : (state.users[last.sendId]?.nickname ?? '…')}: `
            : last?.sendId === state.me?.id
              ? 'You: '
              : '';
        return (
          <li key={c.conversationId}>
            <button
              className={`row ${state.activeId === c.conversationId ? 'selected' : ''}`}
              onClick={() => void store.conversations.open(c.conversationId)}
              data-testid="conversation"
              data-title={title}
            >
              <Avatar
                id={c.targetId}
                name={title}
                src={avatarOf(c.targetId)}
                online={single ? Boolean(state.online[c.targetId]) : undefined}
              />
              <span className="row-main">
                <span className="row-title">
                  {title}
                  {last && <time>{timeOf(last.sendTime)}</time>}
                </span>
                <span className="row-sub">
                  <span className="ellipsis">
                    {last ? sender + messagePreview(last) : 'No messages yet'}
                  </span>
                  {c.muted && (
                    <span className="flag" data-testid="muted" role="img" aria-label="muted">
                      🔕
                    </span>
                  )}
                  {c.pinned && (
                    <span className="flag" data-testid="pinned" role="img" aria-label="pinned">
                      📌
                    </span>
                  )}
                  {c.mentioned && (
                    <span
                      className="badge badge-mention"
                      data-testid="mention"
                      aria-label="you were mentioned"
                    >
                      @
                    </span>
                  )}
                  {c.unread > 0 && (
                    <span className={`badge ${c.muted ? 'badge-muted' : ''}`} data-testid="unread">
                      {c.unread}
                    </span>
                  )}
                </span>
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function Contacts() {
  const state = useAppState();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<UserInfo[] | null>(null);

  async function search(event: FormEvent) {
    event.preventDefault();
    const q = query.trim();
    if (!q) return;
    const byPhone = /^\+?\d{6,15}$/.test(q);
    await store.act(async () => {
      const found = await store.api.findUsers(byPhone ? { phone: q } : { name: q });
      setResults(found.filter((u) => u.id !== state.me?.id));
    });
  }

  const friendIds = new Set(state.friends.map((f) => f.friendUid));
  return (
    <div>
      <form className="inline-form" onSubmit={(e) => void search(e)}>
        <input
          placeholder="Find people by name or phone"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          data-testid="user-search"
        />
        <button type="submit">Search</button>
      </form>
      {results && (
        <section>
          <h3>Search results</h3>
          {results.length === 0 && <p className="hint">Nobody found.</p>}
          <ul className="list">
            {results.map((u) => (
              <li key={u.id} className="row static" data-testid="search-result">
                <Avatar id={u.id} name={u.nickname} src={u.avatar} />
                <span className="row-main">
                  <span className="row-title">{u.nickname}</span>
                  <span className="row-sub">{u.mobile}</span>
                </span>
                {friendIds.has(u.id) ? (
                  <button onClick={() => void store.conversations.startChat(u.id)}>Message</button>
                ) : (
                  <button
                    data-testid="add-friend"
                    onClick={() =>
                      void store
                        .act(() => store.api.requestFriend({ userId: u.id }), 'Friend request sent')
                        .then(() => store.contacts.refreshFriends())
                    }
                  >
                    Add friend
                  </button>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
      {state.friendRequests.length > 0 && (
        <section>
          <h3>Friend requests</h3>
          <ul className="list">
            {state.friendRequests.map((r) => (
              <li key={r.id} className="row static" data-testid="friend-request">
                <Avatar
                  id={r.reqUid}
                  name={state.users[r.reqUid]?.nickname}
                  src={state.users[r.reqUid]?.avatar}
                />
                <span className="row-main">
                  <span className="row-title">{state.users[r.reqUid]?.nickname ?? '…'}</span>
                  <span className="row-sub">{r.reqMsg || 'wants to be your friend'}</span>
                </span>
                <button
                  className="primary"
                  data-testid="accept-friend"
                  onClick={() =>
                    void store
                      .act(() =>
                        store.api.handleFriendRequest({ friendReqId: r.id, handleResult: 2 }),
                      )
                      .then(() => store.contacts.refreshFriends())
                      .then(() => store.contacts.refreshOnline())
                  }
                >
                  Accept
                </button>
                <button
                  onClick={() =>
                    void store
                      .act(() =>
                        store.api.handleFriendRequest({ friendReqId: r.id, handleResult: 3 }),
                      )
                      .then(() => store.contacts.refreshFriends())
                  }
                >
                  Refuse
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section>
        <h3>
          Friends
          <button
            className="link"
            onClick={() => void store.contacts.refreshFriends()}
            aria-label="Refresh friends"
          >
            Refresh
          </button>
        </h3>
        {state.friends.length === 0 && (
          <p className="hint" data-testid="empty-friends">
            No friends yet. Search for people by name or phone above and add them.
          </p>
        )}
        <ul className="list">
          {state.friends.map((f) => (
            <li key={f.friendUid}>
              <button
                className="row"
                onClick={() => void store.conversations.startChat(f.friendUid)}
                data-testid="friend"
                data-name={f.nickname}
              >
                <Avatar
                  id={f.friendUid}
                  name={f.nickname}
                  src={f.avatar}
                  online={Boolean(state.online[f.friendUid])}
                />
                <span className="row-main">
                  <span className="row-title">{f.nickname}</span>
                  <span className="row-sub">
                    {state.online[f.friendUid] ? 'online' : 'offline'}
                  </span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function Groups() {
  const state = useAppState();
  const [name, setName] = useState('');
  const [verify, setVerify] = useState(false);
  const [joinId, setJoinId] = useState('');

  async function create(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) return;
    const ok = await store.act(
      () => store.api.createGroup({ name: name.trim(), isVerify: verify }),
      'Group created',
    );
    if (ok) {
      setName('');
      await store.contacts.refreshGroups();
    }
  }

  async function join(event: FormEvent) {
    event.preventDefault();
    const groupId = joinId.trim();
    if (!groupId) return;
    let joined = false;
    const ok = await store.act(async () => {
      joined = (await store.api.joinGroup({ groupId, joinSource: 2 })).joined;
    });
    if (!ok) return;
    setJoinId('');
    store.dismissNotice();
    await store.act(
      async () => undefined,
      joined ? 'Joined the group' : 'Asked to join; waiting for approval',
    );
    await store.contacts.refreshGroups();
  }

  return (
    <div>
      <form className="stack-form" onSubmit={(e) => void create(e)}>
        <input
          placeholder="New group name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={64}
          data-testid="group-name"
        />
        <label className="check">
          <input type="checkbox" checked={verify} onChange={(e) => setVerify(e.target.checked)} />{' '}
          Joining needs approval
        </label>
        <button type="submit" data-testid="create-group">
          Create group
        </button>
      </form>
      <form className="inline-form" onSubmit={(e) => void join(e)}>
        <input
          placeholder="Group id to join"
          value={joinId}
          onChange={(e) => setJoinId(e.target.value)}
          data-testid="join-group-id"
        />
        <button type="submit" data-testid="join-group">
          Join
        </button>
      </form>
      {Object.entries(state.groupRequests).map(([groupId, list]) =>
        list.length === 0 ? null : (
          <section key={groupId}>
            <h3>Requests to join {state.groups.find((g) => g.id === groupId)?.name}</h3>
            <ul className="list">
              {list.map((r) => (
                <li key={r.id} className="row static" data-testid="group-request">
                  <Avatar
                    id={r.reqId}
                    name={state.users[r.reqId]?.nickname}
                    src={state.users[r.reqId]?.avatar}
                  />
                  <span className="row-main">
                    <span className="row-title">{state.users[r.reqId]?.nickname ?? '…'}</span>
                    <span className="row-sub">{r.reqMsg || 'wants to join'}</span>
                  </span>
                  {[2, 3].map((result) => (
                    <button
                      key={result}
                      className={result === 2 ? 'primary' : ''}
                      data-testid={result === 2 ? 'approve-join' : 'refuse-join'}
                      onClick={() =>
                        void store
                          .act(() =>
                            store.api.handleGroupRequest({
                              groupReqId: r.id,
                              groupId,
                              handleResult: result as 2 | 3,
                            }),
                          )
                          .then(() => store.contacts.refreshGroups())
                      }
                    >
                      {result === 2 ? 'Approve' : 'Refuse'}
                    </button>
                  ))}
                </li>
              ))}
            </ul>
          </section>
        ),
      )}
      <section>
        <h3>
          My groups
          <button
            className="link"
            onClick={() => void store.contacts.refreshGroups()}
            aria-label="Refresh groups"
          >
            Refresh
          </button>
        </h3>
        {state.groups.length === 0 && (
          <p className="hint" data-testid="empty-groups">
            No groups yet. Create one above, or join one with the group id a member gives you.
          </p>
        )}
        <ul className="list">
          {state.groups.map((g) => (
            <li key={g.id}>
              <button
                className="row"
                onClick={() => void store.conversations.openGroup(g.id)}
                data-testid="group"
                data-name={g.name}
                data-id={g.id}
              >
                <Avatar id={g.id} name={g.name} src={g.icon} />
                <span className="row-main">
                  <span className="row-title">{g.name}</span>
                  <span className="row-sub">
                    {g.memberCount} member{g.memberCount === 1 ? '' : 's'}
                    {g.isVerify ? ' · approval needed' : ''}
                  </span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function Profile() {
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
