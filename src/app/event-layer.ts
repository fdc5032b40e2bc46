import type { Broker, Subscription } from '../adapters/bus/bus.js';
import type { Database } from '../adapters/storage/schema.js';
import type { Config } from '../config/config.schema.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { Kysely } from 'kysely';
import type { TokenService } from '../auth/token.service.js';
import { AuditConsumers } from '../modules/audit/audit.consumer.js';
import { EVENT_LAYER_CONSUMERS } from '../catalogue/event-catalogue.js';
import { AuditRepository } from '../modules/audit/audit.repository.js';
import type { EventMetrics } from '../events/event-metrics.js';
import {
  builtInIngestHandlers,
  type SystemNoticeSink,
  type UserDisabler,
} from '../modules/ingest/ingest.handlers.js';
import { IngestRegistry } from '../modules/ingest/ingest.registry.js';
import { IngestService } from '../modules/ingest/ingest.service.js';
import { LOG_TOPIC, type LogEventMap } from '../modules/audit/log.events.js';
import { NotifyConsumers, type NotifySenders } from '../modules/notify/notify.consumer.js';
import { NOTIFY_TOPIC, type NotifyEventMap } from '../modules/notify/notify.events.js';
import {
  ConsoleSender,
  SmtpEmailSender,
  WebhookSender,
  type Sender,
} from '../modules/notify/notify.senders.js';
import { OutboxRelay, type WithNextBatch } from '../events/outbox-relay.js';
import { ProcessedEvents } from '../events/processed-events.js';
import type { RecordedEvents } from '../events/recorded-events.js';
import { Pusher } from '../events/pusher.js';
import { RelayLease } from '../events/relay-lease.js';

const HOUR_MS = 3_600_000;
const HOUSEKEEPING_INTERVAL_MS = 60_000;

export interface EventLayerDeps {
  config: Config;
  db: Kysely<Database>;
  broker: Broker;
  metrics: EventMetrics;
  logger: Logger;
  clock: Clock;
  users: UserDisabler;
  tokens: TokenService;
  /** The IM module's sink for system notices; without it that handler answers 503. */
  systemNotices?: SystemNoticeSink;
  /** The sends' group commit, which the relay's deletes ride (none: they commit alone). */
  deleteWithNextBatch?: WithNextBatch;
  /** The events this process records, which the relay publishes from memory. */
  recorded?: RecordedEvents;
}

/** What a 5xx answer reports to the audit log. */
export interface ServerErrorReport {
  requestId: string;
  method: string;
  path: string;
  route?: string;
  status: number;
  code: number;
  message: string;
  userId?: string;
}

/**
 * Everything of the event layer one process needs, built from config: the
 * notify/log pushers (any role), ingestion (api role) and, in the worker role,
 * the outbox relay plus the log and notify consumers.
 */
export class EventLayer {
  readonly notify: Pusher<NotifyEventMap>;
  readonly log: Pusher<LogEventMap>;
  readonly relay: OutboxRelay;
  readonly audit: AuditRepository;
  readonly processed: ProcessedEvents;
  readonly ingestRegistry = new IngestRegistry();
  readonly ingest: IngestService;
  private readonly senders: NotifySenders;
  private subscriptions: Subscription[] = [];
  private housekeeping: NodeJS.Timeout | undefined;

  constructor(private readonly deps: EventLayerDeps) {
    const { config, db, broker, metrics, logger, clock } = deps;
    const source = `easy-chat/${config.nodeId}`;
    const pusher = <M extends Record<string, unknown>>(topic: string, topicName: string) =>
      new Pusher<M>({
        publisher: broker,
        topic,
        topicName,
        source,
        aggregate: 'system',
        clock,
        logger,
        onAsyncFailure: (t) => metrics.asyncSendFailures.inc({ topic: t }),
      });
    this.notify = pusher<NotifyEventMap>(NOTIFY_TOPIC, config.bus.topics.notify.name);
    this.log = pusher<LogEventMap>(LOG_TOPIC, config.bus.topics.log.name);
    this.audit = new AuditRepository(db);
    this.processed = new ProcessedEvents({ db, clock });
    this.relay = new OutboxRelay({
      db,
      publisher: broker,
      lease: new RelayLease({
        db,
        name: 'outbox',
        owner: source,
        ttlMs: config.outbox.leaseMs,
        clock,
      }),
      clock,
      logger,
      metrics,
      batchSize: config.outbox.batchSize,
      pollIntervalMs: config.outbox.pollIntervalMs,
      retryDelayMs: config.bus.retry.initialMs,
      deleteWithNextBatch: deps.deleteWithNextBatch,
      recorded: deps.recorded,
    });
    for (const handler of builtInIngestHandlers({
      users: deps.users,
      systemNotices: deps.systemNotices,
    })) {
      this.ingestRegistry.register(handler);
    }
    this.ingest = new IngestService({
      db,
      registry: this.ingestRegistry,
      sources: config.ingest.sources,
      toleranceMs: config.ingest.timestampToleranceSec * 1000,
      clock,
      metrics,
    });
    this.senders = buildSenders(config, logger);
  }

