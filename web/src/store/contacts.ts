import {
  SOCIAL_PUSH_METHODS,
  type ChatClient,
  type GroupMember,
  type GroupRequest,
} from '@easy-chat/sdk';
import { withDelivered } from './conversations.js';
import type { StoreCore } from './core.js';

/** Friends, their presence, groups, join requests, members and my profile. */
export class ContactsStore {
  private onlineTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly core: StoreCore) {}

  /** Follows the pushes about people and groups on a new session's client. */
  attach(client: ChatClient): void {
    // Friend pushes and join requests (one event each): reload what they changed. The
    // other group pushes are the group part's (GroupAdminStore), with the members on screen.
    for (const method of SOCIAL_PUSH_METHODS) {
      client.on(method, () => {
        if (method.startsWith('friend.')) {
          void this.refreshFriends().catch((e: unknown) => this.core.fail(e));
          void this.refreshOnline();
        } else if (method.startsWith('group.request')) {
          void this.refreshGroups().catch((e: unknown) => this.core.fail(e));
        }
      });
    }
    client.on('state', ({ state }) => {
      if (state === 'online') void this.refreshOnline();
    });
    // Friends coming and going are pushed (user.presence).
    client.on('presence', ({ userId, online }) =>
      this.core.set((s) => {
        const next = { ...s.online };
        if (online) next[userId] = true;
        else delete next[userId];
        return { online: next, ...withDelivered({ ...s, online: next }) };
      }),
    );
    // The push misses a friend whose gateway crashed (offline when its heartbeat
    // expires, with nobody to announce it): re-read now and then.
    clearInterval(this.onlineTimer);
    this.onlineTimer = setInterval(() => void this.refreshOnline(), 60_000);
    void this.refreshSocial();
  }

  detach(): void {
    clearInterval(this.onlineTimer);
  }

  async refreshSocial(): Promise<void> {
    await Promise.all([this.refreshFriends(), this.refreshGroups(), this.refreshBlocked()]).catch(
      (err: unknown) => this.core.fail(err),
    );
  }

  async refreshBlocked(): Promise<void> {
    this.core.set({ blocked: await this.core.api.blacklist() });
  }

  /** Blocks a user: they can no longer message me, befriend me or invite me to a group. */
  async block(userId: string): Promise<void> {
    await this.core.api.block(userId);
    await this.refreshBlocked();
  }

  async unblock(userId: string): Promise<void> {
    await this.core.api.unblock(userId);
    await this.refreshBlocked();
  }

  /** Sets my private name for a friend ('' clears it); lists and titles show it. */
  async setRemark(friendUid: string, remark: string): Promise<void> {
    await this.core.api.setFriendRemark({ friendUid, remark });
    await this.refreshFriends();
  }

  async refreshFriends(): Promise<void> {
    const api = this.core.api;
    const [friends, friendRequests] = await Promise.all([api.friends(), api.friendRequests()]);
    const users = { ...this.core.getState().users };
    for (const f of friends) users[f.friendUid] = { nickname: f.nickname, avatar: f.avatar };
    this.core.set({ friends, friendRequests, users });
    this.core.lookup(friendRequests.map((r) => r.reqUid));
    await this.refreshOnline();
  }

  async refreshGroups(): Promise<void> {
    const api = this.core.api;
    const groups = await api.groups();
    this.core.set({ groups });
    const me = this.core.getState().me?.id;
    const managed = groups.filter((g) => g.creatorUid === me || g.isVerify);
    const requests = await Promise.all(
      managed.map((g) => api.groupRequests(g.id).catch(() => [] as GroupRequest[])),
    );
    const groupRequests: Record<string, GroupRequest[]> = {};
    managed.forEach((g, i) => (groupRequests[g.id] = requests[i]!));
    this.core.set({ groupRequests });
    this.core.lookup(requests.flat().map((r) => r.reqId));
  }

  async refreshOnline(): Promise<void> {
    const client = this.core.client;
    if (!client) return;
    try {
      const online = await client.onlineFriends();
      this.core.set((s) => ({ online, ...withDelivered({ ...s, online }) }));
    } catch {
      // next round
    }
  }

  async loadMembers(groupId: string): Promise<void> {
    try {
      const members: GroupMember[] = [];
      let cursor: string | undefined;
      do {
        const page = await this.core.api.members({ groupId, ...(cursor ? { cursor } : {}) });
        members.push(...page.list);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      const users = { ...this.core.getState().users };
      for (const m of members) users[m.userId] = { nickname: m.nickname, avatar: m.avatar };
      this.core.set((s) => ({ members: { ...s.members, [groupId]: members }, users }));
    } catch (err) {
      this.core.fail(err);
    }
  }

  async updateProfile(input: { nickname?: string; avatar?: string; sex?: number }): Promise<void> {
    const info = await this.core.api.updateMe(input);
    this.core.set((s) => ({ me: info, users: { ...s.users, [info.id]: info } }));
  }
}
