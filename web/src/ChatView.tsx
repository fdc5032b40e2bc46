import { ChatType, groupNotice, MessageType } from '@easy-chat/sdk';
import { Fragment, useEffect, useLayoutEffect, useRef, useState, type DragEvent } from 'react';
import { Avatar } from './Avatar.js';
import { Bubble, type Tick } from './Bubble.js';
import { Composer } from './Composer.js';
import { Lightbox } from './FileBody.js';
import { GroupSettingsPanel, InvitePanel } from './GroupPanel.js';
import { dayOf, timeOf, useAppState } from './hooks.js';
import type { MenuItem } from './Menu.js';
import { linkify } from './linkify.js';
import {
  displayName,
  noticeText,
  remarkOf,
  store,
  systemNotice,
  type ChatMessage,
} from './store/index.js';

export function ChatView({ conversationId }: { conversationId: string }) {
  const state = useAppState();
  const conversation = state.conversations[conversationId];
  const messages = state.messages[conversationId] ?? [];
  const history = state.history[conversationId];
  const [showMembers, setShowMembers] = useState(false);
  /** The group's invite or settings panel under the header. */
  const [panel, setPanel] = useState<'invite' | 'settings' | null>(null);
  const [dragging, setDragging] = useState(false);
  const [lightbox, setLightbox] = useState<{ src: string; name: string } | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const anchor = useRef<{ height: number; top: number } | null>(null);

  // Keep the view at the bottom for new messages, and in place when older ones are prepended.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (anchor.current) {
      el.scrollTop = el.scrollHeight - anchor.current.height + anchor.current.top;
      anchor.current = null;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [messages]);

  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [editing, setEditing] = useState<ChatMessage | null>(null);

  useLayoutEffect(() => {
    stick.current = true;
    setShowMembers(false);
    setPanel(null);
    setReplyTo(null);
    setEditing(null);
  }, [conversationId]);

  // A member mute ends by itself: draw the composer again when it does.
  const myMutedUntil = state.memberMutes[conversationId]?.[state.me!.id] ?? 0;
  const [, redraw] = useState(0);
  useEffect(() => {
    const left = myMutedUntil - Date.now();
    if (left <= 0) return;
    const timer = setTimeout(() => redraw((n) => n + 1), Math.min(left + 50, 86_400_000));
    return () => clearTimeout(timer);
  }, [myMutedUntil]);

  if (!conversation) return <div className="empty">Loading…</div>;
  const single = conversation.chatType === ChatType.single;
  const title = store.conversations.titleOf(conversation);
  const me = state.me!.id;
  const reads = state.reads[conversationId] ?? {};
  const lastMine = [...messages].reverse().find((m) => m.sendId === me && m.seq !== undefined);
  const readers = lastMine
    ? Object.entries(reads).filter(([uid, seq]) => uid !== me && seq >= lastMine.seq!)
    : [];
  const members = state.members[conversationId];
  const delivered = state.delivered[conversationId] ?? 0;
  /** The newest seq of mine someone has read (any member in a group). */
  const readUpTo = Object.entries(reads).reduce(
    (max, [uid, seq]) => (uid === me ? max : Math.max(max, seq)),
    0,
  );
  const myRole = members?.find((m) => m.userId === me)?.roleLevel;
  const manager = !single && (myRole === 1 || myRole === 2);
  const nameOf = (id: string) => displayName(state, id);
  const now = Date.now();
  const group = single ? undefined : state.groups.find((g) => g.id === conversationId);
  // Shown over the composer; a send the server refuses all the same says why in its bubble.
  const mutedReason = !group
    ? undefined
    : group.muted && !manager
      ? 'The group is muted: only the owner and managers can post.'
      : myMutedUntil > now
        ? `You are muted in this group until ${timeOf(myMutedUntil)}.`
        : undefined;
  const peerRemark = single ? remarkOf(state, conversation.targetId) : '';
  const peerBlocked = single && state.blocked.some((b) => b.userId === conversation.targetId);
  function tickOf(m: ChatMessage): Tick {
    if (m.status !== 'sent') return m.status === 'sending' ? 'sending' : 'failed';
    if (m.seq! <= readUpTo) return 'read';
    if (single && m.seq! <= delivered) return 'delivered';
    return 'sent';
  }

  function onScroll() {
    const el = scroller.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 60 && history?.loaded && !history.loading && !history.exhausted) {
      anchor.current = { height: el.scrollHeight, top: el.scrollTop };
      void store.messages.loadOlder(conversationId);
    }
  }

  // Files dropped anywhere on the conversation are sent to it.
  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    for (const file of event.dataTransfer.files) void store.files.sendFile(conversationId, file);
  }
  function onDragOver(event: DragEvent) {
    if (!event.dataTransfer.types.includes('Files')) return;
    event.preventDefault();
    setDragging(true);
  }

  return (
    <section
      className={`chat ${dragging ? 'dragging' : ''}`}
      data-testid="chat"
      data-conversation={conversationId}
      onDragOver={onDragOver}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
      aria-label={`Chat with ${title}`}
    >
      <header className="chat-header">
        <button
          className="back"
          onClick={() => void store.conversations.open(null)}
          aria-label="Back"
        >
          ‹
        </button>
        <Avatar
          id={conversation.targetId}
          name={title}
          src={single ? state.users[conversation.targetId]?.avatar : group?.icon}
          online={single ? Boolean(state.online[conversation.targetId]) : undefined}
        />
        <div className="chat-title">
          <h2 data-testid="chat-title">{title}</h2>
          <div className="sub" data-testid="chat-sub">
            {single ? (
              <>
                {peerRemark && (
                  <span data-testid="chat-nickname">
                    {state.users[conversation.targetId]?.nickname ?? '…'} ·{' '}
                  </span>
                )}
                {state.online[conversation.targetId] ? 'online' : 'offline'}
              </>
            ) : (
              <span data-testid="member-count" aria-live="polite">
                {group ? `${group.memberCount} member${group.memberCount === 1 ? '' : 's'}` : '…'}
                {group?.muted ? ' · muted' : ''}
              </span>
            )}
          </div>
        </div>
        <ConversationMenu
          conversationId={conversationId}
          extra={
            single
              ? [blockItem(conversation.targetId, title, peerBlocked)]
              : group
                ? [
                    {
                      label: 'Invite friends',
                      testId: 'invite-members',
                      onSelect: () => setPanel('invite'),
                    },
                    {
                      label: manager ? 'Group settings' : 'Group info',
                      testId: 'group-settings-open',
                      onSelect: () => setPanel('settings'),
                    },
                  ]
                : []
          }
        />
        {!single && (
          <button
            onClick={() => setShowMembers((v) => !v)}
            data-testid="members-toggle"
            aria-expanded={showMembers}
          >
            Members
          </button>
        )}
      </header>
      {group?.notification && (
        <div
          className="announcement"
          data-testid="announcement"
          role="note"
          aria-label="Announcement"
        >
          📢 {group.notification}
        </div>
      )}
      {panel === 'invite' && group && (
        <InvitePanel groupId={group.id} onClose={() => setPanel(null)} />
      )}
      {panel === 'settings' && group && (
        <GroupSettingsPanel key={group.id} group={group} onClose={() => setPanel(null)} />
      )}
      {showMembers && !single && (
        <div className="members" data-testid="members">
          <div className="members-id">
            Group id: <code>{conversationId}</code>
          </div>
          {(members ?? []).map((m) => (
            <span key={m.userId} className="member" data-testid="member">
              <Avatar id={m.userId} name={m.nickname} />
              {m.userId === me ? m.nickname : displayName(state, m.userId)}
              {m.roleLevel === 1 ? ' (owner)' : m.roleLevel === 2 ? ' (manager)' : ''}
              {(state.memberMutes[conversationId]?.[m.userId] ?? 0) > now && (
                <span role="img" aria-label="muted">
                  {' '}
                  🔇
                </span>
              )}
            </span>
          ))}
        </div>
      )}
      <div
        className="messages"
        ref={scroller}
        onScroll={onScroll}
        data-testid="messages"
        role="log"
        aria-live="polite"
        aria-label="Messages"
        tabIndex={0}
      >
        {history?.loaded && !history.exhausted && !history.loading && (
          <button
            className="link older"
            data-testid="load-older"
            onClick={() => {
              const el = scroller.current;
              if (el) anchor.current = { height: el.scrollHeight, top: el.scrollTop };
              void store.messages.loadOlder(conversationId);
            }}
          >
            Load earlier messages
          </button>
        )}
        {history?.loading && <div className="hint center">Loading…</div>}
        {history?.exhausted && messages.length > 0 && (
          <div className="hint center">Beginning of the conversation</div>
        )}
        {history?.loaded && messages.length === 0 && (
          <div className="empty" data-testid="empty-chat">
            No messages yet. Say hello below.
          </div>
        )}
        {messages.map((m, i) => {
          const previous = messages[i - 1];
          const newDay = !previous || dayOf(previous.sendTime) !== dayOf(m.sendTime);
          // Consecutive messages of one sender within a few minutes read as one block.
          const grouped =
            !newDay &&
            previous !== undefined &&
            previous.sendId === m.sendId &&
            previous.mType !== MessageType.notice &&
            m.sendTime - previous.sendTime < GROUP_GAP_MS;
          const separator = newDay && (
            <div className="day" role="separator" data-testid="day-separator">
              <span>{dayLabel(m.sendTime)}</span>
            </div>
          );
          // Group notices are centred lines of the conversation, not anyone's bubble.
          if (m.mType === MessageType.notice) {
            return (
              <Fragment key={m.key}>
                {separator}
                <div
                  className="group-notice"
                  data-testid="group-notice"
                  data-seq={m.seq ?? ''}
                  data-type={groupNotice(m)?.type ?? ''}
                >
                  {noticeText(m, nameOf, me)}
                </div>
              </Fragment>
            );
          }
          const fromSystem = systemNotice(m);
          if (fromSystem) {
            return (
              <Fragment key={m.key}>
                {separator}
                <div className="group-notice system-notice" data-testid="system-notice" role="note">
                  <strong>{fromSystem.title}</strong>
                  {fromSystem.title && fromSystem.content ? ': ' : ''}
                  {linkify(fromSystem.content)}
                </div>
              </Fragment>
            );
          }
          return (
            <Fragment key={m.key}>
              {separator}
              <Bubble
                message={m}
                mine={m.sendId === me}
                me={me}
                grouped={grouped}
                showSender={!single && m.sendId !== me && !grouped}
                nameOf={nameOf}
                conversationId={conversationId}
                // The server's default windows (im.editWindowSeconds, im.revokeWindowSeconds);
                // a server set otherwise answers with its own error.
                canEdit={
                  m.sendId === me &&
                  m.mType === MessageType.text &&
                  now - m.sendTime < EDIT_WINDOW_MS
                }
                canRecall={manager || (m.sendId === me && now - m.sendTime < RECALL_WINDOW_MS)}
                onReply={(target) => {
                  setEditing(null);
                  setReplyTo(target);
                }}
                onEdit={(target) => {
                  setReplyTo(null);
                  setEditing(target);
                }}
                onOpenImage={setLightbox}
                tick={m.sendId === me ? tickOf(m) : undefined}
                receipt={
                  m === lastMine && readers.length > 0
                    ? single
                      ? 'Read'
                      : `Read by ${readers.length}`
                    : undefined
                }
              />
            </Fragment>
          );
        })}
      </div>
      <Composer
        conversationId={conversationId}
        members={single ? undefined : members}
        canMentionAll={manager}
        mutedReason={mutedReason}
        replyTo={replyTo}
        editing={editing}
        onDone={() => {
          setReplyTo(null);
          setEditing(null);
        }}
      />
      {lightbox && <Lightbox {...lightbox} onClose={() => setLightbox(null)} />}
    </section>
  );
}

