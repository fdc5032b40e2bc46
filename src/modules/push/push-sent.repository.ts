import type { Kysely } from 'kysely';
import { skipExisting } from '../../adapters/storage/portable.js';
import type { Database } from '../../adapters/storage/schema.js';

type Db = Kysely<Database>;

/** One device a notification went to. */
export interface SentTo {
  userId: string;
  deviceId: string;
}

/** The message a notification was about. */
export interface SentMessage {
  msgId: string;
  conversationId: string;
  seq: number;
}

/** `userId\0deviceId`: a device as a set member. */
export const sentKey = (s: SentTo) => `${s.userId}\u0000${s.deviceId}`;

/**
 * Notifications handed to a provider (`push_sent`), keyed by (message, user,
 * device): the delivery's de-duplication and what a recall withdraws. Written only
 * for notifications actually sent, never for recipients who were online.
 */
export class PushSentRepository {
  constructor(private readonly db: Db) {}

  /** Of these devices, the keys (sentKey) already sent `msgId`. */
  async sentAmong(msgId: string, devices: readonly SentTo[]): Promise<Set<string>> {
    if (devices.length === 0) return new Set();
    const users = [...new Set(devices.map((d) => d.userId))];
    const rows = await this.db
      .selectFrom('pushSent')
      .select(['userId', 'deviceId'])
      .where('msgId', '=', msgId)
      .where('userId', 'in', users)
      .execute();
    return new Set(rows.map(sentKey));
  }

  /** Records notifications a provider accepted (a repeat is skipped). */
  async record(message: SentMessage, devices: readonly SentTo[], at: number): Promise<void> {
    if (devices.length === 0) return;
    await this.db
      .insertInto('pushSent')
      .values(
        devices.map((d) => ({
          msgId: message.msgId,
          userId: d.userId,
          deviceId: d.deviceId,
          conversationId: message.conversationId,
          seq: message.seq,
          sentAt: at,
          recalledAt: null,
        })),
      )
      .$call((insert) => skipExisting(this.db, insert))
      .execute();
  }

  /** The devices `msgId` was notified to and not yet told of its recall. */
  async notRecalled(msgId: string): Promise<SentTo[]> {
    return this.db
      .selectFrom('pushSent')
      .select(['userId', 'deviceId'])
      .where('msgId', '=', msgId)
      .where('recalledAt', 'is', null)
      .execute();
  }

  /** Of these devices, those notified of a later message of the conversation (keys). */
  async newerSent(message: SentMessage, devices: readonly SentTo[]): Promise<Set<string>> {
    if (devices.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('pushSent')
      .select(['userId', 'deviceId'])
      .where('conversationId', '=', message.conversationId)
      .where('seq', '>', message.seq)
      .where('userId', 'in', [...new Set(devices.map((d) => d.userId))])
      .execute();
    return new Set(rows.map(sentKey));
  }

  /** Notes that these devices need no more word of the recall of `msgId`. */
  async markRecalled(msgId: string, devices: readonly SentTo[], at: number): Promise<void> {
    for (const d of devices) {
      await this.db
        .updateTable('pushSent')
        .set({ recalledAt: at })
        .where('msgId', '=', msgId)
        .where('userId', '=', d.userId)
        .where('deviceId', '=', d.deviceId)
        .execute();
    }
  }

  /** Forgets notifications sent before `before` (epoch ms): their events are past redelivery. */
  async prune(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('pushSent')
      .where('sentAt', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
