import type { Registry } from 'prom-client';
import type { BlobStore } from '../adapters/blob/blob-store.js';
import type { Cache } from '../adapters/cache/cache.js';
import type { Presence } from '../adapters/presence/presence.js';
import { AdminStats } from '../modules/admin/index.js';
import {
  eachInOwnTransaction,
  groupCommitFor,
  type GroupCommit,
} from '../adapters/storage/group-commit.js';
import type { Storage } from '../adapters/storage/storage.js';
import type { Config } from '../config/config.schema.js';
import { DomainEventSchemas } from '../catalogue/domain-events.js';
import { EventRecorder } from '../events/event-recorder.js';
import {
  createImModule,
  MessageRepository,
  type ChatAccess,
  type ImModule,
} from '../modules/im/index.js';
import type { PushDelivery } from '../realtime/push-delivery.js';
import {
  BlacklistRepository,
  BlacklistService,
  FriendRepository,
  FriendService,
  GroupAdminService,
  GroupRepository,
  GroupService,
  GroupSettingsService,
  SocialAccessCache,
  SocialAccountRemoval,
  SocialDirectory,
  type GroupMembershipListener,
} from '../modules/social/index.js';
import {
  AccountService,
  PasswordResetRepository,
  PasswordResetService,
  type PasswordResetDeps,
  PasswordHasher,
  TokenService,
  UserRepository,
  UserService,
} from '../modules/user/index.js';
import { createFilesModule, type FilesModule } from '../modules/files/index.js';
import {
  buildPushProviders,
  DeviceRepository,
  DeviceService,
  NotificationSender,
  OfflineTextComposer,
  ProviderDispatcher,
  PushMetrics,
  PushSentRepository,
  NotificationNames,
} from '../modules/push/index.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { RateLimiter } from '../adapters/cache/rate-limiter.js';
import { TokenRevocations } from '../auth/token-revocations.js';
import { RecordedEvents } from '../events/recorded-events.js';

export interface Services {
  /** The sends' group commit (none on MySQL); the outbox relay's marks ride it too. */
  groupCommit: GroupCommit | undefined;
  /** The events recorded here lately, for the outbox relay (RecordedEvents). */
  recordedEvents: RecordedEvents;
  users: UserService;
  accounts: AccountService;
  /** Forgotten password: codes by SMS, reset with a code. */
  passwordReset: PasswordResetService;
  blacklist: BlacklistService;
  tokens: TokenService;
  friends: FriendService;
  groups: GroupService;
  groupAdmin: GroupAdminService;
  /** Group info, the group-wide mute and member mutes. */
  groupSettings: GroupSettingsService;
  /** Read-only social graph for other modules (IM authorization). */
  socialDirectory: SocialDirectory;
  /** The directory's answers that sends check, in memory; the bus keeps it current. */
  accessCache: SocialAccessCache;
  im: ImModule;
  files: FilesModule;
  /** Push devices (registry over HTTP; the worker's offline pushes read it). */
  pushDevices: DeviceService;
  /** Title, body and badge of offline pushes (the worker's push delivery). */
  offlineText: OfflineTextComposer;
  /** The senders' and groups' names notifications show, held in memory. */
  notificationNames: NotificationNames;
  /** Notifications actually sent (de-duplication, recall). */
  pushSent: PushSentRepository;
  /** Sends decided notifications through the configured providers (worker role). */
  pushSender: NotificationSender;
  /** What only the admin API reads: accounts of any status, the statistics. */
  admin: { userRepository: UserRepository; stats: AdminStats };
}

export interface ServiceDeps {
  config: Config;
  /** The configured JWT secret, or the one generated into dataDir (config/jwt-secret.ts). */
  jwtSecret: string;
  storage: Storage;
  cache: Cache;
  presence: Presence;
  delivery: PushDelivery;
  clock: Clock;
  logger: Logger;
  /** Where uploaded files live (files.storage). */
  blobs: BlobStore;
  /** Prometheus registry for the modules' own metrics (the file sweep). */
  registry: Registry;
  /** Sends an SMS through the notify layer (password reset codes). */
  sendSms: PasswordResetDeps['sendSms'];
}

