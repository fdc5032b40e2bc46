import { Type, type Static } from 'typebox';

/** Shortest admin token and ingest secret production accepts. */
export const MIN_PRODUCTION_SECRET_LENGTH = 32;

const Role = Type.Union([Type.Literal('api'), Type.Literal('gateway'), Type.Literal('worker')]);
export type Role = Static<typeof Role>;
export const ALL_ROLES: readonly Role[] = ['api', 'gateway', 'worker'];

const PositiveInt = Type.Integer({ minimum: 1 });
const Window = Type.Object(
  { limit: PositiveInt, windowSec: PositiveInt },
  { additionalProperties: false },
);

const Url = Type.String({ minLength: 1 });
const Webhook = Type.Object(
  {
    url: Type.String(),
    secret: Type.String(),
    timeoutMs: PositiveInt,
    maxAttempts: PositiveInt,
  },
  { additionalProperties: false },
);

/**
 * A topic on the broker: its name (in stream, subject and exchange names and in
 * every message key `{name}:{type}`), the payload codec easy-chat writes, and
 * whether easy-chat's worker consumes it (false when another system, such as the
 * Go notify service, does).
 */
const TopicWire = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 64 }),
    codec: Type.Union([Type.Literal('json'), Type.Literal('protobuf')]),
    consume: Type.Boolean(),
  },
  { additionalProperties: false },
);

/** How a push provider is called: timeout, bounded retries, and extra CAs (a relay, tests). */
const ProviderCalls = {
  timeoutMs: PositiveInt,
  maxAttempts: Type.Integer({ minimum: 1, maximum: 10 }),
  retryBaseMs: PositiveInt,
  maxRetryAfterMs: Type.Integer({ minimum: 0 }),
  caFile: Type.String(),
};

function strict<T extends Parameters<typeof Type.Object>[0]>(props: T) {
  return Type.Object(props, { additionalProperties: false });
}

/**
 * The whole configuration. Every key is required here because config/default.yaml
 * provides every default; environment files and overrides only replace values.
 * Unknown keys are rejected so that a typo stops start-up instead of being ignored.
 */
