import type { State } from './state.js';

/** My remark for a friend, or '' (not a friend, or no remark set). */
export function remarkOf(s: State, userId: string): string {
  return s.friends.find((f) => f.friendUid === userId)?.remark ?? '';
}

/**
 * The name to show for a user: my remark for them when I set one (lists, chat
 * titles, senders), else their nickname. Where a remark shows, the nickname is
 * shown next to it (friends list, chat header), so the person stays recognisable.
 */
export function displayName(s: State, userId: string): string {
  return remarkOf(s, userId) || s.users[userId]?.nickname || '…';
}
