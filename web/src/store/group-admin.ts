import {
  MessageType,
  type ChatClient,
  type Message,
  type MuteMemberInput,
  type SetRoleInput,
  type UpdateGroupInput,
} from '@easy-chat/sdk';
import type { ContactsStore } from './contacts.js';
import type { StoreCore } from './core.js';
import { noticeUsers, withMutes } from './notices.js';

/** The group pushes after which the group list (names, counts, mute) and its members are re-read. */
const GROUP_CHANGES = [
  'group.member.joined',
  'group.member.left',
  'group.member.removed',
  'group.dismissed',
  'group.updated',
  'group.muted',
] as const;

/**
 * Running a group (invite, info, mutes, roles, kick) and keeping what the app
 * shows of it live: the member count, names and mutes follow the group pushes
 * and the notices (mType 10) that every member receives in the conversation.
 */
export class GroupAdminStore {
  contacts!: ContactsStore;

  constructor(private readonly core: StoreCore) {}

  attach(client: ChatClient): void {
    client.on('message', ({ message, source }) => {
      if (message.mType === MessageType.notice) this.onNotice(message, source === 'push');
    });
    for (const method of GROUP_CHANGES) {
      client.on(method, ({ groupId }) => this.reload(groupId));
    }
    // Only the member muted is pushed this one (the others read the notice).
    client.on('group.member.muted', ({ groupId, userId, mutedUntil }) =>
      this.setMute(groupId, userId, mutedUntil),
    );
  }

  private onNotice(message: Message, live: boolean): void {
    this.core.set((s) => ({ memberMutes: withMutes(s.memberMutes, [message]) }));
    this.core.lookup(noticeUsers(message));
    // A notice read by sync on connect is already in the list the connect loads.
    if (live) this.reload(message.conversationId);
  }

  /** Re-reads the group list and, if they are on screen, the group's members. */
  private reload(groupId: string): void {
    void this.contacts.refreshGroups().catch((e: unknown) => this.core.fail(e));
    if (this.core.getState().members[groupId]) void this.contacts.loadMembers(groupId);
  }

  private setMute(groupId: string, userId: string, mutedUntil: number): void {
    this.core.set((s) => ({
      memberMutes: {
        ...s.memberMutes,
        [groupId]: { ...s.memberMutes[groupId], [userId]: mutedUntil },
      },
    }));
  }

  /** Invites a friend; answers whether they joined at once (else a manager approves). */
  async invite(groupId: string, userId: string): Promise<boolean> {
    const answer = await this.core.api.joinGroup({ groupId, joinSource: 1, reqId: userId });
    this.reload(groupId);
    return answer.joined;
  }

  async update(input: UpdateGroupInput): Promise<void> {
    await this.core.api.updateGroup(input);
    this.reload(input.groupId);
  }

  async muteGroup(groupId: string, muted: boolean): Promise<void> {
    await this.core.api.muteGroup(groupId, muted);
    this.reload(groupId);
  }

  async muteMember(input: MuteMemberInput): Promise<void> {
    const { mutedUntil } = await this.core.api.muteMember(input);
    this.setMute(input.groupId, input.userId, mutedUntil);
  }

  async setRole(input: SetRoleInput): Promise<void> {
    await this.core.api.setRole(input);
    this.reload(input.groupId);
  }

  async kick(groupId: string, userId: string): Promise<void> {
    await this.core.api.removeMember(groupId, userId);
    this.reload(groupId);
  }
}
