import { ApiError, ErrorCode, TimeoutError } from './errors.js';
import {
  multipartBody,
  sendUpload,
  unwrapEnvelope,
  uploadName,
  type UploadBody,
  type UploadOptions,
} from './upload.js';
import type {
  BlockedUser,
  PushDevice,
  RegisterPushDeviceInput,
  ChangePasswordInput,
  ResetPasswordInput,
  DirectUpload,
  DirectUploadInput,
  FileLink,
  UploadedFile,
  ChatLogQuery,
  Conversation,
  CreateGroupInput,
  FindUsersQuery,
  Friend,
  FriendRequest,
  FriendRequestAnswer,
  FriendRequestInput,
  FriendRemarkInput,
  Group,
  GroupJoinAnswer,
  GroupJoinInput,
  GroupRequest,
  HandleFriendRequestInput,
  HandleGroupRequestInput,
  LoginInput,
  MembersPage,
  MembersQuery,
  Message,
  OnlineList,
  ReadRecords,
  RegisterInput,
  SetRoleInput,
  UpdateGroupInput,
  MuteMemberInput,
  SetupConversationInput,
  TokenData,
  UpdateConversationsInput,
  UpdateUserInput,
  UserInfo,
} from './types.js';

function hasXhr(): boolean {
  return typeof (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest === 'function';
}

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Every HTTP route the SDK calls. The server's tests compare this table with the
 * OpenAPI document the server serves, both ways, so a route added, renamed or
 * removed on either side fails the build.
 */
export const ROUTES = {
  register: { method: 'POST', path: '/v1/user/register', auth: false },
  login: { method: 'POST', path: '/v1/user/login', auth: false },
  me: { method: 'GET', path: '/v1/user/user', auth: true },
  updateMe: { method: 'PUT', path: '/v1/user/user', auth: true },
  findUsers: { method: 'GET', path: '/v1/user/users', auth: true },
  logout: { method: 'POST', path: '/v1/user/logout', auth: true },
  changePassword: { method: 'PUT', path: '/v1/user/password', auth: true },
  deleteAccount: { method: 'DELETE', path: '/v1/user/user', auth: true },
  requestResetCode: { method: 'POST', path: '/v1/user/password/resetCode', auth: false },
  resetPassword: { method: 'POST', path: '/v1/user/password/reset', auth: false },

  requestFriend: { method: 'POST', path: '/v1/social/friend/putIn', auth: true },
  handleFriendRequest: { method: 'PUT', path: '/v1/social/friend/putIn', auth: true },
  friendRequests: { method: 'GET', path: '/v1/social/friend/putIns', auth: true },
  friends: { method: 'GET', path: '/v1/social/friends', auth: true },
  onlineFriends: { method: 'GET', path: '/v1/social/friends/online', auth: true },
  deleteFriend: { method: 'DELETE', path: '/v1/social/friend', auth: true },
  setFriendRemark: { method: 'PUT', path: '/v1/social/friend', auth: true },
  block: { method: 'POST', path: '/v1/social/blacklist', auth: true },
  unblock: { method: 'DELETE', path: '/v1/social/blacklist', auth: true },
  blacklist: { method: 'GET', path: '/v1/social/blacklist', auth: true },
  createGroup: { method: 'POST', path: '/v1/social/group', auth: true },
  dismissGroup: { method: 'DELETE', path: '/v1/social/group', auth: true },
  joinGroup: { method: 'POST', path: '/v1/social/group/putIn', auth: true },
  handleGroupRequest: { method: 'PUT', path: '/v1/social/group/putIn', auth: true },
  groupRequests: { method: 'GET', path: '/v1/social/group/putIns', auth: true },
  groups: { method: 'GET', path: '/v1/social/groups', auth: true },
  members: { method: 'GET', path: '/v1/social/group/users', auth: true },
  onlineMembers: { method: 'GET', path: '/v1/social/group/users/online', auth: true },
  quitGroup: { method: 'POST', path: '/v1/social/group/quit', auth: true },
  setRole: { method: 'PUT', path: '/v1/social/group/member', auth: true },
  updateGroup: { method: 'PUT', path: '/v1/social/group', auth: true },
  muteGroup: { method: 'PUT', path: '/v1/social/group/mute', auth: true },
  muteMember: { method: 'PUT', path: '/v1/social/group/member/mute', auth: true },
  removeMember: { method: 'DELETE', path: '/v1/social/group/member', auth: true },

  chatLog: { method: 'GET', path: '/v1/im/chatlog', auth: true },
  readRecords: { method: 'GET', path: '/v1/im/chatlog/readRecords', auth: true },
  setupConversation: { method: 'POST', path: '/v1/im/setup/conversation', auth: true },
  conversations: { method: 'GET', path: '/v1/im/conversation', auth: true },
  updateConversations: { method: 'PUT', path: '/v1/im/conversation', auth: true },
  deleteConversation: { method: 'DELETE', path: '/v1/im/conversation', auth: true },

  uploadFile: { method: 'POST', path: '/v1/files', auth: true },
  createDirectUpload: { method: 'POST', path: '/v1/files/uploads', auth: true },
  completeDirectUpload: {
    method: 'POST',
    path: '/v1/files/uploads/{uploadId}/complete',
    auth: true,
  },
  fileLink: { method: 'GET', path: '/v1/files/{fileId}/link', auth: true },
  downloadFile: { method: 'GET', path: '/v1/files/{fileId}', auth: true },
  downloadThumbnail: { method: 'GET', path: '/v1/files/{fileId}/thumb', auth: true },

  registerPushDevice: { method: 'POST', path: '/v1/push/devices', auth: true },
  removePushDevice: { method: 'DELETE', path: '/v1/push/devices', auth: true },
  pushDevices: { method: 'GET', path: '/v1/push/devices', auth: true },
  pushVapidKey: { method: 'GET', path: '/v1/push/vapidKey', auth: true },
} as const satisfies Record<string, { method: HttpMethod; path: string; auth: boolean }>;

export type RouteName = keyof typeof ROUTES;

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

type RequestInit = {
  method: string;
  headers: Record<string, string>;
  body?: string | Blob | ReadableStream<Uint8Array>;
  /** Set with a stream body (the fetch standard requires it). */
  duplex?: 'half';
  signal?: AbortSignal;
};

export interface RestClientOptions {
  /** The server, e.g. `http://localhost:8080`; '' means same origin (browsers). */
  baseUrl: string;
  token?: string | null;
  /** Defaults to the global fetch (browsers, Node 18+). */
  fetch?: FetchLike;
  /** Per-request timeout; default 15 s. */
  timeoutMs?: number;
  /** Called when an answer is 401 / 100003 (the token stopped working). */
  onUnauthorized?: (error: ApiError) => void;
}

type Query = Record<string, string | number | boolean | undefined>;

/**
 * The typed REST client: one method per route, answers unwrapped from the
 * `{code, msg, data}` envelope, errors thrown as ApiError with the server's code.
 */
export class RestClient {
  token: string | null;
  private readonly baseUrl: string;
  private readonly fetchFn: FetchLike;
  /** The fetch the caller passed, if any: uploads use it instead of XMLHttpRequest. */
  private readonly customFetch: FetchLike | undefined;
  private readonly timeoutMs: number;
  private readonly onUnauthorized: ((error: ApiError) => void) | undefined;

  constructor(options: RestClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token ?? null;
    const fetchFn = options.fetch ?? globalThis.fetch;
    if (!fetchFn) throw new Error('easy-chat sdk: no fetch available; pass options.fetch');
    this.fetchFn = (input, init) => fetchFn(input, init);
    this.customFetch = options.fetch && this.fetchFn;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.onUnauthorized = options.onUnauthorized;
  }

  /** Calls one route: `body` for POST/PUT (and a DELETE that takes one), `query` otherwise, `params` for `{name}` in its path. */
  async call<T>(
    name: RouteName,
    input: { body?: unknown; query?: Query; params?: Record<string, string> } = {},
  ): Promise<T> {
    const route = ROUTES[name];
    let url = this.urlOf(route.path, input.params);
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(input.query ?? {})) {
      if (value !== undefined) params.set(key, String(value));
    }
    const search = params.toString();
    if (search) url += `?${search}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (route.auth && this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (route.method === 'POST' || route.method === 'PUT' || input.body !== undefined) {
      body = JSON.stringify(input.body ?? {});
      headers['content-type'] = 'application/json';
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.fetchFn(url, {
        method: route.method,
        headers,
        body,
        signal: controller.signal,
      });
      text = await response.text();
    } catch (err) {
      if (controller.signal.aborted) {
        throw new TimeoutError(`${route.method} ${route.path}: no answer in ${this.timeoutMs} ms`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
    let envelope: { code?: unknown; msg?: unknown; data?: unknown };
    try {
      envelope = JSON.parse(text) as typeof envelope;
    } catch {
      throw new ApiError(
        ErrorCode.serverError,
        `${route.method} ${route.path}: answer is not JSON (HTTP ${response.status})`,
        response.status,
      );
    }
    if (response.ok && envelope.code === 200) return envelope.data as T;
    const error = new ApiError(
      typeof envelope.code === 'number' ? envelope.code : ErrorCode.serverError,
      typeof envelope.msg === 'string' ? envelope.msg : `HTTP ${response.status}`,
      response.status,
    );
    if (error.isUnauthorized && route.auth) this.onUnauthorized?.(error);
    throw error;
  }

  // --- user -------------------------------------------------------------------

  /** Registers and keeps the token for later calls. */
  async register(input: RegisterInput): Promise<TokenData> {
    const data = await this.call<TokenData>('register', { body: input });
    this.token = data.token;
    return data;
  }

  /** Logs in and keeps the token for later calls. */
  async login(input: LoginInput): Promise<TokenData> {
    const data = await this.call<TokenData>('login', { body: input });
    this.token = data.token;
    return data;
  }

  /** Revokes this token (other devices stay logged in) and forgets it. */
  async logout(): Promise<void> {
    await this.call('logout');
    this.token = null;
  }

  /**
   * Changes my password. Every other session ends; this client continues with the
   * new token the server answers (kept for later calls; reconnect sockets with it).
   */
  async changePassword(input: ChangePasswordInput): Promise<TokenData> {
    const data = await this.call<TokenData>('changePassword', { body: input });
    this.token = data.token;
    return data;
  }

  /**
   * Forgotten password, step 1: asks for a six-digit code by SMS. Resolves the same
   * whether or not the phone has an account.
   */
  async requestResetCode(phone: string): Promise<void> {
    await this.call('requestResetCode', { body: { phone } });
  }

  /**
   * Step 2: sets a new password with the code. Every session ends; this client is
   * logged in with the token answered (kept for later calls), as after login.
   */
  async resetPassword(input: ResetPasswordInput): Promise<TokenData> {
    const data = await this.call<TokenData>('resetPassword', { body: input });
    this.token = data.token;
    return data;
  }

  /** Deletes my account (confirmed by my password) and forgets the token. */
  async deleteAccount(password: string): Promise<void> {
    await this.call('deleteAccount', { body: { password } });
    this.token = null;
  }

  async me(): Promise<UserInfo> {
    return (await this.call<{ info: UserInfo }>('me')).info;
  }

  async updateMe(input: UpdateUserInput): Promise<UserInfo> {
    return (await this.call<{ info: UserInfo }>('updateMe', { body: input })).info;
  }

  async findUsers(query: FindUsersQuery): Promise<UserInfo[]> {
    return (await this.call<{ list: UserInfo[] }>('findUsers', { query: { ...query } })).list;
  }

  // --- friends ----------------------------------------------------------------

  requestFriend(input: FriendRequestInput): Promise<FriendRequestAnswer> {
    return this.call('requestFriend', { body: input });
  }

  async handleFriendRequest(input: HandleFriendRequestInput): Promise<void> {
    await this.call('handleFriendRequest', { body: input });
  }

  /** Pending requests addressed to me. */
  async friendRequests(): Promise<FriendRequest[]> {
    return (await this.call<{ list: FriendRequest[] }>('friendRequests')).list;
  }

  async friends(): Promise<Friend[]> {
    return (await this.call<{ list: Friend[] }>('friends')).list;
  }

  async onlineFriends(): Promise<Record<string, boolean>> {
    return (await this.call<OnlineList>('onlineFriends')).onlineList;
  }

  async deleteFriend(friendUid: string): Promise<void> {
    await this.call('deleteFriend', { query: { friendUid } });
  }

  /** Sets my private name for a friend ('' clears it). */
  async setFriendRemark(input: FriendRemarkInput): Promise<void> {
    await this.call('setFriendRemark', { body: input });
  }

  // --- block list -------------------------------------------------------------

  /** Blocks a user: they can no longer message me, befriend me or invite me. */
  async block(userId: string): Promise<void> {
    await this.call('block', { body: { userId } });
  }

  async unblock(userId: string): Promise<void> {
    await this.call('unblock', { query: { userId } });
  }

  /** Users I blocked, most recent first. */
  async blacklist(): Promise<BlockedUser[]> {
    return (await this.call<{ list: BlockedUser[] }>('blacklist')).list;
  }

  // --- groups -----------------------------------------------------------------

  async createGroup(input: CreateGroupInput): Promise<{ id: string }> {
    return this.call('createGroup', { body: input });
  }

  async dismissGroup(groupId: string): Promise<void> {
    await this.call('dismissGroup', { query: { groupId } });
  }

  /** Applies (joinSource 2) or invites `reqId` (joinSource 1). */
  joinGroup(input: GroupJoinInput): Promise<GroupJoinAnswer> {
    return this.call('joinGroup', { body: input });
  }

  async handleGroupRequest(input: HandleGroupRequestInput): Promise<void> {
    await this.call('handleGroupRequest', { body: input });
  }

  /** Pending join requests of a group (creator and managers). */
  async groupRequests(groupId: string): Promise<GroupRequest[]> {
    return (await this.call<{ list: GroupRequest[] }>('groupRequests', { query: { groupId } }))
      .list;
  }

  async groups(): Promise<Group[]> {
    return (await this.call<{ list: Group[] }>('groups')).list;
  }

  /** One page of members; pass `nextCursor` back as `cursor` for the next. */
  members(query: MembersQuery): Promise<MembersPage> {
    return this.call('members', { query: { ...query } });
  }

  async onlineMembers(groupId: string): Promise<Record<string, boolean>> {
    return (await this.call<OnlineList>('onlineMembers', { query: { groupId } })).onlineList;
  }

  async quitGroup(groupId: string): Promise<void> {
    await this.call('quitGroup', { body: { groupId } });
  }

  async setRole(input: SetRoleInput): Promise<void> {
    await this.call('setRole', { body: input });
  }

  /** Changes a group's name, icon, announcement or verification (creator or managers). */
  async updateGroup(input: UpdateGroupInput): Promise<void> {
    await this.call('updateGroup', { body: input });
  }

  /** Mutes or unmutes a whole group: then only its creator and managers post. */
  async muteGroup(groupId: string, muted: boolean): Promise<void> {
    await this.call('muteGroup', { body: { groupId, muted } });
  }

  /** Mutes one member for `seconds` (0 lifts it); answers when the mute ends (epoch ms). */
  async muteMember(input: MuteMemberInput): Promise<{ mutedUntil: number }> {
    return this.call<{ mutedUntil: number }>('muteMember', { body: input });
  }

  async removeMember(groupId: string, userId: string): Promise<void> {
    await this.call('removeMember', { query: { groupId, userId } });
  }

  // --- im ---------------------------------------------------------------------

  /** History, newest first; scroll back with `endSeq` = oldest seq received − 1. */
  async chatLog(query: ChatLogQuery): Promise<Message[]> {
    return (await this.call<{ list: Message[] }>('chatLog', { query: { ...query } })).list;
  }

  readRecords(msgId: string): Promise<ReadRecords> {
    return this.call('readRecords', { query: { msgId } });
  }

  async setupConversation(input: SetupConversationInput): Promise<string> {
    return (await this.call<{ conversationId: string }>('setupConversation', { body: input }))
      .conversationId;
  }

  /** My conversations by id, with unread counts and the last message. */
  async conversations(): Promise<Record<string, Conversation>> {
    return (await this.call<{ conversationList: Record<string, Conversation> }>('conversations'))
      .conversationList;
  }

  /** Read positions, and show / hide / pin / mute, of several conversations. */
  async updateConversations(input: UpdateConversationsInput): Promise<void> {
    await this.call('updateConversations', { body: input });
  }

  /** Hides a conversation and clears its history, for me only. */
  async deleteConversation(conversationId: string): Promise<void> {
    await this.call('deleteConversation', { query: { conversationId } });
  }
  // --- push devices -----------------------------------------------------------

  /** Registers this device for offline pushes (again after each login: logout ends it). */
  async registerPushDevice(input: RegisterPushDeviceInput): Promise<void> {
    await this.call('registerPushDevice', { body: input });
  }

  async removePushDevice(deviceId: string): Promise<void> {
    await this.call('removePushDevice', { query: { deviceId } });
  }

  /** My devices registered for offline pushes, oldest first. */
  async pushDevices(): Promise<PushDevice[]> {
    return (await this.call<{ list: PushDevice[] }>('pushDevices')).list;
  }

  /**
   * The server's VAPID public key, for `pushManager.subscribe({applicationServerKey})`
   * (Web Push); 404 / 700005 when the server has no Web Push configured.
   */
  async pushVapidKey(): Promise<string> {
    return (await this.call<{ publicKey: string }>('pushVapidKey')).publicKey;
  }

  // --- files ------------------------------------------------------------------

  /**
   * Uploads a file (multipart, one part named `file`) and answers what the server
   * stored: `fileId`, the name, size, the type sniffed from the bytes, image
   * dimensions, and signed `url` / `thumbUrl` paths. In Node, pass
   * `await fs.openAsBlob(path)` to stream a file from disk, or a Buffer.
   */
  async uploadFile(file: UploadBody, options: UploadOptions = {}): Promise<UploadedFile> {
    const route = ROUTES.uploadFile;
    const { body, boundary } = multipartBody(file, uploadName(file, options));
    const headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(body.size),
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const answer = await sendUpload(
      { url: this.urlOf(route.path), headers, body },
      options,
      // Browsers: XMLHttpRequest (upload progress) unless the caller chose a fetch.
      this.customFetch ?? (hasXhr() ? undefined : this.fetchFn),
    );
    try {
      return unwrapEnvelope<UploadedFile>(answer.status, answer.text, `POST ${route.path}`);
    } catch (err) {
      if (err instanceof ApiError && err.isUnauthorized) this.onUnauthorized?.(err);
      throw err;
    }
  }

  /**
   * A large file straight to S3 (S3 storage only, 409 / 600018 on disk storage):
   * announces it, PUTs the bytes to the presigned URL (with progress, as
   * `uploadFile`), then has the server check them. The bytes never pass through the
   * API. Browsers need a CORS rule on the bucket allowing PUT from the app's origin.
   */
  async uploadFileDirect(file: Blob, options: UploadOptions = {}): Promise<UploadedFile> {
    const direct = await this.createDirectUpload({
      name: uploadName(file, options),
      size: file.size,
    });
    const answer = await sendUpload(
      { method: 'PUT', url: direct.url, headers: direct.headers, body: file },
      options,
      this.customFetch ?? (hasXhr() ? undefined : this.fetchFn),
    );
    if (answer.status < 200 || answer.status >= 300) {
      // The storage's own answer (S3 XML), not an envelope.
      throw new ApiError(
        ErrorCode.dependencyUnavailable,
        `PUT to storage: HTTP ${answer.status} ${answer.text.slice(0, 200)}`,
        answer.status,
      );
    }
    return this.completeDirectUpload(direct.uploadId);
  }

  /** S3 storage only: a presigned PUT for a large file; then `completeDirectUpload`. */
  createDirectUpload(input: DirectUploadInput): Promise<DirectUpload> {
    return this.call('createDirectUpload', { body: input });
  }

  /** Checks what arrived at the presigned URL (size, type) and makes the file usable. */
  completeDirectUpload(uploadId: string): Promise<UploadedFile> {
    return this.call('completeDirectUpload', { params: { uploadId } });
  }

  /** Fresh signed links to a file I may read (for `<img src>`, `<audio src>`, a new tab). */
  fileLink(fileId: string): Promise<FileLink> {
    return this.call('fileLink', { params: { fileId } });
  }

  /** The bytes of a file I may read. */
  downloadFile(fileId: string, options: { signal?: AbortSignal } = {}): Promise<Blob> {
    return this.download('downloadFile', fileId, options.signal);
  }

  /** The WebP thumbnail of an image I may read. */
  downloadThumbnail(fileId: string, options: { signal?: AbortSignal } = {}): Promise<Blob> {
    return this.download('downloadThumbnail', fileId, options.signal);
  }

  /** A path the server answered (`url`, `thumbUrl`) as a full URL on this client's server. */
  resolveUrl(path: string): string {
    return /^[a-z][a-z0-9+.-]*:/i.test(path) ? path : `${this.baseUrl}${path}`;
  }

  private async download(
    name: 'downloadFile' | 'downloadThumbnail',
    fileId: string,
    signal: AbortSignal | undefined,
  ): Promise<Blob> {
    const route = ROUTES[name];
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await this.fetchFn(this.urlOf(route.path, { fileId }), {
      method: 'GET',
      headers,
      signal,
    });
    if (response.ok) return response.blob();
    try {
      return unwrapEnvelope<never>(response.status, await response.text(), `GET ${route.path}`);
    } catch (err) {
      if (err instanceof ApiError && err.isUnauthorized) this.onUnauthorized?.(err);
      throw err;
    }
  }

  /** The full URL of a route path, its `{name}` segments filled in (encoded). */
  private urlOf(path: string, params: Record<string, string> = {}): string {
    const filled = path.replace(/\{(\w+)\}/g, (_, key: string) => {
      const value = params[key];
      if (value === undefined) throw new Error(`easy-chat sdk: ${path} needs ${key}`);
      return encodeURIComponent(value);
    });
    return `${this.baseUrl}${filled}`;
  }
}
