import { MessageType, type GroupMember } from '@easy-chat/sdk';
import {
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type ClipboardEvent,
  type FormEvent,
  type KeyboardEvent,
} from 'react';
import { useAppState } from './hooks.js';
import { displayName, store, type ChatMessage } from './store/index.js';

interface Option {
  /** A member's id, or 'all' for @everyone. */
  id: string;
  name: string;
}

/**
 * The message input: reply preview and edit bar above it, who is typing, @ mentions
 * with a suggestion list in groups, attach / paste files, Enter sends.
 */
export function Composer(props: {
  conversationId: string;
  /** Group members (undefined in a single chat: no mentions). */
  members: GroupMember[] | undefined;
  /** I am the group's owner or a manager (may mention everyone). */
  canMentionAll: boolean;
  replyTo: ChatMessage | null;
  editing: ChatMessage | null;
  onDone: () => void;
  /** Why I cannot post here now (group or member mute), shown over the input. */
  mutedReason?: string | undefined;
}) {
  const { conversationId, replyTo, editing } = props;
  const state = useAppState();
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  /** nickname → userId of the members picked from the list (kept while "@name" stays in the text). */
  const picked = useRef(new Map<string, string>());
  const input = useRef<HTMLTextAreaElement>(null);
  const pendingCaret = useRef<number | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const me = state.me!.id;
  const nameOf = (id: string) => displayName(state, id);

  // Opening a chat puts the keyboard in it.
  useEffect(() => {
    input.current?.focus();
    setText('');
    picked.current.clear();
  }, [conversationId]);
  // Editing starts from the message's text; replying keeps what was typed. The text is
  // set in the render that shows "Editing your message" (React's state adjusted while
  // rendering), not only in the effect below: an effect alone left a committed render
  // with the preview over an empty composer (what a browser test read on a fast
  // machine). The effect still sets it after the effect above clears the composer
  // when a chat opens with an edit already under way.
  const [editingShown, setEditingShown] = useState(editing);
  if (editing !== editingShown) {
    setEditingShown(editing);
    if (editing) setText(editing.content);
  }
  useEffect(() => {
    if (editing) setText(editing.content);
    if (editing || replyTo) input.current?.focus();
  }, [editing, replyTo]);

  // "@que|" just before the caret: suggest members whose name starts with "que".
  const query = props.members ? /(?:^|\s)@([^\s@]{0,24})$/.exec(text.slice(0, caret)) : null;
  const options: Option[] = query
    ? [
        ...(props.canMentionAll ? [{ id: 'all', name: 'everyone' }] : []),
        ...props
          .members!.filter((m) => m.userId !== me)
          .map((m) => ({ id: m.userId, name: m.nickname })),
      ]
        .filter((o) => o.name.toLowerCase().startsWith(query[1]!.toLowerCase()))
        .slice(0, 8)
    : [];

  function choose(option: Option) {
    const start = caret - query![1]!.length - 1;
    const next = `${text.slice(0, start)}@${option.name} ${text.slice(caret)}`;
    picked.current.set(option.name, option.id);
    setText(next);
    const at = start + option.name.length + 2;
    setCaret(at);
    pendingCaret.current = at;
  }
  // Puts the caret after an inserted mention in the same frame (before the next key).
  useLayoutEffect(() => {
    if (pendingCaret.current === null) return;
    input.current?.setSelectionRange(pendingCaret.current, pendingCaret.current);
    pendingCaret.current = null;
  }, [text]);

  function submit(event?: FormEvent) {
    event?.preventDefault();
    const content = text.trim();
    if (!content) return;
    setText('');
    store.changes.typing(conversationId, false);
    if (editing) {
      if (content !== editing.content) void store.changes.edit(editing, content);
      props.onDone();
      return;
    }
    const mentioned = [...picked.current].filter(([name]) => content.includes(`@${name}`));
    picked.current.clear();
    void store.messages.send(conversationId, content, undefined, {
      ...(replyTo ? { replyTo } : {}),
      atUserIds: mentioned.map(([, id]) => id).filter((id) => id !== 'all'),
      atAll: mentioned.some(([, id]) => id === 'all'),
    });
    props.onDone();
  }

  function onKey(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (options.length > 0) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : options.length - 1;
        setActive((a) => (a + step) % options.length);
        return;
      }
      if (event.key === 'Enter' || event.key === 'Tab') {
        event.preventDefault();
        choose(options[Math.min(active, options.length - 1)]!);
        return;
      }
    }
    if (event.key === 'Escape' && (replyTo || editing)) {
      event.preventDefault();
      if (editing) setText('');
      props.onDone();
      return;
    }
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

  const typing = Object.keys(state.typing[conversationId] ?? {}).map(nameOf);
  return (
    <div className="composer-area">
      <div className="typing" role="status" data-testid="typing">
        {typing.length === 1
          ? `${typing[0]} is typing…`
          : typing.length > 1
            ? `${typing.slice(0, -1).join(', ')} and ${typing.at(-1)} are typing…`
            : ''}
      </div>
      {props.mutedReason && (
        <div className="composer-muted" role="status" data-testid="composer-muted">
          {props.mutedReason}
        </div>
      )}
      {(replyTo ?? editing) && (
        <div className="reply-preview" data-testid={editing ? 'edit-preview' : 'reply-preview'}>
          <span className="quote">
            <span className="quote-name">
              {editing ? 'Editing your message' : `Replying to ${nameOf(replyTo!.sendId)}`}
            </span>
            <span className="quote-text">
              {(editing ?? replyTo)!.mType === MessageType.text
                ? (editing ?? replyTo)!.content
                : '[Attachment]'}
            </span>
          </span>
          <button
            type="button"
            className="link"
            aria-label={editing ? 'Cancel editing' : 'Cancel reply'}
            data-testid="cancel-compose"
            onClick={() => {
              if (editing) setText('');
              props.onDone();
            }}
          >
            ×
          </button>
        </div>
      )}
      {options.length > 0 && (
        <ul className="mentions" role="listbox" aria-label="Mention" id="mention-list">
          {options.map((o, i) => (
            <li
              key={o.id}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'active' : ''}
              data-testid="mention-option"
              onMouseDown={(e) => {
                e.preventDefault();
                choose(o);
              }}
            >
              @{o.name}
            </li>
          ))}
        </ul>
      )}
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
            for (const file of e.target.files ?? [])
              void store.files.sendFile(conversationId, file);
            e.target.value = '';
          }}
        />
        <textarea
          rows={1}
          aria-label="Message"
          aria-autocomplete={props.members ? 'list' : undefined}
          aria-controls={options.length > 0 ? 'mention-list' : undefined}
          ref={input}
          placeholder={editing ? 'Edit the message' : 'Write a message'}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setCaret(e.target.selectionStart);
            setActive(0);
            store.changes.typing(conversationId, e.target.value.length > 0);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
          onKeyDown={onKey}
          onPaste={onPaste}
          maxLength={16000}
          data-testid="composer"
        />
        <button className="primary" type="submit" data-testid="send">
          {editing ? 'Save edit' : 'Send'}
        </button>
      </form>
    </div>
  );
}
