import type { UserInfo } from '@easy-chat/sdk';
import { useState, type FormEvent } from 'react';
import { Avatar } from './Avatar.js';
import { useAppState } from './hooks.js';
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
