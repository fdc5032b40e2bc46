import type { Friend, UserInfo } from '@easy-chat/sdk';
import { useState, type FormEvent } from 'react';
import { Avatar } from './Avatar.js';
import { useAppState } from './hooks.js';
import { MenuButton } from './Menu.js';
import { store } from './store/index.js';

/** Finding people, friend requests, and the friends list (a click opens the chat). */
export function Contacts() {
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
  const blockedIds = new Set(state.blocked.map((b) => b.userId));
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
                <Avatar id={u.id} name={u.remark || u.nickname} src={u.avatar} />
                <span className="row-main">
                  <span className="row-title">{u.remark || u.nickname}</span>
                  <span className="row-sub">
                    {u.remark ? `${u.nickname} · ${u.mobile}` : u.mobile}
                  </span>
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
            <FriendItem
              key={f.friendUid}
              friend={f}
              online={Boolean(state.online[f.friendUid])}
              blocked={blockedIds.has(f.friendUid)}
            />
          ))}
        </ul>
      </section>
    </div>
  );
}

/**
 * A friend: the row opens the chat; its menu sets my remark for them (shown in
 * place of the nickname, the nickname beside it) and blocks or unblocks them.
 */
function FriendItem({
  friend: f,
  online,
  blocked,
}: {
  friend: Friend;
  online: boolean;
  blocked: boolean;
}) {
  const [editing, setEditing] = useState(false);
  const [remark, setRemark] = useState(f.remark);
  const name = f.remark || f.nickname;

  async function save(event: FormEvent) {
    event.preventDefault();
    const ok = await store.act(
      () => store.contacts.setRemark(f.friendUid, remark.trim()),
      remark.trim() ? 'Remark saved' : 'Remark removed',
    );
    if (ok) setEditing(false);
  }

  return (
    <li className="friend-item" data-testid="friend-item" data-name={f.nickname}>
      <div className="friend-line">
        <button
          className="row"
          onClick={() => void store.conversations.startChat(f.friendUid)}
          data-testid="friend"
          data-name={f.nickname}
        >
          <Avatar id={f.friendUid} name={name} src={f.avatar} online={online} />
          <span className="row-main">
            <span className="row-title" data-testid="friend-name">
              {name}
            </span>
            <span className="row-sub">
              <span className="ellipsis">
                {f.remark && <span data-testid="friend-nickname">{f.nickname} · </span>}
                {blocked ? 'blocked' : online ? 'online' : 'offline'}
              </span>
            </span>
          </span>
        </button>
        <MenuButton
          label={`Options for ${name}`}
          testId="friend-menu"
          items={[
            {
              label: f.remark ? 'Change remark' : 'Set remark',
              testId: 'set-remark',
              onSelect: () => {
                setRemark(f.remark);
                setEditing(true);
              },
            },
            blocked
              ? {
                  label: 'Unblock',
                  testId: 'unblock',
                  onSelect: () =>
                    void store.act(() => store.contacts.unblock(f.friendUid), `${name} unblocked`),
                }
              : {
                  label: 'Block',
                  testId: 'block',
                  onSelect: () =>
                    void store.act(
                      () => store.contacts.block(f.friendUid),
                      `${name} is blocked: they cannot message you`,
                    ),
                },
          ]}
        />
      </div>
      {editing && (
        <form className="inline-form" onSubmit={(e) => void save(e)}>
          <input
            aria-label={`Remark for ${f.nickname}`}
            value={remark}
            onChange={(e) => setRemark(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setEditing(false);
            }}
            maxLength={64}
            placeholder={f.nickname}
            autoFocus
            data-testid="remark-input"
          />
          <button type="submit" className="primary" data-testid="save-remark">
            Save
          </button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      )}
    </li>
  );
}