export const ConfigSchema = strict({
  env: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')]),
  roles: Type.Array(Role, { minItems: 1, uniqueItems: true }),
  dataDir: Type.String({ minLength: 1 }),
  nodeId: Type.String(),
  server: strict({
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    bodyLimitBytes: PositiveInt,
    backlog: PositiveInt,
    /** Proxy addresses/CIDRs whose X-Forwarded-For is believed (trusted-proxies.ts). */
    trustProxy: Type.Array(Type.String()),
    shutdownTimeoutMs: PositiveInt,
    headersTimeoutMs: PositiveInt,
    requestTimeoutMs: PositiveInt,
  }),
  log: strict({
    level: Type.Union([
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ]),
  }),
  storage: strict({
    driver: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres'), Type.Literal('mysql')]),
    sqlite: strict({
      file: Type.String({ minLength: 1 }),
      synchronous: Type.Union([Type.Literal('normal'), Type.Literal('full')]),
      busyTimeoutMs: PositiveInt,
      /** WAL checkpoints: in a worker thread (background) or inside commits (SQLite's own). */
      checkpoint: strict({
        background: Type.Boolean(),
        /** WAL frames after which the WAL restarts from its beginning (background only). */
        restartPages: PositiveInt,
        /**
         * How often the worker checkpoints. Each checkpoint copies every page dirtied since
         * the last one and syncs the database file, and the same hot pages (conversation
         * rows, index interiors, the outbox) are dirtied by every batch: a longer interval
         * copies each of them fewer times (docs/performance-log.md, "How often to checkpoint").
         */
        intervalMs: PositiveInt,
      }),
    }),
    postgres: strict({
      url: Type.String({ minLength: 1 }),
      schema: Type.String({ pattern: '^[a-z_][a-z0-9_]*$' }),
      poolSize: PositiveInt,
      connectTimeoutMs: PositiveInt,
      /** A query unanswered this long fails and its connection is dropped; 0: no limit. */
      queryTimeoutMs: Type.Integer({ minimum: 0 }),
      /** A pool connection idle this long is closed; 0: kept until the pool ends. */
      idleTimeoutMs: Type.Integer({ minimum: 0 }),
    }),
    /** MySQL 8 or MariaDB 10.11+; the database named in the URL holds the tables. */
    mysql: strict({
      url: Type.String({ minLength: 1 }),
      poolSize: PositiveInt,
      connectTimeoutMs: PositiveInt,
      /** A query unanswered this long fails and its connection is destroyed; 0: no limit. */
      queryTimeoutMs: Type.Integer({ minimum: 0 }),
    }),
  }),
  cache: strict({
    driver: Type.Union([Type.Literal('memory'), Type.Literal('redis')]),
    redis: strict({
      url: Type.String({ minLength: 1 }),
      keyPrefix: Type.String(),
    }),
  }),
  auth: strict({
    /** Empty: generated on first start into dataDir/jwt-secret (not in production). */
    jwtSecret: Type.String(),
    tokenTtlSec: PositiveInt,
    argon2: strict({
      memoryKib: Type.Integer({ minimum: 1024 }),
      timeCost: Type.Integer({ minimum: 1 }),
      parallelism: Type.Integer({ minimum: 1, maximum: 16 }),
    }),
  }),
  rateLimit: strict({
    login: strict({ perPhoneAndIp: Window, perPhone: Window, perIp: Window }),
    register: strict({ perIp: Window }),
    password: strict({ perUser: Window }),
    passwordReset: strict({ perPhone: Window, perIp: Window }),
  }),
  gateway: strict({
    path: Type.String({ pattern: '^/' }),
    maxFrameBytes: Type.Integer({ minimum: 1024 }),
    maxConnectionsPerUser: PositiveInt,
    maxConnectionsPerAddress: Type.Integer({ minimum: 0 }),
    idleTimeoutMs: Type.Integer({ minimum: 1000 }),
    sendHighWaterBytes: Type.Integer({ minimum: 1024 }),
    framesPerSec: PositiveInt,
    frameBurst: PositiveInt,
    maxPendingRequests: PositiveInt,
  }),
  im: strict({
    requireFriendship: Type.Boolean(),
    historyPageSize: PositiveInt,
    historyMaxPageSize: PositiveInt,
    syncPageSize: PositiveInt,
    syncMaxConversations: PositiveInt,
    fanoutBatchSize: PositiveInt,
    groupReceipts: strict({ windowMs: PositiveInt, maxBatch: PositiveInt }),
    revokeWindowSeconds: PositiveInt,
    editWindowSeconds: PositiveInt,
    reactions: strict({ maxEmojis: PositiveInt, maxPerUser: PositiveInt }),
    typing: strict({ minIntervalMs: Type.Integer({ minimum: 0 }) }),
  }),
  user: strict({
    searchLimit: Type.Integer({ minimum: 1, maximum: 1000 }),
    maxIdsPerQuery: Type.Integer({ minimum: 1, maximum: 1000 }),
    passwordReset: strict({
      codeTtlSec: Type.Integer({ minimum: 60, maximum: 86_400 }),
      maxAttempts: Type.Integer({ minimum: 1, maximum: 100 }),
    }),
  }),
  cluster: strict({
    presence: Type.Union([Type.Literal('memory'), Type.Literal('redis')]),
    transport: Type.Union([Type.Literal('memory'), Type.Literal('nats'), Type.Literal('redis')]),
    heartbeatMs: Type.Integer({ minimum: 100 }),
    nodeTimeoutMs: Type.Integer({ minimum: 300 }),
    workerFanoutMin: Type.Integer({ minimum: 0 }),
    fanoutPartitions: Type.Integer({ minimum: 1, maximum: 256 }),
  }),
  social: strict({
    groupMemberLimit: Type.Integer({ minimum: 2, maximum: 1_000_000 }),
    accessCache: strict({
      maxEntries: Type.Integer({ minimum: 0 }),
      ttlMs: PositiveInt,
    }),
  }),
  // --- event layer (docs/events.md) ---
  bus: strict({
    driver: Type.Union([Type.Literal('memory'), Type.Literal('nats'), Type.Literal('rabbitmq')]),
    prefix: Type.String({ pattern: '^[A-Za-z0-9_-]+$' }),
    maxAttempts: PositiveInt,
    retry: strict({ initialMs: PositiveInt, maxMs: PositiveInt }),
    nats: strict({
      url: Url,
      replicas: Type.Integer({ minimum: 1, maximum: 5 }),
      duplicateWindowSec: PositiveInt,
      ackWaitSec: PositiveInt,
      maxAgeHours: PositiveInt,
    }),
    rabbitmq: strict({ url: Url }),
    /** Name on the broker and payload codec of the notify and log topics. */
    topics: strict({ notify: TopicWire, log: TopicWire }),
  }),
  outbox: strict({
    batchSize: Type.Integer({ minimum: 1, maximum: 10000 }),
    pollIntervalMs: PositiveInt,
    leaseMs: Type.Integer({ minimum: 100 }),
    retentionHours: PositiveInt,
  }),
  notify: strict({
    email: strict({
      driver: Type.Union([Type.Literal('console'), Type.Literal('smtp')]),
      from: Type.String({ minLength: 1 }),
      smtp: strict({
        host: Type.String({ minLength: 1 }),
        port: Type.Integer({ minimum: 1, maximum: 65535 }),
        secure: Type.Boolean(),
        user: Type.String(),
        password: Type.String(),
        timeoutMs: PositiveInt,
      }),
    }),
    sms: strict({
      driver: Type.Union([Type.Literal('console'), Type.Literal('webhook')]),
      webhook: Webhook,
    }),
    push: strict({
      driver: Type.Union([Type.Literal('console'), Type.Literal('webhook')]),
      webhook: Webhook,
      collapseWindowMs: Type.Integer({ minimum: 0 }),
    }),
  }),
  admin: strict({ token: Type.String() }),
  metrics: strict({
    token: Type.String(),
    listener: strict({
      enabled: Type.Boolean(),
      host: Type.String({ minLength: 1 }),
      port: Type.Integer({ minimum: 0, maximum: 65535 }),
    }),
  }),
  ingest: strict({
    timestampToleranceSec: PositiveInt,
    sources: Type.Record(
      Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }),
      strict({ secret: Type.String({ minLength: 16 }), types: Type.Array(Type.String()) }),
    ),
  }),
  web: strict({
    enabled: Type.Boolean(),
    dir: Type.String(),
  }),
  // --- files (docs/files.md) ---
  files: strict({
    storage: Type.Union([Type.Literal('disk'), Type.Literal('s3')]),
    disk: strict({ dir: Type.String() }),
    s3: strict({
      endpoint: Type.String(),
      region: Type.String({ minLength: 1 }),
      bucket: Type.String({ minLength: 1 }),
      prefix: Type.String({ pattern: '^[A-Za-z0-9/_.-]*$' }),
      forcePathStyle: Type.Boolean(),
      accessKeyId: Type.String(),
      secretAccessKey: Type.String(),
    }),
    maxBytes: PositiveInt,
    directMaxBytes: PositiveInt,
    allowedTypes: Type.Array(Type.String({ pattern: '^[a-z*]+/[a-z0-9.+*-]+$' }), { minItems: 1 }),
    quotaBytes: PositiveInt,
    maxImagePixels: PositiveInt,
    thumbSize: Type.Integer({ minimum: 16, maximum: 2048 }),
    linkTtlSec: PositiveInt,
    uploadTtlSec: PositiveInt,
    orphanHours: Type.Number({ exclusiveMinimum: 0 }),
    sweepIntervalSec: PositiveInt,
  }),
  // --- offline push (docs/push.md) ---
  push: strict({
    maxDevicesPerUser: Type.Integer({ minimum: 1, maximum: 1000 }),
    preview: Type.Union([Type.Literal('full'), Type.Literal('sender'), Type.Literal('none')]),
    // Who also gets the notify.push webhook: offline recipients with no live device, all
    // offline recipients, or nobody.
    webhook: Type.Union([Type.Literal('fallback'), Type.Literal('always'), Type.Literal('off')]),
    delivery: strict({
      // Events the worker delivers at once (a recall may then overtake its message: handled).
      concurrency: Type.Integer({ minimum: 1, maximum: 256 }),
      // Provider calls in flight for one event.
      parallelSends: Type.Integer({ minimum: 1, maximum: 256 }),
    }),
    webpush: strict({
      subject: Type.String(),
      publicKey: Type.String(),
      privateKey: Type.String(),
      ttlSec: Type.Integer({ minimum: 0, maximum: 2_419_200 }),
      timeoutMs: PositiveInt,
      maxAttempts: Type.Integer({ minimum: 1, maximum: 10 }),
      retryBaseMs: PositiveInt,
      maxRetryAfterMs: Type.Integer({ minimum: 0 }),
      // PEM file of extra certificate authorities to trust (an on-premise relay, tests).
      caFile: Type.String(),
    }),
    // FCM HTTP v1: on when a service account is given (file or inline JSON, not both).
    fcm: strict({
      serviceAccountFile: Type.String(),
      serviceAccount: Type.String(),
      endpoint: Url,
      tokenEndpoint: Url,
      ...ProviderCalls,
    }),
    // APNs with a .p8 token key: on when the key is given (file or inline PEM, not both).
    apns: strict({
      keyFile: Type.String(),
      key: Type.String(),
      keyId: Type.String(),
      teamId: Type.String(),
      topic: Type.String(),
      sandbox: Type.Boolean(),
      // Empty: Apple's production or sandbox host, by `sandbox`.
      endpoint: Type.String(),
      ttlSec: Type.Integer({ minimum: 0, maximum: 2_419_200 }),
      ...ProviderCalls,
    }),
  }),
});

export type Config = Static<typeof ConfigSchema>;