  /** The queues of the event layer's consumers (audit log and notifications). */
  get queues(): string[] {
    return EVENT_LAYER_CONSUMERS.map((spec) => spec.queue);
  }

  /**
   * Sends a 5xx to the audit log without waiting (failures are logged and counted),
   * keyed `{topic}:log.api_error` like the Go system's log events.
   */
  reportServerError(report: ServerErrorReport): void {
    this.log.sendAsync('log.api_error', report);
  }

  /**
   * Worker role: consumers first (so their queues exist), then the relay and
   * housekeeping. A topic with `bus.topics.<topic>.consume: false` is left to
   * another system's consumers (the Go services).
   */
  async startWorker(): Promise<void> {
    const { broker, processed, metrics } = { ...this.deps, processed: this.processed };
    const { topics } = this.deps.config.bus;
    this.subscriptions.push(
      ...(await new AuditConsumers({
        bus: broker,
        db: this.deps.db,
        audit: this.audit,
        processed,
        clock: this.deps.clock,
      }).start({ logRecords: topics.log.consume })),
    );
    if (topics.notify.consume) {
      this.subscriptions.push(
        ...(await new NotifyConsumers({
          bus: broker,
          senders: this.senders,
          processed,
          collapseWindowMs: this.deps.config.notify.push.collapseWindowMs,
          metrics,
        }).start()),
      );
    }
    this.relay.start();
    this.housekeeping = setInterval(() => void this.prune(), HOUSEKEEPING_INTERVAL_MS);
    this.housekeeping.unref();
  }

  /**
   * Deletes what is no longer needed: old processed and ingested ids. (Published
   * outbox rows need nothing here: the relay deletes each batch it published.)
   */
  async prune(): Promise<void> {
    const { config, clock, logger } = this.deps;
    const now = clock();
    const retention = config.outbox.retentionHours * HOUR_MS;
    try {
      await this.processed.prune(now - retention);
      // Ids must outlive the timestamp window they protect; twice is plenty.
      await this.ingest.prune(now - 2 * config.ingest.timestampToleranceSec * 1000);
    } catch (err) {
      logger.warn({ err }, 'event housekeeping failed');
    }
  }

  /**
   * Whether a `notify.push` would leave no trace: the console push driver (the default)
   * at a log level that does not write its lines. Push delivery then makes none for
   * offline recipients, rather than reading each message's text and badge for nothing.
   */
  pushesUnseen(): boolean {
    return this.senders.push.writesNothing?.() === true;
  }

  async stop(): Promise<void> {
    clearInterval(this.housekeeping);
    await this.relay.stop();
    await Promise.all(this.subscriptions.map((s) => s.stop()));
    this.subscriptions = [];
    await Promise.all([this.notify.close(), this.log.close()]);
    const { email, sms, push } = this.senders;
    await Promise.all([email.close?.(), sms.close?.(), push.close?.()]);
  }
}

function buildSenders(config: Config, logger: Logger): NotifySenders {
  const { email, sms, push } = config.notify;
  const webhook = <T>(channel: string, options: Config['notify']['sms']['webhook']): Sender<T> => {
    if (!options.url)
      throw new Error(`notify.${channel}.webhook.url is required with driver webhook`);
    return new WebhookSender<T>(channel, options, logger);
  };
  return {
    email:
      email.driver === 'smtp'
        ? new SmtpEmailSender({ ...email.smtp, from: email.from })
        : new ConsoleSender('email', logger),
    sms: sms.driver === 'webhook' ? webhook('sms', sms.webhook) : new ConsoleSender('sms', logger),
    push:
      push.driver === 'webhook'
        ? webhook('push', push.webhook)
        : new ConsoleSender('push', logger, 'debug'),
  };
}
