import { useSyncExternalStore } from 'react';
import { store, type State } from './store/index.js';

/** The app state (re-renders on every change; the state is small). */
export function useAppState(): State {
  return useSyncExternalStore(store.subscribe, store.getState);
}

export function initials(name: string | undefined): string {
  const trimmed = (name ?? '?').trim();
  return (trimmed[0] ?? '?').toUpperCase();
}

/** A stable colour per id, for avatars. */
export function colourOf(id: string): string {
  let hash = 0;
  for (const ch of id) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360} 55% 48%)`;
}

export function timeOf(ms: number): string {
  const date = new Date(ms);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

/** The local calendar day of a time, as a comparable key. */
export function dayOf(ms: number): string {
  return new Date(ms).toDateString();
}