/** Block or unblock the peer of a single chat (as their menu in Contacts does). */
function blockItem(userId: string, name: string, blocked: boolean): MenuItem {
  return blocked
    ? {
        label: 'Unblock',
        testId: 'unblock-peer',
        onSelect: () => void store.act(() => store.contacts.unblock(userId), `${name} unblocked`),
      }
    : {
        label: 'Block',
        testId: 'block-peer',
        onSelect: () =>
          void store.act(
            () => store.contacts.block(userId),
            `${name} is blocked: they cannot message you`,
          ),
      };
}

const EDIT_WINDOW_MS = 48 * 3600_000;
const RECALL_WINDOW_MS = 24 * 3600_000;

/** Messages closer than this (same sender, same day) are drawn as one block. */
const GROUP_GAP_MS = 5 * 60_000;

function dayLabel(ms: number): string {
  const day = dayOf(ms);
  if (day === dayOf(Date.now())) return 'Today';
  if (day === dayOf(Date.now() - 86_400_000)) return 'Yesterday';
  return new Date(ms).toLocaleDateString([], {
    weekday: 'long',
    month: 'long',
    day: 'numeric',
    ...(new Date(ms).getFullYear() !== new Date().getFullYear() ? { year: 'numeric' } : {}),
  });
}

/** Pin, mute and clear, for me (my other devices follow); in a group, its invite and settings. */
function ConversationMenu({
  conversationId,
  extra,
}: {
  conversationId: string;
  extra: MenuItem[];
}) {
  const conversation = useAppState().conversations[conversationId]!;
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    setConfirming(false);
    if (!open) return;
    box.current?.querySelector<HTMLButtonElement>('[role=menuitem]')?.focus();
    const outside = (event: MouseEvent) => {
      if (!box.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  }, [open]);
  const change = (patch: { pinned?: boolean; muted?: boolean }) => {
    setOpen(false);
    void store.conversations.setSettings(conversationId, patch);
  };
  return (
    <div
      className="conv-menu"
      ref={box}
      onKeyDown={(e) => {
        if (e.key === 'Escape') setOpen(false);
      }}
    >
      <button
        aria-label="Conversation options"
        aria-haspopup="menu"
        aria-expanded={open}
        data-testid="conversation-menu-button"
        onClick={() => setOpen(!open)}
      >
        ⋯
      </button>
      {open && (
        <div className="menu menu-right" role="menu" aria-label="Conversation options">
          <button
            role="menuitem"
            data-testid="pin-toggle"
            onClick={() => change({ pinned: !conversation.pinned })}
          >
            {conversation.pinned ? 'Unpin' : 'Pin to top'}
          </button>
          <button
            role="menuitem"
            data-testid="mute-toggle"
            onClick={() => change({ muted: !conversation.muted })}
          >
            {conversation.muted ? 'Unmute' : 'Mute notifications'}
          </button>
          {extra.map((item) => (
            <button
              key={item.testId}
              role="menuitem"
              data-testid={item.testId}
              onClick={() => {
                setOpen(false);
                item.onSelect();
              }}
            >
              {item.label}
            </button>
          ))}
          {/* Two steps: the history is gone for me once cleared. */}
          <button
            role="menuitem"
            data-testid="clear-history"
            onClick={() => {
              if (!confirming) {
                setConfirming(true);
                return;
              }
              setOpen(false);
              void store.conversations.clear(conversationId);
            }}
          >
            {confirming ? 'Click again to clear the history for me' : 'Clear history for me'}
          </button>
        </div>
      )}
    </div>
  );
}
