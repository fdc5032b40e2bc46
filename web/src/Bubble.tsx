import { MessageType } from '@easy-chat/sdk';
import { useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { FileBody } from './FileBody.js';
import { timeOf } from './hooks.js';
import { linkify } from './linkify.js';
import { store, type ChatMessage } from './store/index.js';

export type Tick = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

const TICKS: Record<Exclude<Tick, 'failed'>, string> = {
  sending: '🕓',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓',
};

/** The quick reactions the menu offers. */
export const EMOJIS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

/** A touch held this long opens the message menu (as a right click does). */
const LONG_PRESS_MS = 500;

export interface BubbleProps {
  message: ChatMessage;
  mine: boolean;
  me: string;
  grouped: boolean;
  tick: Tick | undefined;
  showSender: boolean;
  nameOf: (userId: string) => string;
  conversationId: string;
  receipt: string | undefined;
  canEdit: boolean;
  canRecall: boolean;
  onOpenImage: (image: { src: string; name: string }) => void;
  onReply: (m: ChatMessage) => void;
  onEdit: (m: ChatMessage) => void;
}

export function Bubble(props: BubbleProps) {
  const { message: m, mine } = props;
  const hasFile = Boolean(m.file) && !m.revoked;
  const [menu, setMenu] = useState(false);
  const press = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const stored = m.status === 'sent' && Boolean(m.msgId);
  const reactions = Object.entries(m.reactions ?? {}).filter(([, who]) => who.length > 0);

  function onPointerDown(event: PointerEvent) {
    if (event.pointerType !== 'touch' || !stored) return;
    press.current = setTimeout(() => setMenu(true), LONG_PRESS_MS);
  }
  const cancelPress = () => clearTimeout(press.current);

  return (
    <div
      className={`bubble-row ${mine ? 'mine' : ''} ${props.grouped ? 'grouped' : ''}`}
      data-testid="message"
      data-status={m.status}
      data-grouped={props.grouped ? 'true' : undefined}
      data-seq={m.seq ?? ''}
      data-mtype={m.mType}
      data-revoked={m.revoked ? 'true' : undefined}
    >
      <div className="bubble-line">
        <div
          className={`bubble ${m.status} ${hasFile ? 'with-file' : ''}`}
          onContextMenu={(e) => {
            if (!stored) return;
            e.preventDefault();
            setMenu(true);
          }}
          onPointerDown={onPointerDown}
          onPointerUp={cancelPress}
          onPointerLeave={cancelPress}
        >
          {props.showSender && <div className="sender">{props.nameOf(m.sendId)}</div>}
          {m.replyTo && !m.revoked && (
            <div className="quote" data-testid="reply-quote">
              <span className="quote-name">{props.nameOf(m.replyTo.sendId)}</span>
              <span className="quote-text">
                {m.replyTo.revoked
                  ? 'Message recalled'
                  : m.replyTo.mType === MessageType.text
                    ? m.replyTo.excerpt
                    : '[Attachment]'}
              </span>
            </div>
          )}
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
            {m.editedAt && !m.revoked && (
              <span className="edited" data-testid="edited">
                edited
              </span>
            )}
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
        {stored && !m.revoked && <MessageMenu {...props} open={menu} setOpen={setMenu} />}
      </div>
      {reactions.length > 0 && !m.revoked && (
        <div className="reactions">
          {reactions.map(([emoji, who]) => {
            const pressed = who.includes(props.me);
            return (
              <button
                key={emoji}
                className={`chip ${pressed ? 'chip-mine' : ''}`}
                data-testid="reaction"
                data-emoji={emoji}
                aria-pressed={pressed}
                aria-label={`${emoji} ${who.length}, by ${who.map(props.nameOf).join(', ')}`}
                title={who.map(props.nameOf).join(', ')}
                onClick={() => void store.changes.react(m, emoji)}
              >
                {emoji} {who.length}
              </button>
            );
          })}
        </div>
      )}
      {mine && m.status === 'failed' && (
        <div className="failed" role="alert" data-testid="send-error">
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

/** The ⋯ button (shown on hover and focus) and its menu: reply, react, edit, recall, delete for me. */
function MessageMenu(props: BubbleProps & { open: boolean; setOpen: (open: boolean) => void }) {
  const { message: m, open, setOpen } = props;
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    box.current?.querySelector<HTMLButtonElement>('[role=menuitem]')?.focus();
    const outside = (event: MouseEvent) => {
      if (!box.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  }, [open, setOpen]);

  function run(action: () => void) {
    setOpen(false);
    action();
  }
  function onKeyDown(event: KeyboardEvent) {
    if (event.key === 'Escape') {
      setOpen(false);
      button.current?.focus();
      return;
    }
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    event.preventDefault();
    const items = [...(box.current?.querySelectorAll<HTMLButtonElement>('[role=menuitem]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLButtonElement);
    const next = (at + (event.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
    items[next]?.focus();
  }

  return (
    <div className={`msg-actions ${open ? 'open' : ''}`} ref={box} onKeyDown={onKeyDown}>
      <button
        ref={button}
        className="msg-actions-button"
        aria-label="Message actions"
        aria-haspopup="menu"
        aria-expanded={open}
        data-testid="message-menu-button"
        onClick={() => setOpen(!open)}
      >
        ⋯
      </button>
      {open && (
        <div className="menu" role="menu" aria-label="Message actions" data-testid="message-menu">
          <div className="emoji-row">
            {EMOJIS.map((emoji) => (
              <button
                key={emoji}
                role="menuitem"
                aria-label={`React ${emoji}`}
                data-testid="react"
                data-emoji={emoji}
                onClick={() => run(() => void store.changes.react(m, emoji))}
              >
                {emoji}
              </button>
            ))}
          </div>
          <button role="menuitem" data-testid="reply" onClick={() => run(() => props.onReply(m))}>
            Reply
          </button>
          {props.canEdit && (
            <button role="menuitem" data-testid="edit" onClick={() => run(() => props.onEdit(m))}>
              Edit
            </button>
          )}
          {props.canRecall && (
            <button
              role="menuitem"
              data-testid="recall"
              onClick={() => run(() => void store.changes.recall(m))}
            >
              Recall for everyone
            </button>
          )}
          <button
            role="menuitem"
            data-testid="delete-for-me"
            onClick={() => run(() => void store.changes.deleteForMe(m))}
          >
            Delete for me
          </button>
        </div>
      )}
    </div>
  );
}
