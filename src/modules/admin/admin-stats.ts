import type { Kysely } from 'kysely';
import type { Presence } from '../../adapters/presence/presence.js';
import type { Database } from '../../adapters/storage/schema.js';
import type { Clock } from '../../shared/clock.js';
import { UserStatus } from '../user/user.entity.js';

const DAY_MS = 86_400_000;
/** How many UTC days `messagesPerDay` covers, today included. */
export const STATS_DAYS = 7;

export interface AdminStatsData {
  users: number;
  onlineNow: number;
  messagesPerDay: Array<{ day: string; count: number }>;
}

/**
 * The admin API's figures. Messages per day are one range count per UTC day on
 * `send_time` (plain SQL every engine runs alike, rather than engine-specific date
 * functions); each is a scan of that range, cheap enough for an operator's page.
 */
export class AdminStats {
  constructor(private readonly deps: { db: Kysely<Database>; presence: Presence; clock: Clock }) {}

  async read(): Promise<AdminStatsData> {
    const { db, presence, clock } = this.deps;
    const users = await db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('status', '!=', UserStatus.deleted)
      .executeTakeFirstOrThrow();
    const today = Math.floor(clock() / DAY_MS) * DAY_MS;
    const messagesPerDay = [];
    for (let i = STATS_DAYS - 1; i >= 0; i -= 1) {
      const start = today - i * DAY_MS;
      const row = await db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .where('sendTime', '>=', start)
        .where('sendTime', '<', start + DAY_MS)
        .executeTakeFirstOrThrow();
      messagesPerDay.push({
        day: new Date(start).toISOString().slice(0, 10),
        count: Number(row.n),
      });
    }
    return { users: Number(users.n), onlineNow: await presence.onlineCount(), messagesPerDay };
  }
}
