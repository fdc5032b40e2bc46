import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

export interface MenuItem {
  label: string;
  testId: string;
  onSelect: () => void;
}

/**
 * A ⋯ button with a menu of actions: opens on click, focuses its first item,
 * moves with the arrow keys, closes on Escape (focus back on the button), on an
 * outside click, and after an item is chosen.
 */
export function MenuButton(props: {
  /** What the menu is about, for screen readers ("Options for Ann"). */
  label: string;
  testId: string;
  items: MenuItem[];
  children?: ReactNode;
}) {
  const [open, setOpen] = useState(false);
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
  }, [open]);

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
    items[(at + (event.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length]?.focus();
  }

  return (
    <div className="conv-menu" ref={box} onKeyDown={onKeyDown}>
      <button
        ref={button}
        className="menu-button"
        aria-label={props.label}
        aria-haspopup="menu"
        aria-expanded={open}
        data-testid={props.testId}
        onClick={() => setOpen(!open)}
      >
        {props.children ?? '⋯'}
      </button>
      {open && (
        <div className="menu menu-right" role="menu" aria-label={props.label}>
          {props.items.map((item) => (
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
        </div>
      )}
    </div>
  );
}
