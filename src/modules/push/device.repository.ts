import type { Kysely } from 'kysely';
import { isMysql, isPostgres } from '../../adapters/storage/portable.js';
import { Precompiled } from '../../adapters/storage/precompiled.js';
import type { Database, PushDevicesTable } from '../../adapters/storage/schema.js';
import type { PushDevice, PushPlatform } from './push.entity.js';

type Db = Kysely<Database>;

/** One user's devices: asked for every private message stored (offline push), so precompiled. */
const DEVICES_OF_USER = new Precompiled<PushDevicesTable>(
  'select * from push_devices where user_id = ?',
);

/**
 * The devices of many users (a group message's offline push asks this for every
 * member, a thousand at a time) with the ids as one parameter: a statement built
 * with one placeholder per id was compiled, prepared and bound anew for every batch,
 * and that cost more than the index lookups it asked for. PostgreSQL takes a text
 * array, SQLite a JSON array.
 */
const DEVICES_OF_USERS_PG = new Precompiled<PushDevicesTable>(
  'select * from push_devices where user_id = any(?::text[])',
);
const DEVICES_OF_USERS_SQLITE = new Precompiled<PushDevicesTable>(
  'select * from push_devices where user_id in (select value from json_each(?))',
);

function toDevice(row: PushDevicesTable): PushDevice {
  const device: PushDevice = {
    userId: row.userId,
    deviceId: row.deviceId,
    platform: row.platform as PushPlatform,
    token: row.token,
    locale: row.locale,
    tokenJti: row.tokenJti,
    tokenIat: Number(row.tokenIat),
    tokenExp: Number(row.tokenExp),
    createdAt: Number(row.createdAt),
    updatedAt: Number(row.updatedAt),
  };
  if (row.p256dh !== null && row.auth !== null) {
    device.subscription = { endpoint: row.token, keys: { p256dh: row.p256dh, auth: row.auth } };
  }
  return device;
}

/** Push devices in SQL (one class for every dialect). */
export class DeviceRepository {
  constructor(private readonly db: Db) {}

  /**
   * Inserts the device or replaces the row of the same (user, device id), keeping
   * its `createdAt`. One statement, so two concurrent registrations of one device
   * cannot collide on the primary key.
   */
  async upsert(device: PushDevice, q: Db = this.db): Promise<void> {
    const p256dh = device.subscription?.keys.p256dh ?? null;
    const auth = device.subscription?.keys.auth ?? null;
    const insert = q.insertInto('pushDevices').values({
      userId: device.userId,
      deviceId: device.deviceId,
      platform: device.platform,
      token: device.token,
      p256dh,
      auth,
      locale: device.locale,
      tokenJti: device.tokenJti,
      tokenIat: device.tokenIat,
      tokenExp: device.tokenExp,
      createdAt: device.createdAt,
      updatedAt: device.updatedAt,
    });
    // Every column but the key and createdAt; the same list for both spellings.
    if (isMysql(q)) {
      await insert
        .onDuplicateKeyUpdate({
          platform: device.platform,
          token: device.token,
          p256dh,
          auth,
          locale: device.locale,
          tokenJti: device.tokenJti,
          tokenIat: device.tokenIat,
          tokenExp: device.tokenExp,
          updatedAt: device.updatedAt,
        })
        .execute();
      return;
    }
    await insert
      .onConflict((oc) =>
        oc.columns(['userId', 'deviceId']).doUpdateSet({
          platform: device.platform,
          token: device.token,
          p256dh,
          auth,
          locale: device.locale,
          tokenJti: device.tokenJti,
          tokenIat: device.tokenIat,
          tokenExp: device.tokenExp,
          updatedAt: device.updatedAt,
        }),
      )
      .execute();
  }

  /** Every device row of the user, live or not, oldest registration first. */
  async listOf(userId: string, q: Db = this.db): Promise<PushDevice[]> {
    const rows = await q
      .selectFrom('pushDevices')
      .selectAll()
      .where('userId', '=', userId)
      .orderBy('createdAt')
      .orderBy('deviceId')
      .execute();
    return rows.map(toDevice);
  }

  /** Every device row of these users (the sender's lookup). */
  async listOfUsers(userIds: readonly string[], q: Db = this.db): Promise<PushDevice[]> {
    if (userIds.length === 0) return [];
    if (userIds.length === 1) {
      const { rows } = await DEVICES_OF_USER.execute(q, [userIds[0]]);
      return rows.map(toDevice);
    }
    if (isMysql(q)) {
      const rows = await q
        .selectFrom('pushDevices')
        .selectAll()
        .where('userId', 'in', userIds)
        .execute();
      return rows.map(toDevice);
    }
    const { rows } = isPostgres(q)
      ? await DEVICES_OF_USERS_PG.execute(q, [userIds])
      : await DEVICES_OF_USERS_SQLITE.execute(q, [JSON.stringify(userIds)]);
    return rows.map(toDevice);
  }

  async delete(userId: string, deviceId: string, q: Db = this.db): Promise<boolean> {
    const res = await q
      .deleteFrom('pushDevices')
      .where('userId', '=', userId)
      .where('deviceId', '=', deviceId)
      .executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  /**
   * Deletes the row only while it still holds `token`: a provider's "unregistered"
   * answer for an old token must not remove a registration made since.
   */
  async deleteIfToken(userId: string, deviceId: string, token: string, q: Db = this.db) {
    const res = await q
      .deleteFrom('pushDevices')
      .where('userId', '=', userId)
      .where('deviceId', '=', deviceId)
      .where('token', '=', token)
      .executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  /** Removes every device registered with the access token `jti` (its logout). */
  async deleteByTokenId(userId: string, jti: string, q: Db = this.db): Promise<void> {
    await q
      .deleteFrom('pushDevices')
      .where('userId', '=', userId)
      .where('tokenJti', '=', jti)
      .execute();
  }

  /** Removes every device of the user (account deleted). */
  async deleteAllOf(userId: string, q: Db = this.db): Promise<void> {
    await q.deleteFrom('pushDevices').where('userId', '=', userId).execute();
  }
}
