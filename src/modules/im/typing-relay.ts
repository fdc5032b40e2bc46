import { AppError } from '../../errors/app-error.js';
import type { PushDelivery } from '../../realtime/push-delivery.js';
import type { ServerPush } from '../../realtime/server-push.js';
import type { Clock } from '../../shared/clock.js';
import type { ConversationRepository } from './conversation.repository.js';
import { ChatType } from './im.entity.js';
import { ImErrors } from './im.errors.js';

/** The push method relaying a typing notice. */
export const CONVERSATION_TYPING = 'conversation.typing';

/** Conversations one socket's typing state is kept for; the oldest is forgotten first. */
const MAX_TRACKED_PER_SOCKET = 64;

/** Group members a typing notice goes to per batch. */
const BATCH = 500;

interface LastRelay {
  at: number;
  typing: boolean;
}

/**
 * `conversation.typing`: relayed at once to the other participants' sockets, never
 * stored. Per socket and conversation, "typing" is relayed at most once per
 * `minIntervalMs` (clients repeat it while typing, and receivers let it expire a
 * few seconds after the last one); "stopped" passes only after a relayed "typing".
 * The state lives with the socket (a WeakMap keyed by it), so it goes with it.
 */
export class TypingRelay {
  private readonly last = new WeakMap<object, Map<string, LastRelay>>();

  constructor(
    private readonly deps: {
      conversations: ConversationRepository;
      delivery: PushDelivery;
      clock: Clock;
      minIntervalMs: number;
    },
  ) {}

  async relay(
    socket: { id: string },
    userId: string,
    input: { conversationId: string; typing: boolean },
  ): Promise<void> {
    const { conversations, delivery, clock, minIntervalMs } = this.deps;
    const { conversationId, typing } = input;
    const member = await conversations.member(conversationId, userId);
    if (!member) throw new AppError(ImErrors.notParticipant);
    const now = clock();
    const seen = this.stateOf(socket);
    const last = seen.get(conversationId);
    if (typing && last?.typing && now - last.at < minIntervalMs) {
      throw new AppError(ImErrors.typingTooFast);
    }
    // Nothing to stop: answered, not relayed.
    if (!typing && !last?.typing) return;
    seen.delete(conversationId);
    seen.set(conversationId, { at: now, typing });
    if (seen.size > MAX_TRACKED_PER_SOCKET) seen.delete(seen.keys().next().value!);

    const push: ServerPush = {
      method: CONVERSATION_TYPING,
      formId: userId,
      data: { conversationId, userId, typing },
    };
    if (member.chatType === ChatType.single) {
      await delivery.toUsers([member.targetId], push);
      return;
    }
    // Not toConversation: that would reach the typer's own other devices too.
    let after: string | undefined;
    for (;;) {
      const ids = await conversations.audience(
        conversationId,
        Number.MAX_SAFE_INTEGER,
        after,
        BATCH,
      );
      const others = ids.filter((id) => id !== userId);
      if (others.length > 0) await delivery.toUsers(others, push);
      if (ids.length < BATCH) return;
      after = ids[ids.length - 1];
    }
  }

  private stateOf(socket: object): Map<string, LastRelay> {
    let state = this.last.get(socket);
    if (!state) {
      state = new Map();
      this.last.set(socket, state);
    }
    return state;
  }
}
