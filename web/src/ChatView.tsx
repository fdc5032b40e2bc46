import { ChatType } from '@easy-chat/sdk';
import {
  useLayoutEffect,
  useRef,
  useState,
  type ClipboardEvent,
  type DragEvent,
  type FormEvent,
  type KeyboardEvent,
} from 'react';
import { Avatar } from './App.js';
import { FileBody, Lightbox } from './FileBody.js';
import { timeOf, useAppState } from './hooks.js';
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
          online={single ? Boolean(state.online[conversation.targetId]) : undefined}
        />
        <div className="chat-title">
          <div data-testid="chat-title">{title}</div>
          <div className="sub">
            {single
              ? state.online[conversation.targetId]
                ? 'online'
                : 'offline'
              : `${state.groups.find((g) => g.id === conversationId)?.memberCount ?? '…'} members`}
          </div>
        </div>
        {!single && (
          <button onClick={() => setShowMembers((v) => !v)} data-testid="members-toggle">
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
      <div className="messages" ref={scroller} onScroll={onScroll} data-testid="messages">
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
        {messages.map((m) => (
          <Bubble
            key={m.key}
            message={m}
            mine={m.sendId === me}
            showSender={!single && m.sendId !== me}
            sender={state.users[m.sendId]?.nickname}
            conversationId={conversationId}
            onOpenImage={setLightbox}
            receipt={
              m === lastMine && readers.length > 0
                ? single
                  ? 'Read'
                  : `Read by ${readers.length}`
                : undefined
            }
          />
        ))}
      </div>
      <Composer conversationId={conversationId} />
      {lightbox && <Lightbox {...lightbox} onClose={() => setLightbox(null)} />}
    </section>
  );
}

function Bubble(props: {
  message: ChatMessage;
  mine: boolean;
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
      className={`bubble-row ${mine ? 'mine' : ''}`}
      data-testid="message"
      data-status={m.status}
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
            {m.content}
          </div>
        )}
        <div className="meta">
          <time>{timeOf(m.sendTime)}</time>
          {mine && m.status === 'sending' && <span title="sending">⏳</span>}
          {mine && m.status === 'sent' && <span title="sent">✓</span>}
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
