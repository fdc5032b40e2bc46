import { ChatType } from '@easy-chat/sdk';
import {
  Fragment,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type ClipboardEvent,
  type DragEvent,
  type FormEvent,
  type KeyboardEvent,
} from 'react';
import { Avatar } from './Avatar.js';
import { FileBody, Lightbox } from './FileBody.js';
import { dayOf, timeOf, useAppState } from './hooks.js';
import { linkify } from './linkify.js';
import { store, type ChatMessage } from './store/index.js';

export function ChatView({ conversationId }: { conversationId: string }) {
  const state = useAppState();
  const conversation = state.conversations[conversationId];
  const messages = state.messages[conversationId] ?? [];
  const history = state.history[conversationId];
  const [showMembers, setShowMembers] = useState(false);
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

  useLayoutEffect(() => {
    stick.current = true;
    setShowMembers(false);
  }, [conversationId]);

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
          src={
            single
              ? state.users[conversation.targetId]?.avatar
              : state.groups.find((g) => g.id === conversationId)?.icon
          }
          online={single ? Boolean(state.online[conversation.targetId]) : undefined}
        />
        <div className="chat-title">
          <h2 data-testid="chat-title">{title}</h2>
          <div className="sub">
            {single
              ? state.online[conversation.targetId]
                ? 'online'
                : 'offline'
              : `${state.groups.find((g) => g.id === conversationId)?.memberCount ?? '…'} members`}
          </div>
        </div>
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
      {showMembers && !single && (
        <div className="members" data-testid="members">
          <div className="members-id">
            Group id: <code>{conversationId}</code>
          </div>
          {(members ?? []).map((m) => (
            <span key={m.userId} className="member" data-testid="member">
              <Avatar id={m.userId} name={m.nickname} />
              {m.nickname}
              {m.roleLevel === 1 ? ' (owner)' : m.roleLevel === 2 ? ' (manager)' : ''}
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
            m.sendTime - previous.sendTime < GROUP_GAP_MS;
          return (
            <Fragment key={m.key}>
              {newDay && (
                <div className="day" role="separator" data-testid="day-separator">
                  <span>{dayLabel(m.sendTime)}</span>
                </div>
              )}
              <Bubble
                message={m}
                mine={m.sendId === me}
                grouped={grouped}
                showSender={!single && m.sendId !== me && !grouped}
                sender={state.users[m.sendId]?.nickname}
                conversationId={conversationId}
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
      <Composer conversationId={conversationId} />
      {lightbox && <Lightbox {...lightbox} onClose={() => setLightbox(null)} />}
    </section>
  );
}

type Tick = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

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

const TICKS: Record<Exclude<Tick, 'failed'>, string> = {
  sending: '🕓',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓',
};

function Bubble(props: {
  message: ChatMessage;
  mine: boolean;
  grouped: boolean;
  tick: Tick | undefined;
  showSender: boolean;
  sender: string | undefined;
  conversationId: string;
  receipt: string | undefined;
  onOpenImage: (image: { src: string; name: string }) => void;
}) {
  const { message: m, mine } = props;
  const hasFile = Boolean(m.file) && !m.revoked;
  return (
    <div
      className={`bubble-row ${mine ? 'mine' : ''} ${props.grouped ? 'grouped' : ''}`}
      data-testid="message"
      data-status={m.status}
      data-grouped={props.grouped ? 'true' : undefined}
      data-seq={m.seq ?? ''}
      data-mtype={m.mType}
    >
      <div className={`bubble ${m.status} ${hasFile ? 'with-file' : ''}`}>
        {props.showSender && <div className="sender">{props.sender ?? '…'}</div>}
        {m.revoked ? (
          <div className="content recalled" data-testid="message-content">
            Message recalled
          </div>
        ) : hasFile ? (
          <FileBody message={m} onOpenImage={props.onOpenImage} />
        ) : (
          <div className="content" data-testid="message-content">
            {linkify(m.content)}
          </div>
        )}
        <div className="meta">
          <time dateTime={new Date(m.sendTime).toISOString()}>{timeOf(m.sendTime)}</time>
          {props.tick && props.tick !== 'failed' && (
            <span
              className={`tick tick-${props.tick}`}
              data-testid="tick"
              data-tick={props.tick}
              title={props.tick}
              role="img"
              aria-label={props.tick}
            >
              {TICKS[props.tick]}
            </span>
          )}
        </div>
      </div>
      {mine && m.status === 'failed' && (
        <div className="failed">
          Not sent{m.error ? ` (${m.error})` : ''}.{' '}
          <button
            className="link"
            data-testid="retry"
            onClick={() => {
              if (!store.files.retry(props.conversationId, m.key)) {
                void store.messages.send(props.conversationId, m.content, m.key);
              }
            }}
          >
            Retry
          </button>
        </div>
      )}
      {props.receipt && (
        <div className="receipt" data-testid="receipt">
          {props.receipt}
        </div>
      )}
    </div>
  );
}

function Composer({ conversationId }: { conversationId: string }) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);
  // Opening a chat puts the keyboard in it.
  useEffect(() => input.current?.focus(), [conversationId]);
  const picker = useRef<HTMLInputElement>(null);
  function submit(event?: FormEvent) {
    event?.preventDefault();
    const content = text.trim();
    if (!content) return;
    setText('');
    void store.messages.send(conversationId, content);
  }
  function onKey(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  }
  // A pasted screenshot or copied file is sent; pasted text stays text.
  function onPaste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const files = [...event.clipboardData.files];
    if (files.length === 0) return;
    event.preventDefault();
    for (const file of files) void store.files.sendFile(conversationId, file);
  }
  return (
    <form className="composer" onSubmit={submit}>
      <button
        type="button"
        className="attach"
        aria-label="Attach a file"
        title="Attach a file or image"
        data-testid="attach"
        onClick={() => picker.current?.click()}
      >
        📎
      </button>
      <input
        ref={picker}
        type="file"
        multiple
        hidden
        data-testid="file-input"
        onChange={(e) => {
          for (const file of e.target.files ?? []) void store.files.sendFile(conversationId, file);
          e.target.value = '';
        }}
      />
      <textarea
        rows={1}
        aria-label="Message"
        ref={input}
        placeholder="Write a message"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKey}
        onPaste={onPaste}
        maxLength={16000}
        data-testid="composer"
      />
      <button className="primary" type="submit" data-testid="send">
        Send
      </button>
    </form>
  );
}
