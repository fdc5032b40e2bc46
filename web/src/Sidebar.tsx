import { ChatType, MessageType } from '@easy-chat/sdk';
import { useState } from 'react';
import { Avatar } from './Avatar.js';
import { Contacts } from './Contacts.js';
import { Groups } from './Groups.js';
import { timeOf, useAppState } from './hooks.js';
import { Profile } from './Profile.js';
import { displayName, messagePreview, noticeText, store, systemNotice } from './store/index.js';

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
        const notice = last?.mType === MessageType.notice;
        const sender = notice
          ? ''
          : last && !single
            ? `${last.sendId === state.me?.id ? 'You' : displayName(state, last.sendId)}: `
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
                    {last
                      ? notice
                        ? noticeText(last, (id) => displayName(state, id), state.me?.id)
                        : systemNotice(last)
                          ? `📣 ${systemNotice(last)!.title || systemNotice(last)!.content}`
                          : sender + messagePreview(last)
                      : 'No messages yet'}
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
