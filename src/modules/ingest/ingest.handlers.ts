import { Type } from 'typebox';
import { AppError } from '../../errors/app-error.js';
import { EventErrors } from '../../events/event.errors.js';
import { defineIngestHandler, type IngestHandler } from './ingest.registry.js';

/** The part of the user module the `user-disabled` handler needs. */
export interface UserDisabler {
  disable(userId: string, by: { reason: string; source: string }): Promise<void>;
}

/** A system notice as it is posted into conversations. */
export interface SystemNotice {
  /** The ingested event id, so a repeated post can be recognised. */
  noticeId: string;
  title: string;
  content: string;
  source: string;
}

/**
 * Port to the IM module: posts a system message into the named users' single
 * conversations with the system, or into a group's conversation. Implemented by
 * the IM module; until one is wired, `system_notice-created` answers 503 / 500008.
 */
export interface SystemNoticeSink {
  /** Returns how many conversations received the notice. */
  postToUsers(userIds: readonly string[], notice: SystemNotice): Promise<number>;
  postToGroup(groupId: string, notice: SystemNotice): Promise<number>;
}

/** `user-disabled`: disables the account, revokes its tokens; gateways close its sockets. */
export function userDisabledHandler(users: UserDisabler) {
  return defineIngestHandler({
    type: 'user-disabled',
    description:
      'Disables an account: login is refused, every token issued so far is revoked, and a user-disabled domain event tells gateways to close its sockets.',
    payload: Type.Object({
      userId: Type.String({ minLength: 1, maxLength: 64 }),
      reason: Type.Optional(Type.String({ maxLength: 500 })),
    }),
    async handle(message) {
      const { userId, reason } = message.payload;
      await users.disable(userId, { reason: reason ?? '', source: message.metadata.source });
      return { userId, status: 'disabled' };
    },
  });
}

/** `system_notice-created`: a system message into users' or a group's conversations. */
export function systemNoticeHandler(sink: SystemNoticeSink | undefined) {
  return defineIngestHandler({
    type: 'system_notice-created',
    description:
      "Posts a system message into the named users' conversations (userIds) or into one group's conversation (groupId); exactly one of the two.",
    payload: Type.Object({
      title: Type.Optional(Type.String({ maxLength: 200 })),
      content: Type.String({ minLength: 1, maxLength: 4000 }),
      userIds: Type.Optional(
        Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 1000 }),
      ),
      groupId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    }),
    async beforeHandle(message) {
      const { userIds, groupId } = message.payload;
      if ((userIds === undefined) === (groupId === undefined)) {
        throw new AppError(
          EventErrors.payloadInvalid,
          'payload: give exactly one of userIds or groupId',
        );
      }
      if (!sink) throw new AppError(EventErrors.handlerUnavailable);
    },
    async handle(message) {
      const { title, content, userIds, groupId } = message.payload;
      const notice: SystemNotice = {
        noticeId: message.eventId,
        title: title ?? '',
        content,
        source: message.metadata.source,
      };
      const delivered = userIds
        ? await sink!.postToUsers([...new Set(userIds)], notice)
        : await sink!.postToGroup(groupId!, notice);
      return { delivered };
    },
  });
}

/** The handlers every server registers; add new built-ins here (the catalogue lists them). */
export function builtInIngestHandlers(deps: {
  users: UserDisabler;
  systemNotices: SystemNoticeSink | undefined;
}): Array<IngestHandler<unknown, unknown>> {
  return [userDisabledHandler(deps.users), systemNoticeHandler(deps.systemNotices)];
}