/**
 * Every service on its repositories, and the two seams between modules: IM asks
 * the user and social modules who may talk (ChatAccess), and social tells IM about
 * membership changes inside its own transactions (GroupMembershipListener).
 */
export function buildServices(deps: ServiceDeps): Services {
  const { config, cache, presence, clock, logger } = deps;
  const db = deps.storage.db;
  const revocations = new TokenRevocations({ db, cache, clock });
  const tokens = new TokenService({
    secret: deps.jwtSecret,
    ttlSec: config.auth.tokenTtlSec,
    revocations,
    clock,
  });
  const userRepository = new UserRepository(db);
  const friendRepository = new FriendRepository(db);
  const groupRepository = new GroupRepository(db);
  const blacklistRepository = new BlacklistRepository(db);
  const socialDirectory = new SocialDirectory({
    friends: friendRepository,
    groups: groupRepository,
    blacklist: blacklistRepository,
  });
  // What every send checks, held in memory: the recorder drops an answer as its
  // change is recorded here, the bus as it is committed anywhere (followSocialChanges).
  const accessCache = new SocialAccessCache(socialDirectory, {
    ...config.social.accessCache,
    clock,
  });
  // The relay publishes this process's rows from memory (kept only while it runs here).
  const recordedEvents = new RecordedEvents();
  const events = new EventRecorder({
    clock,
    source: `easy-chat/${config.nodeId}`,
    schemas: DomainEventSchemas,
    onRecorded: (event, text) => {
      accessCache.changing(event);
      recordedEvents.add(event, text);
    },
  });
  const hasher = new PasswordHasher(config.auth.argon2);
  const users = new UserService({
    db,
    users: userRepository,
    hasher,
    tokens,
    events,
    remarks: (viewerId, ids) => socialDirectory.remarksOf(viewerId, ids),
    loginLimiter: new RateLimiter(cache, 'login'),
    registerLimiter: new RateLimiter(cache, 'register'),
    clock,
    limits: {
      loginPerPhoneAndIp: config.rateLimit.login.perPhoneAndIp,
      loginPerPhone: config.rateLimit.login.perPhone,
      loginPerIp: config.rateLimit.login.perIp,
      registerPerIp: config.rateLimit.register.perIp,
      searchLimit: config.user.searchLimit,
      maxIdsPerQuery: config.user.maxIdsPerQuery,
    },
  });

  const access: ChatAccess = {
    userExists: async (userId) => (await userRepository.findById(userId)) !== undefined,
    areFriends: (a, b) => accessCache.areFriends(a, b),
    isBlocked: (owner, other) => accessCache.isBlocked(owner, other),
    maySendNow: (sender, recipient) => accessCache.maySendHeld(sender, recipient),
    // A member of an active group has a post state (a dismissed group has no members).
    isGroupMember: async (groupId, userId) =>
      (await accessCache.postState(groupId, userId)) !== undefined,
    groupRole: async (groupId, userId) => (await accessCache.postState(groupId, userId))?.roleLevel,
    groupPostState: (groupId, userId) => accessCache.postState(groupId, userId),
    friendIds: (userId) => socialDirectory.friendIds(userId),
    groupExists: (groupId) => socialDirectory.groupExists(groupId),
  };
  const files = createFilesModule({
    db,
    blobs: deps.blobs,
    config: config.files,
    secret: deps.jwtSecret,
    clock,
    logger,
    registry: deps.registry,
  });
  // Concurrent sends share one transaction and one commit (one fsync): SQLite commits
  // one writer at a time; on PostgreSQL a batch also shares its round trips.
  const groupCommit = groupCommitFor(deps.storage.dialect, db);
  const im = createImModule({
    db,
    config: config.im,
    access,
    presence,
    delivery: deps.delivery,
    events,
    clock,
    logger,
    attachments: files.attachments,
    // A recalled file message stops granting its conversation the file (the blob
    // stays while another message or its uploader's pending upload holds it).
    onRevoke: (trx, message) => files.attachments.release(trx, message.msgId),
    transact: groupCommit?.run ?? eachInOwnTransaction(db),
  });
  const membership: GroupMembershipListener = {
    memberJoined: (trx, groupId, userId) => im.conversations.addGroupMember(trx, groupId, userId),
    memberLeft: (trx, groupId, userId) => im.conversations.removeGroupMember(trx, groupId, userId),
    groupDismissed: (trx, groupId) => im.conversations.removeGroup(trx, groupId),
    notice: async (trx, groupId, notice) => {
      await im.notices.post(trx, groupId, notice);
    },
  };

  const friends = new FriendService({
    db,
    friends: friendRepository,
    blacklist: blacklistRepository,
    users: userRepository,
    events,
    presence,
    clock,
  });
  const groups = new GroupService({
    db,
    groups: groupRepository,
    blacklist: blacklistRepository,
    users: userRepository,
    events,
    presence,
    clock,
    memberLimit: config.social.groupMemberLimit,
    membership,
  });
  const groupAdmin = new GroupAdminService({
    db,
    groups: groupRepository,
    events,
    clock,
    membership,
  });

  const groupSettings = new GroupSettingsService({
    db,
    groups: groupRepository,
    events,
    clock,
    membership,
  });

  const blacklist = new BlacklistService({
    db,
    blacklist: blacklistRepository,
    users: userRepository,
    events,
    clock,
  });
  const accounts = new AccountService({
    db,
    users: userRepository,
    hasher,
    tokens,
    events,
    clock,
    limiter: new RateLimiter(cache, 'password'),
    perUser: config.rateLimit.password.perUser,
    removal: new SocialAccountRemoval({
      friends: friendRepository,
      blacklist: blacklistRepository,
      groups: groupRepository,
      groupAdmin,
      events,
      clock,
    }),
  });
  const passwordReset = new PasswordResetService({
    db,
    users: userRepository,
    codes: new PasswordResetRepository(db),
    hasher,
    tokens,
    events,
    clock,
    logger: deps.logger,
    secret: deps.jwtSecret,
    sendSms: deps.sendSms,
    limiter: new RateLimiter(cache, 'password-reset'),
    limits: { ...config.user.passwordReset, ...config.rateLimit.passwordReset },
  });

  const pushDevices = new DeviceService({
    devices: new DeviceRepository(db),
    revocations,
    clock,
    maxDevicesPerUser: config.push.maxDevicesPerUser,
    // With in-memory presence this is the only process: every registration is made here.
    rememberDeviceless: presence.thisNodeOnly === true,
  });

  const messageRepository = new MessageRepository(db);
  // Held in memory; the worker role keeps them current from the bus (followNameChanges).
  const notificationNames = new NotificationNames(
    {
      nickname: async (userId) => (await userRepository.findById(userId))?.nickname,
      groupName: (groupId) => socialDirectory.groupName(groupId),
    },
    { clock },
  );
  const offlineText = new OfflineTextComposer({
    preview: config.push.preview,
    nickname: (userId) => notificationNames.nickname(userId),
    groupName: (groupId) => notificationNames.groupName(groupId),
    unreadTotals: (userIds) => im.conversations.unreadTotals(userIds),
    badgesAndMutes: (userIds, conversationId, seq) =>
      im.conversations.badgesAndMutes(userIds, conversationId, seq),
    findMessage: (msgId) => messageRepository.findById(msgId),
  });
  const pushSent = new PushSentRepository(db);
  const pushSender = new NotificationSender({
    dispatcher: new ProviderDispatcher({
      providers: buildPushProviders(config.push),
      metrics: new PushMetrics(deps.registry),
      clock,
    }),
    sent: pushSent,
    devices: pushDevices,
    text: offlineText,
    parallelSends: config.push.delivery.parallelSends,
    clock,
    logger,
  });

  return {
    groupCommit,
    recordedEvents,
    users,
    accounts,
    passwordReset,
    blacklist,
    tokens,
    friends,
    groups,
    groupAdmin,
    groupSettings,
    socialDirectory,
    accessCache,
    im,
    files,
    pushDevices,
    offlineText,
    notificationNames,
    pushSent,
    pushSender,
    admin: { userRepository, stats: new AdminStats({ db, presence, clock }) },
  };
}
