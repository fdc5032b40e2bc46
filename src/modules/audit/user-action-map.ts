import type { DomainEventMap, DomainEventType } from '../../events/domain-events.js';

/** What one domain event means in the audit log. */
export interface UserAction {
  action: string;
  /** Who did it (null for system actions). */
  userId: string | null;
  /** Whom or what it was done to. */
  targetId?: string | null;
  detail?: Record<string, unknown>;
}

type TypedMappers = { [K in DomainEventType]?: (payload: DomainEventMap[K]) => UserAction };

/** Domain events of this codebase with a typed mapping to an audited action. */
const TYPED: TypedMappers = {
  'user-created': (p) => ({
    action: 'register',
    userId: p.userId,
    detail: { nickname: p.nickname },
  }),
  'user-logged_in': (p) => ({ action: 'login', userId: p.userId, detail: { ip: p.ip } }),
  'user-logged_out': (p) => ({ action: 'logout', userId: p.userId }),
  'user-updated': (p) => ({
    action: 'profile_update',
    userId: p.userId,
    detail: { fields: p.fields },
  }),
  'user-disabled': (p) => ({
    action: 'account_disabled',
    userId: null,
    targetId: p.userId,
    detail: { reason: p.reason, source: p.source },
  }),
  'user-enabled': (p) => ({
    action: 'account_enabled',
    userId: null,
    targetId: p.userId,
    detail: { source: p.source },
  }),
  'user-sessions_ended': (p) => ({
    action: 'force_logout',
    userId: null,
    targetId: p.userId,
    detail: { source: p.source },
  }),
  'user-password_changed': (p) => ({
    action: p.how === 'reset' ? 'password_reset' : 'password_change',
    userId: p.userId,
  }),
  'user-deleted': (p) => ({ action: 'account_delete', userId: p.userId }),
};

/**
 * Social events (produced by the social module). Until each gets a typed mapper
 * above, its actor and target are read from the first id field present in the
 * payload, in the order listed; the whole payload goes into `detail`.
 */
const BY_FIELDS: Record<string, { action: string; actor: string[]; target: string[] }> = {
  'friend_request-created': { action: 'friend_request', actor: ['reqUid'], target: ['userId'] },
  'friend_request-handled': {
    action: 'friend_request_handled',
    actor: ['userId', 'handlerUid'],
    target: ['reqUid'],
  },
  'friend-added': { action: 'friend_add', actor: ['userId'], target: ['friendUid'] },
  'friend-deleted': { action: 'friend_delete', actor: ['userId'], target: ['friendUid'] },
  'group-created': { action: 'group_create', actor: ['creatorUid', 'userId'], target: ['groupId'] },
  'group-dismissed': {
    action: 'group_dismiss',
    actor: ['operatorUid', 'userId'],
    target: ['groupId'],
  },
  'group_request-created': {
    action: 'group_request',
    actor: ['reqUid', 'inviterUid', 'userId'],
    target: ['groupId'],
  },
  'group_request-handled': {
    action: 'group_request_handled',
    actor: ['handlerUid', 'operatorUid', 'userId'],
    target: ['groupId'],
  },
  'group_member-joined': { action: 'group_join', actor: ['userId'], target: ['groupId'] },
  'group_member-left': { action: 'group_quit', actor: ['userId'], target: ['groupId'] },
  'group_member-removed': {
    action: 'group_member_remove',
    actor: ['operatorUid'],
    target: ['userId', 'groupId'],
  },
  'group_member-role_changed': {
    action: 'group_member_role',
    actor: ['operatorUid'],
    target: ['userId', 'groupId'],
  },
  'blacklist-added': { action: 'block', actor: ['userId'], target: ['blockedUid'] },
  'blacklist-removed': { action: 'unblock', actor: ['userId'], target: ['blockedUid'] },
  'group-owner_transferred': {
    action: 'group_owner_transfer',
    actor: ['fromUid', 'operatorUid'],
    target: ['toUid', 'groupId'],
  },
};

/** Every domain event type the `log.user_action` consumer subscribes to. */
export const AUDITED_DOMAIN_TYPES: readonly string[] = [
  ...Object.keys(TYPED),
  ...Object.keys(BY_FIELDS),
];

/** The audited action for a domain event, or undefined when the type is not audited. */
export function toUserAction(type: string, payload: unknown): UserAction | undefined {
  const typed = (TYPED as Record<string, ((p: unknown) => UserAction) | undefined>)[type];
  if (typed) return typed(payload);
  const rule = BY_FIELDS[type];
  if (!rule) return undefined;
  const fields = (payload ?? {}) as Record<string, unknown>;
  const pick = (names: string[]) => {
    for (const name of names) if (typeof fields[name] === 'string') return fields[name];
    return null;
  };
  return {
    action: rule.action,
    userId: pick(rule.actor),
    targetId: pick(rule.target),
    detail: fields,
  };
}
