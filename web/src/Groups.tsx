import { useState, type FormEvent } from 'react';
import { Avatar } from './Avatar.js';
import { useAppState } from './hooks.js';
import { store } from './store/index.js';

/** Creating and joining groups, join requests to approve, and my groups. */
export function Groups() {
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
                    {g.muted ? ' · muted' : ''}
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
