import { groupNotice, MessageType, type GroupNoticeContent, type Message } from '@easy-chat/sdk';

/** Names a user in a notice (a remark or nickname). */
export type NameOf = (userId: string) => string;

const ROLE_NAMES: Record<number, string> = { 1: 'the owner', 2: 'a manager', 3: 'a member' };

function clock(ms: number): string {
  const at = new Date(ms);
  const today = at.toDateString() === new Date().toDateString();
  return today
    ? at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : at.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;
const userOf = (n: GroupNoticeContent): string => text(n.userId) ?? '';

/** What changed in a `group.updated` notice, one phrase per field. */
function updates(n: GroupNoticeContent): string[] {
  const parts: string[] = [];
  if (text(n.name) !== undefined) parts.push(`renamed the group to “${text(n.name)}”`);
  if (text(n.icon) !== undefined) parts.push('changed the group picture');
  const notification = text(n.notification);
  if (notification !== undefined) {
    parts.push(
      notification ? `changed the announcement: ${notification}` : 'removed the announcement',
    );
  }
  if (typeof n.isVerify === 'boolean') {
    parts.push(n.isVerify ? 'made joining need approval' : 'let anyone join');
  }
  return parts;
}

/**
 * The line a group notice (mType 10, DESIGN.md §7) shows in the chat and as the
 * conversation's last message, from my side ("You removed Ann", "Ann made you a
 * manager"). A type this app does not know yet, or a content it cannot read,
 * still shows as a neutral line: never a raw JSON bubble.
 */
export function noticeText(
  message: { mType: number; content: string },
  nameOf: NameOf,
  me?: string,
): string {
  const n = groupNotice(message);
  if (!n) return 'The group changed';
  const subject = (id: string) => (!id ? 'Someone' : id === me ? 'You' : nameOf(id));
  const object = (id: string) => (id === me ? 'you' : subject(id));
  const target = userOf(n);
  const op = subject(n.operatorId);
  const user = subject(target);
  const them = object(target);
  const is = target === me ? 'are' : 'is';
  switch (n.type) {
    case 'member.joined': {
      const inviter = text(n.inviterId);
      if (n.roleLevel === 1) return `${user} created the group`;
      if (inviter && inviter !== target) return `${subject(inviter)} invited ${them}`;
      return n.operatorId && n.operatorId !== target
        ? `${op} let ${them} in`
        : `${user} joined the group`;
    }
    case 'member.left':
      return `${user} left the group`;
    case 'member.kicked':
      return `${op} removed ${them}`;
    case 'member.role': {
      const role = typeof n.roleLevel === 'number' ? ROLE_NAMES[n.roleLevel] : undefined;
      if (!role) return `${op} changed ${target === me ? 'your' : `${user}’s`} role`;
      // An owner handing over steps down to manager by their own act.
      if (n.roleLevel === 1 || n.operatorId === target) return `${user} ${is} now ${role}`;
      return n.roleLevel === 3 && n.oldRoleLevel === 2
        ? `${op} removed ${them} as a manager`
        : `${op} made ${them} ${role}`;
    }
    case 'member.muted': {
      const until = typeof n.mutedUntil === 'number' ? n.mutedUntil : 0;
      return until > 0 ? `${op} muted ${them} until ${clock(until)}` : `${op} unmuted ${them}`;
    }
    case 'group.updated': {
      const parts = updates(n);
      return parts.length > 0 ? `${op} ${parts.join('; ')}` : `${op} changed the group`;
    }
    case 'group.muted':
      return n.muted === false
        ? `${op} unmuted the group`
        : `${op} muted the group: only the owner and managers can post`;
    case 'group.dismissed':
      return `${op} dismissed the group`;
    default:
      return `${op} changed the group`;
  }
}

/** The users a notice names (to look their names up). */
export function noticeUsers(message: { mType: number; content: string }): string[] {
  const n = groupNotice(message);
  return n ? [n.operatorId, userOf(n)].filter(Boolean) : [];
}

type Mutes = Record<string, Record<string, number>>;

/**
 * Member mutes told by `member.muted` notices, merged into what is known. Live
 * notices (push, sync) replace what is held; notices from an older history page
 * (`older`) only fill in members nothing newer was heard about.
 */
export function withMutes(known: Mutes, messages: Message[], older = false): Mutes {
  let next = known;
  const told = new Set<string>();
  // Newest first: within one batch the latest notice about a member wins.
  for (const m of [...messages].sort((a, b) => b.seq - a.seq)) {
    const n = groupNotice(m);
    if (n?.type !== 'member.muted' || typeof n.userId !== 'string') continue;
    const key = `${m.conversationId}\n${n.userId}`;
    if (told.has(key)) continue;
    told.add(key);
    const group = next[m.conversationId] ?? {};
    if (older && n.userId in group) continue;
    const until = typeof n.mutedUntil === 'number' ? n.mutedUntil : 0;
    next = { ...next, [m.conversationId]: { ...group, [n.userId]: until } };
  }
  return next;
}

/** A notice from another system (mType 3, `kind: "system_notice"`): shown as a card, not a bubble. */
export interface SystemNotice {
  title: string;
  content: string;
}

export function systemNotice(message: {
  mType: number;
  content: string;
}): SystemNotice | undefined {
  if (message.mType !== MessageType.custom || !message.content.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(message.content) as Record<string, unknown> | null;
    if (value?.kind !== 'system_notice') return undefined;
    return {
      title: typeof value.title === 'string' ? value.title : '',
      content: typeof value.content === 'string' ? value.content : '',
    };
  } catch {
    return undefined;
  }
}
