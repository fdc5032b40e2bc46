import { createHash } from 'node:crypto';
import { AppError } from '../../errors/app-error.js';
import type { ChatAccess } from './chat-access.js';
import type { ChatService } from './chat.service.js';
import { ChatType, MessageType } from './im.entity.js';
import { ImErrors } from './im.errors.js';

/** A notice from another system (the event layer's ingested `system_notice-created`). */
export interface Notice {
  /** The ingested event's id: posting the same notice again stores nothing new. */
  noticeId: string;
  title: string;
  content: string;
  source: string;
}

/**
 * Posts notices as messages from the system sender: into each named user's
 * conversation with the system, or into a group's conversation. The message is
 * `mType` 3 (custom) with JSON content `{kind: "system_notice", title, content,
 * source}`, so clients can render it apart from chat.
 */
export class SystemNotices {
  constructor(private readonly deps: { chat: ChatService; access: ChatAccess }) {}

  /** Returns how many users got the notice; unknown user ids are skipped. */
  async postToUsers(userIds: readonly string[], notice: Notice): Promise<number> {
    let delivered = 0;
    for (const userId of userIds) {
      if (!(await this.deps.access.userExists(userId))) continue;
      await this.deps.chat.sendAsSystem(
        { chatType: ChatType.single, recvId: userId },
        this.message(notice),
        clientMsgId(notice.noticeId, userId),
      );
      delivered += 1;
    }
    return delivered;
  }

  async postToGroup(groupId: string, notice: Notice): Promise<number> {
    if (!(await this.deps.access.groupExists(groupId))) throw new AppError(ImErrors.groupNotFound);
    await this.deps.chat.sendAsSystem(
      { chatType: ChatType.group, recvId: groupId },
      this.message(notice),
      clientMsgId(notice.noticeId, groupId),
    );
    return 1;
  }

  private message(notice: Notice) {
    const { title, content, source } = notice;
    return {
      mType: MessageType.custom,
      content: JSON.stringify({ kind: 'system_notice', title, content, source }),
    };
  }
}

/** One id per notice and recipient, within the 64 characters a clientMsgId may have. */
function clientMsgId(noticeId: string, recipient: string): string {
  const digest = createHash('sha256').update(`${noticeId}\u0000${recipient}`).digest('base64url');
  return `notice:${digest.slice(0, 40)}`;
}
